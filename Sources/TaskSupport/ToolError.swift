/// A failure of the task libraries or the tools' shared code that is not a model or checkpoint
/// error; `description` is the whole message the tool prints.
public struct ToolError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}
