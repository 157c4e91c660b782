/// An array of unsigned bytes in the IDX format of the MNIST files (LeCun et al.): a magic
/// number `0 0 type dims` (type 0x08, unsigned byte, the only one MNIST uses), the dimensions as
/// big-endian 32-bit integers, then the values in row-major order. `.gz` files (as MNIST is
/// distributed) are decompressed on reading.
public struct IDXArray: Sendable, Equatable {
    public var dimensions: [Int]
    public var values: [UInt8]

    /// Parses IDX bytes (already decompressed); errors name `source`.
    public init(parsing bytes: [UInt8], source: String) throws {
        func fail(_ problem: String) -> SequenceDataError { SequenceDataError(source, problem) }
        guard bytes.count >= 4 else { throw fail("not an IDX file (\(bytes.count) bytes, shorter than the 4-byte magic number)") }
        guard bytes[0] == 0, bytes[1] == 0 else { throw fail("not an IDX file (the magic number does not start with two zero bytes)") }
        guard bytes[2] == 0x08 else { throw fail(String(format: "IDX element type 0x%02x is not supported (only 0x08, unsigned bytes)", bytes[2])) }
        let rank = Int(bytes[3])
        guard (1...4).contains(rank) else { throw fail("IDX arrays of \(rank) dimensions are not supported (1 to 4)") }
        guard bytes.count >= 4 + 4 * rank else { throw fail("truncated: the header announces \(rank) dimensions") }
        var dims: [Int] = []
        var total = 1
        for d in 0..<rank {
            let o = 4 + 4 * d
            let n = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            guard n > 0 else { throw fail("dimension \(d + 1) is 0") }
            total = total.multipliedReportingOverflow(by: n).partialValue
            guard total <= 1 << 31 else { throw fail("the dimensions announce more than 2³¹ values") }
            dims.append(n)
        }
        let start = 4 + 4 * rank
        guard bytes.count - start == total else {
            throw fail(bytes.count - start < total ? "truncated: \(bytes.count - start) of the \(total) values the header announces"
                       : "\(bytes.count - start - total) bytes after the \(total) values the header announces")
        }
        dimensions = dims
        values = Array(bytes[start...])
    }

    /// Reads an IDX file, gzip-compressed or not.
    public init(path: String) throws {
        let raw = try readBytes(path)
        try self.init(parsing: isGzip(raw) ? gunzip(raw, source: path) : raw, source: path)
    }
}

/// MNIST images and labels as sequences of pixels: each image `[rows · columns]` in row-major
/// order, one pixel a step (`features` 1), scaled to [0, 1] (the authors' `ToTensor()`); the
/// label file must hold one label (0–9) per image.
public func mnistSequences(images: IDXArray, labels: IDXArray, imagesSource: String, labelsSource: String) throws -> SequenceDataset {
    guard images.dimensions.count == 3 else {
        throw SequenceDataError(imagesSource, "expected images [count, rows, columns], got dimensions \(images.dimensions)")
    }
    guard labels.dimensions.count == 1 else { throw SequenceDataError(labelsSource, "expected labels [count], got dimensions \(labels.dimensions)") }
    let (n, steps) = (images.dimensions[0], images.dimensions[1] * images.dimensions[2])
    guard labels.dimensions[0] == n else {
        throw SequenceDataError(labelsSource, "\(labels.dimensions[0]) labels for the \(n) images of \(imagesSource)")
    }
    if let bad = labels.values.firstIndex(where: { $0 > 9 }) {
        throw SequenceDataError(labelsSource, "label \(labels.values[bad]) of image \(bad) is not a digit (0–9)")
    }
    return SequenceDataset(count: n, steps: steps, features: 1, values: images.values.map { Float($0) / 255 },
                           labels: .classes(labels.values.map { Int32($0) }, classCount: 10))
}
