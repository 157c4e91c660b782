extension ParameterBlock {
    /// Adds every parameter tensor to `file` under `prefix + name` (e.g. "" for weights,
    /// "adam.m." for optimiser moments stored in the same layout as `buffer`).
    public func store(into file: inout SafeTensorsFile, prefix: String = "", from buffer: UnsafeMutablePointer<Float>? = nil) {
        let base = buffer ?? values
        for spec in specs {
            file.add(prefix + spec.name, shape: spec.shape, floats: UnsafeBufferPointer(start: base + spec.offset, count: spec.count))
        }
    }

    /// Reads every parameter tensor from `file` (names `prefix + name`) into `buffer` (default:
    /// the values). Checks every name and shape first and changes nothing if one is missing or
    /// differs; the error says which.
    public func load(from file: SafeTensorsFile, prefix: String = "", into buffer: UnsafeMutablePointer<Float>? = nil) throws {
        for spec in specs {
            let name = prefix + spec.name
            guard let stored = file.tensors[name] else {
                throw SafeTensorsError(source: file.source, problem: "missing tensor \"\(name)\"")
            }
            guard stored.shape == spec.shape else {
                throw SafeTensorsError(source: file.source, problem: "tensor \"\(name)\" has shape \(stored.shape), the model needs \(spec.shape)")
            }
        }
        let base = buffer ?? values
        for spec in specs {
            try file.copyFloats(prefix + spec.name, into: UnsafeMutableBufferPointer(start: base + spec.offset, count: spec.count))
        }
    }
}
