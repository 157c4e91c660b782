import CSystemZlib

/// CRC-32 as used by zlib, gzip, PNG and Ethernet (IEEE 802.3), computed by zlib's `crc32`:
/// reflected polynomial `0xEDB88320`, initial value `0xFFFFFFFF`, final XOR `0xFFFFFFFF`.
///
/// `CRC32.checksum(Array("123456789".utf8)) == 0xCBF43926`, and for any bytes `b` the result
/// equals Python's `zlib.crc32(b)`. Feed data in any number of pieces with `update(_:)` and read
/// ``value`` at any time; splitting the input does not change the result.
struct CRC32: Sendable {
    /// The CRC-32 of everything fed so far (zlib's running value: 0 for no input).
    private(set) var value: UInt32 = 0

    /// A checksum of the empty input (`value == 0`).
    init() {}

    /// Feeds raw bytes (zlib takes at most 4 GiB per call, hence the pieces).
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return }
        var remaining = bytes.count
        var crc = uLong(value)
        while remaining > 0 {
            let piece = min(remaining, Int(Int32.max))
            crc = crc32(crc, base, uInt(piece))
            base += piece
            remaining -= piece
        }
        value = UInt32(truncatingIfNeeded: crc)
    }

    /// Feeds the bytes of an array.
    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds the bytes of an array slice.
    mutating func update(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds `value` as 8 little-endian bytes.
    mutating func update(uint64 value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { update($0) }
    }

    /// The CRC-32 of `bytes` in one call.
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }
}
