// The safetensors file layer: checkpoints and test fixtures.
//
// Format (Hugging Face safetensors, readable by Python's `safetensors` package):
//
//     [8 bytes]  N, little-endian UInt64: the header length
//     [N bytes]  UTF-8 JSON object, padded with spaces so that 8 + N is a multiple of 8:
//                {"__metadata__": {"k": "v", ...},
//                 "tensor name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//     [rest]     the data section: raw little-endian values; every tensor's bytes are
//                data[begin..<end]; tensors are contiguous, without gaps, and cover it exactly.
//
// On top of the format, files written here carry a CRC-32 in the metadata entries "crc32" and
// "crc32_scheme" (see `SafeTensorsFile.serialized()`); `parse` verifies it when present. The header
// JSON is read and written by `SafeTensorsHeader` (Foundation's JSONSerialization), the bytes go
// to and from disk through `FileIO.swift`; this file checks the entries against the data section
// and owns the layout and checksum.

// MARK: - Public types

/// The element types this layer reads and writes, spelled as in the safetensors header.
public enum TensorDType: String, Sendable, CaseIterable {
    /// 32-bit IEEE float (`numpy.float32`).
    case f32 = "F32"
    /// 64-bit IEEE float (`numpy.float64`).
    case f64 = "F64"
    /// 32-bit signed integer (`numpy.int32`).
    case i32 = "I32"
    /// 64-bit signed integer (`numpy.int64`).
    case i64 = "I64"
    /// 8-bit signed integer (`numpy.int8`): the weights of an int8-quantised checkpoint.
    case i8 = "I8"

    /// Bytes per element: 1 for `I8`, 4 for `F32`/`I32`, 8 for `F64`/`I64`.
    public var byteSize: Int {
        switch self {
        case .i8: return 1
        case .f32, .i32: return 4
        case .f64, .i64: return 8
        }
    }
}

/// One tensor as stored: its element type, shape and raw little-endian bytes.
///
/// Invariant (guaranteed by ``SafeTensorsFile``, the only producer):
/// `bytes.count == shape.reduce(1, *) * dtype.byteSize`.
public struct StoredTensor: Sendable, Equatable {
    /// The element type.
    public let dtype: TensorDType
    /// The dimensions, outermost first (row-major). `[]` is a scalar with one element.
    public let shape: [Int]
    /// The elements, little-endian, row-major.
    public let bytes: [UInt8]

    /// Number of elements (the product of `shape`; 1 for a scalar).
    public var elementCount: Int { bytes.count / dtype.byteSize }
}

/// A failure to read, parse, query or write a safetensors file.
///
/// `description` is `"<source>: <problem>"`, e.g.
/// `"/ckpt/model.safetensors: truncated: tensor \"w\" ends at byte 48, data section has 40"`.
public struct SafeTensorsError: Error, CustomStringConvertible {
    /// The file path (or the `source` name given to ``SafeTensorsFile/parse(_:source:)``).
    public let source: String
    /// What went wrong, in plain words.
    public let problem: String

    /// Makes an error.
    public init(source: String, problem: String) {
        self.source = source
        self.problem = problem
    }

    /// `"<source>: <problem>"`.
    public var description: String { "\(source): \(problem)" }
}

/// An in-memory safetensors file: string metadata plus named tensors.
///
/// Build one with ``init(metadata:)`` and the `add` methods, then ``serialized()`` or
/// ``write(atomicallyTo:)``; or load one with ``read(path:)`` / ``parse(_:source:)`` and query it
/// with ``floats(_:)``, ``copyFloats(_:into:)``, ``int64s(_:)`` and ``shape(_:)``.
///
/// Names and metadata keys are Swift strings, so two spellings that are canonically equivalent in
/// Unicode (e.g. a precomposed and a decomposed "é") are the same name; a file that contains both
/// is rejected by `parse` as having a duplicate.
public struct SafeTensorsFile: Sendable {
    /// String→string metadata (the header's `"__metadata__"` object).
    ///
    /// The keys `"crc32"` and `"crc32_scheme"` are reserved: ``serialized()`` overwrites them with
    /// the file's checksum, and ``parse(_:source:)`` removes them after verifying it, so after a
    /// round trip `metadata` holds exactly what the writer put there.
    public var metadata: [String: String]

    /// The tensors by name.
    public private(set) var tensors: [String: StoredTensor]

