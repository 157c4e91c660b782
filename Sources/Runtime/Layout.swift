/// The two copies between layouts that the models' data paths make: a block of columns out of a
/// time-major matrix (the streams of a batch that one replica or rank runs), and sequences stored
/// one after another turned time-major (the recurrent layers' input layout `[T, B, F]`).

/// `out[t, j] = matrix[rows.lowerBound + t, columns.lowerBound + j]` for a row-major matrix with
/// `stride` columns: the columns `columns` (streams) of rows `rows` (time steps) as a
/// `[rows.count, columns.count]` matrix in the first elements of `out`.
@inlinable
public func gatherColumns<Matrix: RandomAccessCollection>(_ matrix: Matrix, stride: Int, rows: Range<Int>, columns: Range<Int>,
                                                          into out: inout [Matrix.Element]) where Matrix.Index == Int {
    let width = columns.count, origin = matrix.startIndex
    precondition(out.count >= rows.count * width, "gatherColumns: output too small")
    for (t, row) in rows.enumerated() {
        for (j, column) in columns.enumerated() { out[t * width + j] = matrix[origin + row * stride + column] }
    }
}

/// `out[t, b, :] = sequences[indices[b], t, :]`: sequences of `steps` × `features` values stored
/// one after another, the ones at `indices` as one time-major batch `[steps, indices.count, features]`.
@inlinable
public func copyTimeMajor(_ sequences: UnsafePointer<Float>, indices: some Collection<Int>, steps: Int, features: Int,
                          into out: UnsafeMutablePointer<Float>) {
    let batch = indices.count
    for (b, sequence) in indices.enumerated() {
        for t in 0..<steps {
            (out + (t * batch + b) * features).update(from: sequences + (sequence * steps + t) * features, count: features)
        }
    }
}
