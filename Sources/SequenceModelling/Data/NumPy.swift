import Foundation
import TaskSupport
import LEMModel
import ZIPFoundation

/// A NumPy array from an `.npy` file (format versions 1–3), converted to Float: little-endian
/// `f4`, `f8`, `i1`, `u1`, `i2`, `u2`, `i4`, `u4`, `i8`, `u8` or `b1`, C order, any rank up to 4.
public struct NumPyArray: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    /// Parses `.npy` bytes; errors name `source`.
    public init(parsing bytes: [UInt8], source: String) throws {
        func fail(_ problem: String) -> SequenceDataError { SequenceDataError(source, problem) }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not a NumPy .npy file (no \\x93NUMPY magic)") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: (headerLength, headerStart) = (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated .npy header") }
            (headerLength, headerStart) = (Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24, 12)
        default: throw fail(".npy format version \(major) is not supported (1 to 3)")
        }
        guard headerLength <= 1 << 20, headerStart + headerLength <= bytes.count else { throw fail("truncated .npy header") }
        guard let header = String(validating: bytes[headerStart ..< headerStart + headerLength], as: UTF8.self) else {
            throw fail("the .npy header is not text")
        }
        func entry(_ key: String) -> Substring? {
            guard let k = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\""),
                  let colon = header[k.upperBound...].firstIndex(of: ":") else { return nil }
            return header[header.index(after: colon)...].drop { $0 == " " }
        }
        guard let descrField = entry("descr"), let quote = descrField.first, quote == "'" || quote == "\"",
              let end = descrField.dropFirst().firstIndex(of: quote) else { throw fail("the .npy header has no 'descr'") }
        let descr = String(descrField[descrField.index(after: descrField.startIndex) ..< end])
        guard let order = entry("fortran_order") else { throw fail("the .npy header has no 'fortran_order'") }
        if order.hasPrefix("True") { throw fail("arrays in Fortran order are not supported (save with numpy.ascontiguousarray)") }
        guard let shapeField = entry("shape"), shapeField.first == "(", let close = shapeField.firstIndex(of: ")") else {
            throw fail("the .npy header has no 'shape'")
        }
        let dims = shapeField[shapeField.index(after: shapeField.startIndex) ..< close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims {
            guard let n = Int(d), n >= 0 else { throw fail("shape entry \"\(d.prefix(20))\" is not a size") }
            shape.append(n)
        }
        guard shape.count <= 4 else { throw fail("arrays of \(shape.count) dimensions are not supported (0 to 4)") }
        var total = 1
        for n in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: n)
            guard !overflow, product <= 1 << 31 else { throw fail("the shape \(shape) has more than 2³¹ elements") }
            total = product
        }
        let kinds: [String: Int] = ["f4": 4, "f8": 8, "i1": 1, "u1": 1, "b1": 1, "i2": 2, "u2": 2, "i4": 4, "u4": 4, "i8": 8, "u8": 8]
        guard descr.count == 3, "<|=".contains(descr.first!), let width = kinds[String(descr.dropFirst())] else {
            throw fail("dtype '\(descr.prefix(20))' is not supported (little-endian f4, f8 or integers)")
        }
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart == total * width else {
            throw fail(bytes.count - dataStart < total * width ? "truncated: \(bytes.count - dataStart) bytes of data for \(total) elements of \(width) bytes"
                       : "\(bytes.count - dataStart - total * width) bytes after the \(total) elements the shape announces")
        }
        let kind = String(descr.dropFirst())
        values = bytes[dataStart...].withUnsafeBytes { raw in
            (0..<total).map { i -> Float in
                let o = i * width
                switch kind {
                case "f4": return Float(bitPattern: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self).littleEndian)
                case "f8": return Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self).littleEndian))
                case "i1": return Float(Int8(bitPattern: raw[o]))
                case "u1", "b1": return Float(raw[o])
                case "i2": return Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int16.self)))
                case "u2": return Float(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)))
                case "i4": return Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int32.self)))
                case "u4": return Float(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
                case "i8": return Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int64.self)))
                default: return Float(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)))
                }
            }
        }
        self.shape = shape
    }

    public init(path: String) throws { try self.init(parsing: readBytes(path), source: path) }

    /// An array of `shape` holding `values` (row-major).
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "values do not fill the shape")
        (self.shape, self.values) = (shape, values)
    }
}

/// The arrays of an `.npz` file (`numpy.savez`, a zip of `.npy` files), by name without `.npy`.
///
/// Read from the file (ZIPFoundation's file-backed archive): its in-memory archive trapped on
/// malformed zip data under the fuzzer (a range past the end in `MemoryFile.readData`).
public func readNumPyArchive(path: String) throws -> [String: NumPyArray] {
    let archive: Archive
    do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
        throw SequenceDataError(path, FileManager.default.fileExists(atPath: path) ? "not a NumPy .npz file (not a zip archive)" : "cannot open: no such file")
    }
    let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
    var arrays: [String: NumPyArray] = [:]
    for entry in archive where entry.type == .file {
        guard entry.path.hasSuffix(".npy") else { continue }
        // A member cannot hold more than a deflate stream of the file can expand to (1032:1).
        guard entry.uncompressedSize <= UInt64(max(size, 1)) * 1032, entry.uncompressedSize <= 1 << 33 else {
            throw SequenceDataError(path, "\(entry.path) claims \(entry.uncompressedSize) bytes: corrupt archive")
        }
        var content = Data()
        do { _ = try archive.extract(entry, consumer: { content.append($0) }) } catch {
            throw SequenceDataError(path, "\(entry.path): cannot be extracted (\(error))")
        }
        arrays[String(entry.path.dropLast(4))] = try NumPyArray(parsing: [UInt8](content), source: "\(path)[\(entry.path)]")
    }
    return arrays
}

