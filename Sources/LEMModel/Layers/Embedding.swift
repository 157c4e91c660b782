/// Token embedding: row `token` of a `[V, m]` table per input token.
///
/// With weight tying (Press & Wolf 2017; Inan et al. 2017) the same table is the output layer's
/// weight (`Linear(weight: embedding.table, …)`), and both backward passes accumulate into its
/// one gradient.
public final class Embedding: @unchecked Sendable {
    public let table: Parameter   // [V, m]
    public var vocabularySize: Int { table.shape[0] }
    public var width: Int { table.shape[1] }

    public static func declare(_ layout: inout LayoutBuilder, name: String, vocabularySize: Int, width: Int) {
        layout.add(name, [vocabularySize, width])
    }

    public init(table: Parameter) { self.table = table }

    /// Uniform in [−range, range] (pytorch/examples word_language_model uses 0.1).
    public func initialize(_ rng: inout RandomGenerator, range: Float = 0.1) {
        rng.fillUniform(UnsafeMutableBufferPointer(start: table.value, count: table.count), -range, range)
    }

    /// output[n, :] = table[tokens[n], :]   (tokens [N], output [N, m]); tokens must be < V.
    public func forward(tokens: UnsafePointer<Int32>, count: Int, output: UnsafeMutablePointer<Float>) {
        let m = width
        for n in 0..<count {
            let tok = Int(tokens[n])
            precondition(tok >= 0 && tok < vocabularySize, "token id \(tok) outside the vocabulary")
            (output + n * m).update(from: table.value + tok * m, count: m)
        }
    }

    /// table.grad[tokens[n], :] += outputGrad[n, :]
    public func backward(tokens: UnsafePointer<Int32>, count: Int, outputGrad: UnsafePointer<Float>) {
        let m = width
        for n in 0..<count {
            let g = table.grad + Int(tokens[n]) * m, src = outputGrad + n * m
            for j in 0..<m { g[j] += src[j] }
        }
    }
}
