import Foundation

/// The one checkpoint format of `lm` and `kws`: a safetensors file (docs/CHECKPOINTS.md).
///
/// Tensors: every model parameter under its own name (`embedding.weight`, `lem.inp2hid.weight`,
/// …, so `safetensors.numpy.load_file` gives a PyTorch-style state dict); for a resumable
/// checkpoint also the optimiser state as `optimizer.m.<name>` / `optimizer.v.<name>`, and any
/// tensors of the tool's own (`extra.<name>`, e.g. the carried recurrent state of `lm`).
///
/// Metadata (all strings, as safetensors requires):
///
///     format          "lem-checkpoint"
///     format_version  "1"
///     kind            "lm" or "kws": which tool wrote it
///     model           JSON: the model configuration (LanguageModelConfig / SequenceClassifierConfig)
///     tool            JSON: the tool's own data (vocabulary, labels, feature settings, normalisation)
///     training        JSON: the training progress (Training/TrainingProgress), only in
///                     resumable checkpoints
///     quantization    "int8 per-row symmetric" in a checkpoint written by `lm/kws quantize`
///                     (Checkpoint+Int8.swift); absent otherwise
///     crc32           checksum over everything else (see SafeTensorsFile.serialized)
public struct Checkpoint: Sendable {
    public static let format = "lem-checkpoint"
    public static let currentVersion = 1

    public var kind: String
    public var modelJSON: String
    public var toolJSON: String
    /// The training state of a resumable checkpoint as JSON text (decoded by Training/), else nil.
    public var trainingJSON: String?
    /// The tensors (parameters, optimiser state, extras) and metadata.
    public internal(set) var file: SafeTensorsFile
    /// Where it was read from, for error messages ("(new checkpoint)" before it is written).
    public private(set) var path: String
    /// `Checkpoint.int8Quantization` when the weights were stored as int8 (they are read back
    /// as their dequantized values, and the tools then run int8 inference); nil otherwise.
    public internal(set) var quantization: String?

    /// A checkpoint of `parameters` (the model's block, under its tensor names), with the model's
    /// and the tool's settings, and any tensors of the tool's own as `extra.<name>`.
    public init<Model: Encodable, Tool: Encodable>(
        kind: String, model: Model, tool: Tool, parameters: ParameterBlock, extra: [String: (shape: [Int], values: [Float])] = [:]
    ) {
        self.kind = kind
        modelJSON = Self.encode(model)
        toolJSON = Self.encode(tool)
        path = "(new checkpoint)"
        file = SafeTensorsFile()
        parameters.store(into: &file)
        for (name, tensor) in extra { file.add("extra." + name, shape: tensor.shape, floats: tensor.values) }
    }

    /// Adds a second set of values laid out as `parameters` (an optimiser's moments), under
    /// `prefix + name`.
    mutating func store(_ values: UnsafeMutablePointer<Float>, laidOutAs parameters: ParameterBlock, prefix: String) {
        parameters.store(into: &file, prefix: prefix, from: values)
    }

    /// Adds a flat F64 tensor (state that must survive a resume exactly, such as a running sum).
    mutating func store(_ name: String, doubles: [Double]) {
        file.add(name, shape: [doubles.count], doubles: doubles)
    }

    /// Copies the tensors `prefix + name` into `values`, laid out as `parameters`.
    func load(_ values: UnsafeMutablePointer<Float>, laidOutAs parameters: ParameterBlock, prefix: String) throws {
        do { try parameters.load(from: file, prefix: prefix, into: values) } catch let e as SafeTensorsError {
            throw CheckpointError(path: path, problem: e.problem)
        }
    }

    /// Whether some tensor's name starts with `prefix`.
    func hasTensors(prefix: String) -> Bool { file.tensors.keys.contains { $0.hasPrefix(prefix) } }

    /// Writes the checkpoint atomically (temporary file, fsync, rename): an interrupted write
    /// leaves any previous file at `path` intact.
    public func write(to path: String) throws {
        var out = file
        out.metadata = [
            "format": Self.format, "format_version": String(Self.currentVersion), "kind": kind,
            "model": modelJSON, "tool": toolJSON,
        ]
        if let trainingJSON { out.metadata["training"] = trainingJSON }
        if let quantization { out.metadata["quantization"] = quantization }
        do { try out.write(atomicallyTo: path) } catch let e as SafeTensorsError {
            throw CheckpointError(path: path, problem: e.problem)
        }
    }