    /// Names the file is called in error messages: the path for ``read(path:)``, the `source`
    /// argument for ``parse(_:source:)``, and `"(in-memory safetensors)"` for a new file.
    public var source: String

    /// `true` when this value came from ``parse(_:source:)`` / ``read(path:)`` of a file that had
    /// checksum entries and the checksum matched. `false` for files without a checksum
    /// (e.g. written by Python) and for files built in memory. Callers that load their own
    /// checkpoints can require it to rule out silent corruption.
    public private(set) var hasVerifiedChecksum: Bool

    /// Tensor names, sorted by their UTF-8 bytes.
    public var names: [String] { tensors.keys.sorted(by: utf8Precedes) }

    /// An empty file with the given metadata.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
        self.tensors = [:]
        self.source = "(in-memory safetensors)"
        self.hasVerifiedChecksum = false
    }

    // MARK: Adding tensors

    /// Adds (or replaces) an `F32` tensor, copying `floats`.
    ///
    /// - Precondition: `name` is not `"__metadata__"`, every entry of `shape` is ≥ 0, and
    ///   `floats.count` equals the product of `shape` (1 for `[]`). These are programming errors,
    ///   so they trap rather than throw.
    public mutating func add(_ name: String, shape: [Int], floats: UnsafeBufferPointer<Float>) {
        let count = Self.checkedElementCount(name: name, shape: shape, given: floats.count)
        let bytes = [UInt8](unsafeUninitializedCapacity: count * 4) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for index in 0..<count {
                raw.storeBytes(of: floats[index].bitPattern.littleEndian, toByteOffset: index * 4, as: UInt32.self)
            }
            initialized = count * 4
        }
        tensors[name] = StoredTensor(dtype: .f32, shape: shape, bytes: bytes)
    }

    /// Adds (or replaces) an `F32` tensor. Same preconditions as the buffer-pointer variant.
    public mutating func add(_ name: String, shape: [Int], floats: [Float]) {
        floats.withUnsafeBufferPointer { add(name, shape: shape, floats: $0) }
    }

    /// Adds (or replaces) an `F64` tensor. Same preconditions as the `floats:` variants.
    public mutating func add(_ name: String, shape: [Int], doubles: [Double]) {
        let count = Self.checkedElementCount(name: name, shape: shape, given: doubles.count)
        tensors[name] = StoredTensor(dtype: .f64, shape: shape,
                                     bytes: Self.littleEndianBytes(count: count, width: 8) { doubles[$0].bitPattern })
    }

    /// Adds (or replaces) an `I64` tensor. Same preconditions as the `floats:` variants.
    public mutating func add(_ name: String, shape: [Int], int64s: [Int64]) {
        let count = Self.checkedElementCount(name: name, shape: shape, given: int64s.count)
        tensors[name] = StoredTensor(dtype: .i64, shape: shape,
                                     bytes: Self.littleEndianBytes(count: count, width: 8) { UInt64(bitPattern: int64s[$0]) })
    }

    /// Adds (or replaces) an `I32` tensor. Same preconditions as the `floats:` variants.
    public mutating func add(_ name: String, shape: [Int], int32s: [Int32]) {
        let count = Self.checkedElementCount(name: name, shape: shape, given: int32s.count)
        tensors[name] = StoredTensor(dtype: .i32, shape: shape,
                                     bytes: Self.littleEndianBytes(count: count, width: 4) { UInt64(UInt32(bitPattern: int32s[$0])) })
    }

    /// Adds (or replaces) an `I8` tensor. Same preconditions as the `floats:` variants.
    public mutating func add(_ name: String, shape: [Int], int8s: [Int8]) {
        let count = Self.checkedElementCount(name: name, shape: shape, given: int8s.count)
        tensors[name] = StoredTensor(dtype: .i8, shape: shape, bytes: Self.littleEndianBytes(count: count, width: 1) { UInt64(UInt8(bitPattern: int8s[$0])) })
    }

    /// Removes a tensor (no effect if absent).
    public mutating func remove(_ name: String) {
        tensors[name] = nil
    }

    // MARK: Reading tensors

    /// The shape of tensor `name`; throws if there is no such tensor.
    public func shape(_ name: String) throws -> [Int] {
        try tensor(name).shape
    }

    /// The elements of tensor `name` as `Float`: `F32` returned as stored, `F64` rounded to the
    /// nearest `Float`. Throws if the tensor is missing or has an integer dtype.
    public func floats(_ name: String) throws -> [Float] {
        let stored = try floatTensor(name)
        let count = stored.elementCount
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            Self.decodeFloats(stored, into: buffer)
            initialized = count
        }
    }

    /// The elements of tensor `name` as `Double`: `F64` exactly, `F32` widened. Throws if the
    /// tensor is missing or has an integer dtype.
    public func doubles(_ name: String) throws -> [Double] {
        let stored = try floatTensor(name)
        return stored.bytes.withUnsafeBytes { raw in
            (0..<stored.elementCount).map { index in
                stored.dtype == .f64
                    ? Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)))
                    : Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))))
            }
        }
    }

    /// Copies the elements of tensor `name` into `destination` (converting `F64` to `Float`).
    ///
    /// Throws, leaving `destination` untouched, if the tensor is missing, has an integer dtype, or
    /// its element count (the product of its shape) differs from `destination.count`.
    public func copyFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let stored = try floatTensor(name)
        guard stored.elementCount == destination.count else {
            throw error("tensor \(quoted(name)) has shape \(stored.shape) = \(stored.elementCount) elements, "
                        + "but the destination holds \(destination.count)")
        }
        Self.decodeFloats(stored, into: destination)
    }

    /// The elements of tensor `name` as `Int64`: `I64` as stored, `I32` and `I8` widened. Throws
    /// if the tensor is missing or has a floating-point dtype.
    public func int64s(_ name: String) throws -> [Int64] {
        let stored = try tensor(name)
        let width: Int
        switch stored.dtype {
        case .i64: width = 8
        case .i32: width = 4
        case .i8: width = 1
        case .f32, .f64:
            throw error("tensor \(quoted(name)) has floating-point dtype \(stored.dtype.rawValue), not I64, I32 or I8")
        }
        return stored.bytes.withUnsafeBytes { raw in
            (0..<stored.elementCount).map { index in
                switch width {
                case 8: return Int64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: Int64.self))
                case 4: return Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: Int32.self)))
                default: return Int64(raw.load(fromByteOffset: index, as: Int8.self))
                }
            }
        }
    }

    // MARK: Serializing

    /// The complete file, deterministic for given contents.
    ///
    /// Layout:
    /// - The header JSON is compact (no whitespace), with `"__metadata__"` first and then the
    ///   tensor entries in sorted name order; keys inside every object are sorted
    ///   (`"data_offsets"`, `"dtype"`, `"shape"`; metadata keys by UTF-8 bytes). It is padded with
    ///   spaces so that 8 + N is a multiple of 8.
    /// - In the data section, tensors with 8-byte elements come first, then those with 4-byte
    ///   elements, each group in sorted name order (the reference implementation's convention:
    ///   every tensor then starts at a multiple of its element size, so memory-mapped readers get
    ///   aligned data). Tensors are contiguous and cover the data section exactly.
    /// - Sorting of names and keys is by UTF-8 bytes.
    ///
    /// Integrity: two metadata entries are set, replacing any values in ``metadata``:
    /// - `"crc32_scheme": "lem-v1"`, naming the canonical string below;
    /// - `"crc32"`: 8 lowercase hex digits of the CRC-32 (IEEE, as zlib) of this canonical byte
    ///   string, where `u64(x)` is `x` as 8 little-endian bytes and `str(s)` is
    ///   `u64(byte count of s in UTF-8)` followed by those UTF-8 bytes:
    ///
    ///     u64(number of metadata entries other than "crc32" and "crc32_scheme")
    ///     for each such metadata key k, by UTF-8 bytes of k:  str(k) str(value)
    ///     u64(number of tensors)
    ///     for each tensor, by UTF-8 bytes of its name:
    ///         str(name) str(dtype, e.g. "F32") u64(rank) u64(dim) for each dim
    ///         u64(begin) u64(end)                      -- its data_offsets
    ///     the whole data section
    ///
    /// The length prefixes make the encoding unambiguous even for names containing NUL bytes, and
    /// because it describes the parsed content rather than the header text, it is the same for
    /// any header spelling (key order, whitespace) of the same content.
    ///
    /// Why two entries: with `"crc32"` alone, a single flipped bit in that key's name (say
    /// `"brc32"`) would turn a corrupt file into an apparently valid file without a checksum. A
    /// reader requires both entries or neither, so one damaged key name is always detected.
    public func serialized() -> [UInt8] {
        let sortedNames = names
        let layoutOrder = sortedNames.enumerated().sorted { a, b in
            let sizeA = tensors[a.element]!.dtype.byteSize, sizeB = tensors[b.element]!.dtype.byteSize
            return sizeA != sizeB ? sizeA > sizeB : a.offset < b.offset
        }.map(\.element)

        var data = [UInt8]()
        data.reserveCapacity(tensors.values.reduce(0) { $0 + $1.bytes.count })
        var offsets: [String: (begin: Int, end: Int)] = [:]
        for name in layoutOrder {
            let begin = data.count
            data.append(contentsOf: tensors[name]!.bytes)
            offsets[name] = (begin, data.count)
        }

        var fullMetadata = metadata
        fullMetadata[Self.checksumKey] = nil
        fullMetadata[Self.checksumSchemeKey] = nil
        let entries = sortedNames.map { name in
            let stored = tensors[name]!
            return HeaderEntry(name: name, dtype: stored.dtype.rawValue, shape: stored.shape,
                               offsets: [offsets[name]!.begin, offsets[name]!.end])
        }
        let checksum = Self.canonicalChecksum(metadata: fullMetadata, sortedEntries: entries, data: data[...])
        fullMetadata[Self.checksumKey] = hex8(checksum)
        fullMetadata[Self.checksumSchemeKey] = Self.checksumScheme

        var headerBytes = SafeTensorsHeader.serialize(metadata: fullMetadata, entries: entries)
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }

        var file = [UInt8]()
        file.reserveCapacity(8 + headerBytes.count + data.count)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: headerBytes)
        file.append(contentsOf: data)
        return file
    }

    // MARK: Parsing

    /// Largest header accepted, in bytes (100 MB). Real headers are a few KB; the limit stops a
    /// corrupt length field from causing a huge allocation.
    public static let maximumHeaderLength = 100_000_000

    /// Parses a complete file held in memory. `source` names it in error messages.
    ///
    /// Checks, each failing with a ``SafeTensorsError`` (never a trap, and never an allocation
    /// larger than the input):
    /// - at least 8 bytes; header length ≤ the bytes that follow and ≤ ``maximumHeaderLength``;
    /// - the header is UTF-8 JSON, a single object (trailing whitespace allowed), no duplicate keys;
    /// - `"__metadata__"` (optional, may be `null`) maps strings to strings;
    /// - every other entry has exactly `"dtype"` (F32, F64, I32, I64 or I8), `"shape"` (non-negative
    ///   integers whose product does not overflow) and `"data_offsets"` (`[begin, end]`,
    ///   `begin ≤ end`) with `end - begin == product(shape) * byte size`;
    /// - tensors lie inside the data section, do not overlap, leave no gaps and cover it exactly;
    /// - when metadata has `"crc32"` or `"crc32_scheme"`, it has both, the scheme is `"lem-v1"`,
    ///   and `"crc32"` is 8 lowercase hex digits equal to the checksum described at
    ///   ``serialized()`` (then ``hasVerifiedChecksum`` is `true` and both entries are removed from
    ///   ``metadata``). Files with neither (e.g. written by Python) are accepted unverified.
    public static func parse(_ bytes: [UInt8], source: String) throws -> SafeTensorsFile {
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(source: source, problem: problem) }

        guard bytes.count >= 8 else {
            throw fail("truncated: too short to be a safetensors file (\(bytes.count) bytes, need at least 8)")
        }
        let declared = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        let remaining = bytes.count - 8
        guard declared <= UInt64(remaining) else {
            throw fail("truncated or not a safetensors file: header says \(declared) bytes, "
                       + "file has \(remaining) after the 8-byte length field")
        }
        guard declared <= UInt64(maximumHeaderLength) else {
            throw fail("not a safetensors file: header says \(declared) bytes, "
                       + "more than the \(maximumHeaderLength)-byte limit")
        }
        let headerLength = Int(declared)
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart

        let header: (metadata: [String: String], entries: [HeaderEntry])
        do {
            header = try bytes.withUnsafeBufferPointer { all in
                try SafeTensorsHeader.parse(UnsafeBufferPointer(rebasing: all[8..<dataStart]))
            }
        } catch let problem as HeaderProblem {
            throw fail(problem.text)
        }

        // Per-tensor checks, in name order so that messages are deterministic.
        let entries = header.entries.sorted { utf8Precedes($0.name, $1.name) }
        var dtypes: [TensorDType] = []
        dtypes.reserveCapacity(entries.count)
        for entry in entries {
            let name = quoted(entry.name)
            guard let dtype = TensorDType(rawValue: entry.dtype) else {
                throw fail("unsupported dtype \(quoted(entry.dtype)) for tensor \(name) "
                           + "(supported: F32, F64, I32, I64, I8)")
            }
            var count = 1
            for dim in entry.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dim)
                guard !overflow else { throw fail("tensor \(name): shape \(entry.shape) has too many elements (overflow)") }
                count = product
            }
            let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow else { throw fail("tensor \(name): shape \(entry.shape) has too many elements (overflow)") }
            let begin = entry.offsets[0], end = entry.offsets[1]
            guard begin <= end else {
                throw fail("tensor \(name): data_offsets [\(begin), \(end)] end before they begin")
            }
            guard end - begin == byteCount else {
                throw fail("tensor \(name): data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but dtype "
                           + "\(dtype.rawValue) and shape \(entry.shape) need \(byteCount)")
            }
            guard end <= dataLength else {
                throw fail("truncated: tensor \(name) ends at byte \(end), data section has \(dataLength)")
            }
            dtypes.append(dtype)
        }

        // Coverage: sorted by position, each tensor must start where the previous one ended.
        let byPosition = entries.indices.sorted {
            (entries[$0].offsets[0], entries[$0].offsets[1]) < (entries[$1].offsets[0], entries[$1].offsets[1])
        }
        var position = 0
        var previous: String?
        for index in byPosition {
            let entry = entries[index]
            let begin = entry.offsets[0]
            if begin > position {
                throw fail("gap in the data section: bytes \(position)..<\(begin) belong to no tensor")
            }
            if begin < position {
                throw fail("tensors \(quoted(previous ?? "")) and \(quoted(entry.name)) overlap in the data section")
            }
            position = entry.offsets[1]
            previous = entry.name
        }
        guard position == dataLength else {
            throw fail("trailing bytes: the data section has \(dataLength) bytes but the tensors end at byte \(position)")
        }

        // Checksum.
        var metadata = header.metadata
        var verified = false
        let stated = metadata.removeValue(forKey: checksumKey)
        let scheme = metadata.removeValue(forKey: checksumSchemeKey)
        if stated != nil || scheme != nil {
            guard let stated, let scheme else {
                let (present, absent) = stated == nil ? (checksumSchemeKey, checksumKey) : (checksumKey, checksumSchemeKey)
                throw fail("checksum entry \(quoted(absent)) is missing although \(quoted(present)) is present: "
                           + "the file is corrupt")
            }
            guard scheme == checksumScheme else {
                throw fail("unsupported checksum scheme \(quoted(scheme)) (expected \(quoted(checksumScheme))): "
                           + "the file is corrupt or from a newer writer")
            }
            let isLowerHex = stated.utf8.count == 8
                && stated.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
            guard isLowerHex else {
                throw fail("checksum entry \"crc32\" is malformed (\(quoted(stated)), expected 8 lowercase hex digits): "
                           + "the file is corrupt")
            }
            let computed = hex8(canonicalChecksum(metadata: metadata, sortedEntries: entries,
                                                  data: bytes[dataStart...]))
            guard computed == stated else {
                throw fail("checksum mismatch: the file is corrupt (expected \(stated), found \(computed))")
            }
            verified = true
        }

        var file = SafeTensorsFile(metadata: metadata)
        file.source = source
        file.hasVerifiedChecksum = verified
        for (entry, dtype) in zip(entries, dtypes) {
            let range = (dataStart + entry.offsets[0])..<(dataStart + entry.offsets[1])
            file.tensors[entry.name] = StoredTensor(dtype: dtype, shape: entry.shape, bytes: Array(bytes[range]))
        }
        return file
    }

    // MARK: Files

    /// Reads and parses the file at `path`. Errors name the path, e.g.
    /// `"x.safetensors: cannot open: No such file or directory"`; directories and other
    /// non-regular files are rejected.
    public static func read(path: String) throws -> SafeTensorsFile {
        try parse(readWholeFile(path), source: path)
    }

    /// Writes ``serialized()`` to `path` so that a reader never sees a half-written file there.
    ///
    /// Steps: write to `<path>.tmp-<pid>` in the same directory, `fsync` it, `rename` it over
    /// `path` (replacing any existing file), then `fsync` the directory so the rename is durable.
    /// On failure the temporary file is removed and a ``SafeTensorsError`` naming `path` and the
    /// system's reason is thrown; an existing file at `path` is then unchanged.
    ///
    /// Two threads of one process must not write the same path at the same time (they would share
    /// the temporary name).
    public func write(atomicallyTo path: String) throws {
        try writeFileAtomically(serialized(), to: path)
    }

    // MARK: - Private helpers

    /// Reserved metadata keys and the scheme name (see ``serialized()``).
    private static let checksumKey = "crc32"
    private static let checksumSchemeKey = "crc32_scheme"
    private static let checksumScheme = "lem-v1"

    private func error(_ problem: String) -> SafeTensorsError {
        SafeTensorsError(source: source, problem: problem)
    }

    private func tensor(_ name: String) throws -> StoredTensor {
        guard let stored = tensors[name] else {
            throw error("no tensor named \(quoted(name)) (the file has \(tensors.count): "
                        + names.prefix(20).map(quoted).joined(separator: ", ")
                        + (tensors.count > 20 ? ", …" : "") + ")")
        }
        return stored
    }

    private func floatTensor(_ name: String) throws -> StoredTensor {
        let stored = try tensor(name)
        guard stored.dtype == .f32 || stored.dtype == .f64 else {
            throw error("tensor \(quoted(name)) has integer dtype \(stored.dtype.rawValue), not F32 or F64")
        }
        return stored
    }

    private static func decodeFloats(_ stored: StoredTensor, into destination: UnsafeMutableBufferPointer<Float>) {
        stored.bytes.withUnsafeBytes { raw in
            if stored.dtype == .f32 {
                for index in 0..<stored.elementCount {
                    destination[index] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
                }
            } else {
                for index in 0..<stored.elementCount {
                    destination[index] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))))
                }
            }
        }
    }

    /// Checks the `add` preconditions and returns the element count.
    private static func checkedElementCount(name: String, shape: [Int], given: Int) -> Int {
        precondition(name != "__metadata__", "\"__metadata__\" cannot be a tensor name")
        var count = 1
        for dim in shape {
            precondition(dim >= 0, "tensor \(quoted(name)): negative dimension in shape \(shape)")
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            precondition(!overflow, "tensor \(quoted(name)): shape \(shape) overflows")
            count = product
        }
        precondition(count == given, "tensor \(quoted(name)): shape \(shape) has \(count) elements but \(given) values were given")
        return count
    }

    private static func littleEndianBytes(count: Int, width: Int, _ element: (Int) -> UInt64) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count * width) { buffer, initialized in
            for index in 0..<count {
                var bits = element(index)
                for byte in 0..<width {
                    buffer[index * width + byte] = UInt8(truncatingIfNeeded: bits)
                    bits >>= 8
                }
            }
            initialized = count * width
        }
    }

    /// CRC-32 of the canonical byte string documented at ``serialized()``. `metadata` must not
    /// contain the reserved keys; `sortedEntries` must be sorted by UTF-8 bytes of the name.
    private static func canonicalChecksum(metadata: [String: String], sortedEntries: [HeaderEntry],
                                          data: ArraySlice<UInt8>) -> UInt32 {
        var crc = CRC32()
        func string(_ text: String) {
            let utf8 = Array(text.utf8)
            crc.update(uint64: UInt64(utf8.count))
            crc.update(utf8)
        }
        crc.update(uint64: UInt64(metadata.count))
        for key in metadata.keys.sorted(by: utf8Precedes) {
            string(key)
            string(metadata[key]!)
        }
        crc.update(uint64: UInt64(sortedEntries.count))
        for entry in sortedEntries {
            string(entry.name)
            string(entry.dtype)
            crc.update(uint64: UInt64(entry.shape.count))
            for dim in entry.shape { crc.update(uint64: UInt64(dim)) }
            crc.update(uint64: UInt64(entry.offsets[0]))
            crc.update(uint64: UInt64(entry.offsets[1]))
        }
        crc.update(data)
        return crc.value
    }
}

// MARK: - Small utilities

/// `value` as 8 lowercase hex digits.
private func hex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
}
