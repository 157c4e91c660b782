/// The token ↔ id map of a language model, stored in its checkpoint and reused for evaluation
/// and sampling.
public struct Vocabulary: Codable, Sendable, Equatable {
    /// Tokens by id.
    public let tokens: [String]
    private var ids: [String: Int32]

    public init(tokens: [String]) throws {
        var ids: [String: Int32] = [:]
        for (i, t) in tokens.enumerated() {
            guard ids[t] == nil else { throw TextError(file: "vocabulary", problem: "duplicate token \"\(t)\"") }
            ids[t] = Int32(i)
        }
        self.tokens = tokens
        self.ids = ids
    }

    enum CodingKeys: String, CodingKey { case tokens }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(tokens: try c.decode([String].self, forKey: .tokens))
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tokens, forKey: .tokens)
    }

    public var count: Int { tokens.count }
    public func id(_ token: String) -> Int32? { ids[token] }
    public var unknownID: Int32? { ids[unknownToken] }

    /// Ids of `tokens`; a token outside the vocabulary becomes `<unk>` when the vocabulary has it,
    /// otherwise it is an error naming the file, the token and how many such tokens there are.
    public func encode(_ tokens: [String], file: String) throws -> [Int32] {
        var out = [Int32](repeating: 0, count: tokens.count)
        var missing: [String] = []
        var missingCount = 0
        let unk = unknownID
        for (i, t) in tokens.enumerated() {
            if let id = ids[t] { out[i] = id; continue }
            if let unk { out[i] = unk; continue }
            missingCount += 1
            if missing.count < 3 && !missing.contains(t) { missing.append(t) }
        }
        if missingCount > 0 { throw Self.missingTokensError(file: file, count: missingCount, examples: missing) }
        return out
    }

    static func missingTokensError(file: String, count: Int, examples: [String]) -> TextError {
        let shown = examples.map { "\"\($0)\"" }.joined(separator: ", ")
        return TextError(file: file, problem: "\(count) token(s) are not in the model's vocabulary and it has no \(unknownToken) (e.g. \(shown)); was the model trained on other data?")
    }
}
