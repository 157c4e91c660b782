/// A text input that cannot be used; `description` is "<file>: <problem>" (one line).
public struct TextError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    public init(file: String, problem: String) { (self.file, self.problem) = (file, problem) }
    public var description: String { "\(file): \(problem)" }
}
