/// CIFAR-10's binary batches (`data_batch_N.bin`, `test_batch.bin`): records of one label byte
/// (0–9) and 3,072 pixel bytes — the 1,024 red values of the 32 × 32 image row by row, then the
/// green, then the blue.
public struct CIFAR10Batch: Sendable, Equatable {
    public static let recordBytes = 1 + 3072
    public var labels: [UInt8]
    /// `[count, 3, 32, 32]` bytes, as stored.
    public var pixels: [UInt8]
    public var count: Int { labels.count }

    public init(parsing bytes: [UInt8], source: String) throws {
        guard !bytes.isEmpty else { throw SequenceDataError(source, "empty file (0 bytes): not a CIFAR-10 batch") }
        guard bytes.count % Self.recordBytes == 0 else {
            throw SequenceDataError(source, "\(bytes.count) bytes is not a whole number of 3,073-byte CIFAR-10 records (truncated or not a batch)")
        }
        let n = bytes.count / Self.recordBytes
        labels = (0..<n).map { bytes[$0 * Self.recordBytes] }
        if let bad = labels.firstIndex(where: { $0 > 9 }) {
            throw SequenceDataError(source, "record \(bad) has label \(labels[bad]) (CIFAR-10 has 0–9): not a CIFAR-10 batch")
        }
        pixels = [UInt8](unsafeUninitializedCapacity: n * 3072) { buffer, initialized in
            for r in 0..<n { for j in 0..<3072 { buffer[r * 3072 + j] = bytes[r * Self.recordBytes + 1 + j] } }
            initialized = n * 3072
        }
    }

    public init(path: String) throws { try self.init(parsing: readBytes(path), source: path) }

    /// The images as sequences of their 32 rows, each step the row's 96 values (its 32 red, then
    /// 32 green, then 32 blue pixels, scaled to [0, 1]): the layout of the authors' noisy
    /// CIFAR-10 before the noise steps are appended.
    public func rowSequences() -> SequenceDataset {
        var values = [Float](repeating: 0, count: count * 32 * 96)
        for i in 0..<count {
            for row in 0..<32 {
                for channel in 0..<3 {
                    for column in 0..<32 {
                        values[(i * 32 + row) * 96 + channel * 32 + column] = Float(pixels[i * 3072 + channel * 1024 + row * 32 + column]) / 255
                    }
                }
            }
        }
        return SequenceDataset(count: count, steps: 32, features: 96, values: values, labels: .classes(labels.map { Int32($0) }, classCount: 10))
    }
}
