import CInt8

/// int8-quantised checkpoints (`lm quantize`, `kws quantize`): every weight matrix (each rank-2
/// parameter tensor) is stored as `I8` under its own name with its per-row scales beside it as
/// `<name>.scale` (`F32 [rows]`), W[j, :] ≈ scale[j] · q[j, :]; biases and other vectors stay
/// `F32`. The rule is `Int8Matrix`'s (max |row| / 127, round half to even), so the int8 products
/// of the loaded model use exactly the stored integers. The file is about a quarter of the
/// float one, holds no training state, and reads in Python as
///
///     w = q.astype(np.float32) * scale[:, None]      # q = tensors["lem.inp2hid.weight"], …
public extension Checkpoint {
    static let int8Quantization = "int8 per-row symmetric"

    var isQuantized: Bool { quantization != nil }

    /// This checkpoint with its weight matrices as int8 and without training state (optimiser
    /// moments, progress), ready to be written. The model, tool settings and extras are kept.
    func quantizedForInference() throws -> Checkpoint {
        guard !isQuantized else { throw CheckpointError(path: path, problem: "is already quantised (\(quantization!))") }
        var out = self
        out.trainingJSON = nil
        out.quantization = Self.int8Quantization
        for name in file.names {
            if name.hasPrefix("optimizer.") || name.hasPrefix("average.") {
                out.file.remove(name)
                continue
            }
            guard let stored = file.tensors[name], stored.dtype == .f32, stored.shape.count == 2, !name.hasPrefix("extra."),
                  stored.shape[0] > 0, stored.shape[1] > 0 else { continue }
            let (n, k) = (stored.shape[0], stored.shape[1])
            let w = try file.floats(name)
            let kp = Int(lem_int8_padded_k(Int32(k)))
            var unsigned = [UInt8](repeating: 0, count: n * kp), scales = [Float](repeating: 0, count: n)
            lem_int8_quantize_rows(w, Int32(n), Int32(k), Int32(k), &unsigned, &scales)
            var q = [Int8](repeating: 0, count: n * k)
            for j in 0..<n { for c in 0..<k { q[j * k + c] = Int8(Int(unsigned[j * kp + c]) - 128) } }
            out.file.add(name, shape: [n, k], int8s: q)
            out.file.add(name + ".scale", shape: [n], floats: scales)
        }
        return out
    }

    /// Replaces every `I8` tensor and its `.scale` by the dequantized `F32` tensor (reading).
    internal mutating func dequantize(_ scheme: String) throws {
        func fail(_ problem: String) -> CheckpointError { CheckpointError(path: path, problem: problem) }
        guard scheme == Self.int8Quantization else {
            throw fail("unknown quantization \"\(scheme)\" (this build reads \"\(Self.int8Quantization)\")")
        }
        quantization = scheme
        for name in file.names {
            guard let stored = file.tensors[name], stored.dtype == .i8 else { continue }
            guard stored.shape.count == 2 else { throw fail("int8 tensor \"\(name)\" has shape \(stored.shape); only matrices are quantised") }
            let (n, k) = (stored.shape[0], stored.shape[1])
            guard let scaleTensor = file.tensors[name + ".scale"], scaleTensor.dtype == .f32, scaleTensor.shape == [n] else {
                throw fail("int8 tensor \"\(name)\" has no F32 scales \"\(name).scale\" of shape [\(n)]")
            }
            let scales = try file.floats(name + ".scale")
            guard scales.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw fail("\"\(name).scale\" holds negative or non-finite scales") }
            let q = try file.int64s(name)
            var w = [Float](repeating: 0, count: n * k)
            for j in 0..<n { for c in 0..<k { w[j * k + c] = scales[j] * Float(q[j * k + c]) } }
            file.add(name, shape: [n, k], floats: w)
            file.remove(name + ".scale")
        }
        if trainingJSON != nil { throw fail("a quantised checkpoint cannot hold training state") }
    }
}
