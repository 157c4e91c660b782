/// CRC-32 as used by zlib, gzip, PNG and Ethernet (IEEE 802.3): reflected polynomial
/// `0xEDB88320`, initial value `0xFFFFFFFF`, final XOR `0xFFFFFFFF`.
///
/// `CRC32.checksum(Array("123456789".utf8)) == 0xCBF43926`, and for any bytes `b` the result
/// equals Python's `zlib.crc32(b)`. The implementation is the classic byte-at-a-time lookup with a
/// 256-entry table that is computed once; it needs no zlib.
///
/// Feed data in any number of pieces with `update(_:)` and read
/// ``value`` at any time; splitting the input does not change the result.
struct CRC32: Sendable {
    /// `table[i]` is the CRC register after shifting the byte `i` through eight rounds.
    static let table: [UInt32] = (0..<256).map { (index: Int) -> UInt32 in
        var register = UInt32(index)
        for _ in 0..<8 {
            register = (register & 1) != 0 ? (register >> 1) ^ 0xEDB8_8320 : register >> 1
        }
        return register
    }

    /// The running register (before the final XOR).
    private var register: UInt32 = 0xFFFF_FFFF

    /// A checksum of the empty input (`value == 0`).
    init() {}

    /// The CRC-32 of everything fed so far.
    var value: UInt32 { register ^ 0xFFFF_FFFF }

    /// Feeds raw bytes.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        var crc = register
        Self.table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
        }
        register = crc
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