/// Sequences without labels from an array `x` of shape `[N, T, F]` or `[N, T]` (each gets
/// class 0, which nobody reads): what `seq predict` reads from an `.npz` holding no `y`.
public func unlabelledNumPySequences(x: NumPyArray, source: String) throws -> SequenceDataset {
    guard x.shape.count == 3 || x.shape.count == 2, x.shape.allSatisfy({ $0 > 0 }) else {
        throw SequenceDataError(source, "x must be [N, T, F] or [N, T], got shape \(x.shape)")
    }
    if let bad = x.values.firstIndex(where: { !$0.isFinite }) { throw SequenceDataError(source, "x holds a value that is not finite (element \(bad))") }
    return SequenceDataset(count: x.shape[0], steps: x.shape[1], features: x.shape.count == 3 ? x.shape[2] : 1, values: x.values,
                           labels: .classes([Int32](repeating: 0, count: x.shape[0]), classCount: 1))
}

/// Sequences from NumPy arrays: `x` of shape `[N, T, F]` (or `[N, T]`, one feature), `y` of shape
/// `[N]` (integer classes 0…C−1), `[N, K]` (regression targets) or `[N, T, K]` (regression
/// targets at every step); from an `.npz` holding both, or from two `.npy` files.
public func numPySequences(x: NumPyArray, y: NumPyArray, xSource: String, ySource: String, regression: Bool) throws -> SequenceDataset {
    guard x.shape.count == 3 || x.shape.count == 2 else { throw SequenceDataError(xSource, "x must be [N, T, F] or [N, T], got shape \(x.shape)") }
    let (n, steps, features) = (x.shape[0], x.shape[1], x.shape.count == 3 ? x.shape[2] : 1)
    guard n > 0, steps > 0, features > 0 else { throw SequenceDataError(xSource, "x has no values (shape \(x.shape))") }
    if let bad = x.values.firstIndex(where: { !$0.isFinite }) { throw SequenceDataError(xSource, "x holds a value that is not finite (element \(bad))") }
    guard y.shape.first == n, y.shape.count <= 3 else {
        throw SequenceDataError(ySource, "y must be [\(n)], [\(n), K] or [\(n), \(steps), K] for \(n) sequences of \(steps) steps, got shape \(y.shape)")
    }
    if y.shape.count == 3 {
        guard y.shape[1] == steps, y.shape[2] > 0 else {
            throw SequenceDataError(ySource, "targets at every step must be [\(n), \(steps), K] to match x, got shape \(y.shape)")
        }
        guard y.values.allSatisfy(\.isFinite) else { throw SequenceDataError(ySource, "y holds a target that is not finite") }
        return SequenceDataset(count: n, steps: steps, features: features, values: x.values, labels: .stepTargets(y.values, width: y.shape[2]))
    }
    if regression || y.shape.count == 2 {
        let width = y.shape.count == 2 ? y.shape[1] : 1
        guard width > 0, y.values.allSatisfy(\.isFinite) else { throw SequenceDataError(ySource, "y holds no targets or one that is not finite") }
        return SequenceDataset(count: n, steps: steps, features: features, values: x.values, labels: .targets(y.values, width: width))
    }
    guard let bad = y.values.firstIndex(where: { $0 < 0 || $0 != $0.rounded() || $0 > 1_000_000 }) else {
        let classes = y.values.map { Int32($0) }
        return SequenceDataset(count: n, steps: steps, features: features, values: x.values,
                               labels: .classes(classes, classCount: Int(classes.max() ?? 0) + 1))
    }
    throw SequenceDataError(ySource, "y[\(bad)] = \(y.values[bad]) is not a class (an integer from 0); for regression targets give y as [N, K]")
}

extension NumPyArray {
    /// The array as a version 1.0 `.npy` file of little-endian float32 (`'<f4'`, C order).
    public func npyBytes() -> [UInt8] { npyFileBytes(shape: shape, values: values) }
}

/// Writes `arrays` as an `.npz` file (`numpy.savez`: a zip of `<name>.npy` members, stored),
/// atomically: the file is complete or absent.
public func writeNumPyArchive(_ arrays: [(name: String, array: NumPyArray)], to path: String) throws {
    do {
        let archive = try Archive(data: Data(), accessMode: .create)
        for (name, array) in arrays {
            let member = Data(array.npyBytes())
            try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(member.count), compressionMethod: .none) { position, size in
                member.subdata(in: Int(position) ..< Int(position) + size)
            }
        }
        guard let data = archive.data else { throw SequenceDataError(path, "the archive could not be built") }
        try writeFileAtomically([UInt8](data), to: path)
    } catch let error as SequenceDataError {
        throw error
    } catch {
        throw SequenceDataError(path, "cannot write: \(error)")
    }
}
