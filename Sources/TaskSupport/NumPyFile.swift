/// `values` of `shape` as a version 1.0 `.npy` file of little-endian float32 (`'<f4'`, C order):
/// what `numpy.load` reads. (`seq`'s `.npz` archives and `kws classify --save-features` write it.)
public func npyFileBytes(shape: [Int], values: [Float]) -> [UInt8] {
    precondition(shape.reduce(1, *) == values.count, "npyFileBytes: \(values.count) values for shape \(shape)")
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
    // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let length = UInt16(header.utf8.count)
    bytes += [UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8)
    bytes.reserveCapacity(bytes.count + 4 * values.count)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
    return bytes
}
