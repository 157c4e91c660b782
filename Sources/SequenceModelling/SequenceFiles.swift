import Foundation
import LEMModel

/// Reads a file of labelled sequences by its extension: `.ts` (UEA/UCR/Monash), `.npz` (arrays
/// `x` and `y`), `.csv` (label then values; `features` per step). With `classNames` (the training
/// file's), the classes are numbered in that order. Errors name the file.
public func readSequenceFile(_ path: String, features: Int? = nil, regression: Bool = false, classNames: [String]? = nil) throws -> SequenceDataset {
    let data = try readSequenceFileAsIs(path, features: features, regression: regression)
    return try classNames.map { try data.renumbered(to: $0, source: path) } ?? data
}

private func readSequenceFileAsIs(_ path: String, features: Int?, regression: Bool) throws -> SequenceDataset {
    switch (path as NSString).pathExtension.lowercased() {
    case "ts": return try readTSFile(path: path)
    case "npz":
        let arrays = try readNumPyArchive(path: path)
        guard let x = arrays["x"], let y = arrays["y"] else {
            throw SequenceDataError(path, "expected arrays x and y, found \(arrays.keys.sorted())")
        }
        return try numPySequences(x: x, y: y, xSource: path + "[x]", ySource: path + "[y]", regression: regression)
    case "csv":
        let bytes = try readBytes(path)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw SequenceDataError(path, "not UTF-8 text") }
        return try parseCSVSequences(text, source: path, features: features ?? 1, regression: regression)
    default:
        throw SequenceDataError(path, "unknown format: give a .ts, .npz or .csv file")
    }
}