    /// Rewrites the tool data of the checkpoint at `path` in place (atomically), leaving every
    /// tensor and the other metadata as stored (an int8 checkpoint stays int8): `update` gets the
    /// tool JSON as a dictionary. Used to store settings chosen after training, such as a
    /// spotter's detection thresholds.
    public static func updateTool(path: String, expectedKind: String, _ update: (inout [String: Any]) throws -> Void) throws {
        _ = try read(path: path, expectedKind: expectedKind)   // every check of a read
        var file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(path: path) } catch let e as SafeTensorsError {
            throw CheckpointError(path: path, problem: e.problem)
        }
        guard let text = file.metadata["tool"], var tool = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw CheckpointError(path: path, problem: "corrupt checkpoint: unreadable tool data")
        }
        try update(&tool)
        let data = try JSONSerialization.data(withJSONObject: tool, options: [.sortedKeys])
        file.metadata["tool"] = String(decoding: data, as: UTF8.self)
        do { try file.write(atomicallyTo: path) } catch let e as SafeTensorsError {
            throw CheckpointError(path: path, problem: e.problem)
        }
    }

    /// Reads and validates a checkpoint written by `expectedKind` ("lm" or "kws").
    ///
    /// Errors name the file and the problem: missing or unreadable, truncated or corrupt (the
    /// checksum), not a lem checkpoint, written by a newer version, or written by the other tool.
    public static func read(path: String, expectedKind: String) throws -> Checkpoint {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(path: path) } catch let e as SafeTensorsError {
            throw CheckpointError(path: path, problem: e.problem)
        }
        return try validate(file, path: path, expectedKind: expectedKind)
    }

    /// `read` for bytes already in memory (`source` names them in errors).
    public static func decode(_ bytes: [UInt8], source: String, expectedKind: String) throws -> Checkpoint {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile.parse(bytes, source: source) } catch let e as SafeTensorsError {
            throw CheckpointError(path: source, problem: e.problem)
        }
        return try validate(file, path: source, expectedKind: expectedKind)
    }

    /// The checkpoint in a safetensors file already parsed (`read` and `decode` end here): the
    /// lem checks of its metadata, with errors naming `path`.
    public static func validate(_ file: SafeTensorsFile, path: String, expectedKind: String) throws -> Checkpoint {
        func fail(_ problem: String) -> CheckpointError { CheckpointError(path: path, problem: problem) }
        guard file.metadata["format"] == format else {
            throw fail("not a lem checkpoint (a safetensors file without format \"\(format)\" in its metadata)")
        }
        guard let versionText = file.metadata["format_version"], let version = Int(versionText), version >= 1 else {
            throw fail("corrupt checkpoint: missing or invalid format_version")
        }
        guard version <= currentVersion else {
            throw fail("written by a newer version of lem (checkpoint format \(version); this build reads up to \(currentVersion)); update lem")
        }
        guard file.hasVerifiedChecksum else { throw fail("corrupt checkpoint: its checksum is missing") }
        guard let kind = file.metadata["kind"] else { throw fail("corrupt checkpoint: no kind") }
        guard kind == expectedKind else {
            throw fail("this is a \(kind) checkpoint, not a \(expectedKind) checkpoint (use `\(kind)` with it)")
        }
        guard let model = file.metadata["model"], let tool = file.metadata["tool"] else {
            throw fail("corrupt checkpoint: model or tool settings missing")
        }
        var checkpoint = Checkpoint(kind: kind, modelJSON: model, toolJSON: tool, trainingJSON: file.metadata["training"], file: file, path: path)
        checkpoint.file.metadata = [:]
        if let quantization = file.metadata["quantization"] { try checkpoint.dequantize(quantization) }
        return checkpoint
    }

    /// Checks that the file holds every tensor of `layout` with exactly its shape. Call it before
    /// building a model from settings read from the file: the tensors' sizes are bounded by the
    /// file's length, so a lying configuration cannot make the loader allocate more than that.
    public func checkLayout(_ layout: LayoutBuilder) throws {
        for (name, shape) in layout.entries {
            guard let stored = file.tensors[name] else { throw CheckpointError(path: path, problem: "missing tensor \"\(name)\"") }
            guard stored.shape == shape else {
                throw CheckpointError(path: path, problem: "tensor \"\(name)\" has shape \(stored.shape), the model settings need \(shape)")
            }
        }
    }

    private init(kind: String, modelJSON: String, toolJSON: String, trainingJSON: String?, file: SafeTensorsFile, path: String) {
        (self.kind, self.modelJSON, self.toolJSON, self.trainingJSON, self.file, self.path) = (kind, modelJSON, toolJSON, trainingJSON, file, path)
    }

    /// Decodes the model configuration.
    public func model<T: Decodable>(_ type: T.Type) throws -> T { try decode(type, modelJSON, "model settings") }
    /// Decodes the tool's own data.
    public func tool<T: Decodable>(_ type: T.Type) throws -> T { try decode(type, toolJSON, "tool data") }

    /// Copies the parameters into `parameters` (names and shapes must match the model exactly).
    public func loadParameters(into parameters: ParameterBlock) throws {
        do { try parameters.load(from: file) } catch let e as SafeTensorsError {
            throw CheckpointError(path: path, problem: e.problem)
        }
    }

    /// A tool's extra tensor, or nil if absent.
    public func extra(_ name: String) throws -> [Float]? {
        guard file.tensors["extra." + name] != nil else { return nil }
        do { return try file.floats("extra." + name) } catch let e as SafeTensorsError {
            throw CheckpointError(path: path, problem: e.problem)
        }
    }

    func decode<T: Decodable>(_ type: T.Type, _ json: String, _ what: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = Checkpoint.nonFinite.decoding
        do { return try decoder.decode(type, from: Data(json.utf8)) } catch {
            throw CheckpointError(path: path, problem: "unreadable \(what) (\(error))")
        }
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // A non-finite number (a diverged run's metric) is written as a string, which JSON has
        // no number for; with that, encoding plain Codable structs of numbers and strings cannot fail.
        encoder.nonConformingFloatEncodingStrategy = nonFinite.encoding
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }

    /// How the JSON sections write and read ±∞ and NaN: as the strings "inf", "-inf", "nan".
    static let nonFinite = (encoding: JSONEncoder.NonConformingFloatEncodingStrategy.convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan"),
                            decoding: JSONDecoder.NonConformingFloatDecodingStrategy.convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan"))
}

/// A checkpoint that cannot be read or written; `description` is "<path>: <problem>".
public struct CheckpointError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public init(path: String, problem: String) { (self.path, self.problem) = (path, problem) }
    public var description: String { "\(path): \(problem)" }
}
