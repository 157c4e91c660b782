import Foundation

/// The `.ts` format of the UEA & UCR archives and sktime (EigenWorms, the Monash regression
/// archive's BIDMC32HR): `@` header lines (`@problemName`, `@univariate`, `@dimensions`,
/// `@equalLength`, `@seriesLength`, `@classLabel true <labels…>` or `@targetLabel true`, …), then
/// `@data` and one case per line — each dimension's comma-separated values, dimensions separated
/// by `:`, the class label or the target last. `#` lines are comments.
///
/// Read into `[N, T, F]` with F the dimensions, T the common length; classes numbered in the
/// order `@classLabel` lists them. Unequal lengths, time stamps and missing values (`?`) are
/// refused with a message (the tasks here need none of them).
public func parseTSFile(_ text: String, source: String) throws -> SequenceDataset {
    func fail(_ line: Int, _ problem: String) -> SequenceDataError { SequenceDataError(source, "line \(line): \(problem)") }
    var classLabels: [String]?
    var isRegression = false
    var dimensionsDeclared: Int?, lengthDeclared: Int?
    var inData = false
    var values: [Float] = []
    var classes: [Int32] = []
    var targets: [Float] = []
    var count = 0, steps = -1, features = -1
    var number = 0
    // Lines and fields are cut on their bytes: a Character-wise split of a 100 MB archive file
    // spends most of its time in grapheme breaking.
    for rawBytes in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
        number += 1
        let raw = Substring(rawBytes)
        if !inData {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard line.hasPrefix("@") else { throw fail(number, "expected a header line starting with @ before @data") }
            let parts = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let key = parts[0].lowercased()
            let flag = parts.count > 1 ? parts[1].lowercased() : ""
            switch key {
            case "@data": inData = true
            case "@classlabel":
                guard flag == "true" || flag == "false" else { throw fail(number, "@classLabel needs true or false") }
                if flag == "true" {
                    classLabels = Array(parts.dropFirst(2))
                    guard !classLabels!.isEmpty else { throw fail(number, "@classLabel true lists no classes") }
                    guard Set(classLabels!).count == classLabels!.count else { throw fail(number, "@classLabel lists a class twice") }
                }
            case "@targetlabel": isRegression = flag == "true"
            case "@timestamps":
                if flag == "true" { throw fail(number, "series with time stamps are not supported") }
            case "@equallength":
                if flag == "false" { throw fail(number, "series of unequal length are not supported") }
            case "@dimensions":
                guard let n = parts.count > 1 ? Int(parts[1]) : nil, n > 0 else { throw fail(number, "@dimensions needs a positive number") }
                dimensionsDeclared = n
            case "@serieslength":
                guard let n = parts.count > 1 ? Int(parts[1]) : nil, n > 0 else { throw fail(number, "@seriesLength needs a positive number") }
                lengthDeclared = n
            default: continue   // @problemName, @univariate, @missing, … carry nothing we need
            }
            if inData {
                guard classLabels != nil || isRegression else {
                    throw fail(number, "the header declares neither @classLabel true nor @targetLabel true")
                }
                guard !(classLabels != nil && isRegression) else { throw fail(number, "the header declares both a class label and a target") }
            }
            continue
        }
        // A case: dimension : dimension : … : label
        let line = raw.drop { $0 == " " || $0 == "\t" }
        if line.allSatisfy({ $0.isWhitespace }) || line.hasPrefix("#") { continue }
        let fields = line.utf8.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false).map { Substring($0) }
        guard fields.count >= 2 else { throw fail(number, "expected dimensions separated by ':' and a label last") }
        let dims = fields.dropLast()
        if features < 0 {
            features = dims.count
            if let d = dimensionsDeclared, d != features { throw fail(number, "\(features) dimensions, the header declares \(d)") }
        } else if dims.count != features {
            throw fail(number, "\(dims.count) dimensions, earlier cases have \(features)")
        }
        var series: [[Float]] = []
        for (d, field) in dims.enumerated() {
            var row: [Float] = []
            var problem: String?
            // The values' bytes scanned in place (a 100 MB archive file holds ~20 M of them).
            let scanned: Void? = field.utf8.withContiguousStorageIfAvailable { bytes in
                var start = 0
                for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: ",") {
                    let item = UnsafeBufferPointer(rebasing: bytes[start..<i])
                    start = i + 1
                    if let v = parseFloat(item) { row.append(v); continue }
                    let text = String(decoding: item, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                    problem = text == "?" ? "dimension \(d + 1) has a missing value (?): not supported"
                        : text.hasPrefix("(") ? "dimension \(d + 1) has time stamps: not supported"
                        : "dimension \(d + 1): \"\(text.prefix(20))\" is not a finite number"
                    return
                }
            }
            if scanned == nil {
                for item in field.split(separator: ",", omittingEmptySubsequences: false) {
                    let text = item.trimmingCharacters(in: .whitespaces)
                    guard let v = Float(text), v.isFinite else {
                        problem = text == "?" ? "dimension \(d + 1) has a missing value (?): not supported"
                            : text.hasPrefix("(") ? "dimension \(d + 1) has time stamps: not supported"
                            : "dimension \(d + 1): \"\(text.prefix(20))\" is not a finite number"
                        break
                    }
                    row.append(v)
                }
            }
            if let problem { throw fail(number, problem) }
            series.append(row)
        }
        let length = series[0].count
        if let bad = series.firstIndex(where: { $0.count != length }) {
            throw fail(number, "dimension \(bad + 1) has \(series[bad].count) values, dimension 1 has \(length): unequal lengths are not supported")
        }
        if steps < 0 {
            steps = length
            if let l = lengthDeclared, l != steps { throw fail(number, "series of \(steps) values, the header declares @seriesLength \(l)") }
        } else if length != steps {
            throw fail(number, "series of \(length) values, earlier cases have \(steps)")
        }
        for t in 0..<steps { for d in 0..<features { values.append(series[d][t]) } }
        let label = String(fields.last!).trimmingCharacters(in: .whitespacesAndNewlines)
        if let classLabels {
            guard let c = classLabels.firstIndex(of: label) else { throw fail(number, "class \"\(label.prefix(20))\" is not among @classLabel's \(classLabels)") }
            classes.append(Int32(c))
        } else {
            guard let y = Float(label), y.isFinite else { throw fail(number, "target \"\(label.prefix(20))\" is not a finite number") }
            targets.append(y)
        }
        count += 1
    }
    guard inData else { throw SequenceDataError(source, "no @data line: not a .ts file") }
    guard count > 0 else { throw SequenceDataError(source, "no cases after @data") }
    let labels: SequenceDataset.Labels = classLabels.map { .classes(classes, classCount: $0.count) } ?? .targets(targets, width: 1)
    return SequenceDataset(count: count, steps: steps, features: features, values: values, labels: labels, classNames: classLabels)
}

/// Reads a `.ts` file (UTF-8).
public func readTSFile(path: String) throws -> SequenceDataset {
    let bytes = try readBytes(path)
    guard let text = String(validating: bytes, as: UTF8.self) else { throw SequenceDataError(path, "not UTF-8 text: not a .ts file") }
    return try parseTSFile(text, source: path)
}

/// A finite decimal number in `bytes` (surrounding spaces and tabs allowed), as C's `strtof`
/// reads it; nil for anything else (empty, text, "?", time stamps, inf, nan).
func parseFloat(_ bytes: UnsafeBufferPointer<UInt8>) -> Float? {
    var lo = 0, hi = bytes.count
    while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
    while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 || bytes[hi - 1] == 0x0D { hi -= 1 }
    let n = hi - lo
    guard n > 0, n < 64 else { return nil }
    for i in lo..<hi {
        let c = bytes[i]   // digits, sign, point, exponent only: strtof would also take "inf", "0x1p3"
        guard (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2B || c == 0x2E || c == 0x65 || c == 0x45 else { return nil }
    }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer -> Float? in
        for i in 0..<n { buffer[i] = CChar(bitPattern: bytes[lo + i]) }
        buffer[n] = 0
        var end: UnsafeMutablePointer<CChar>?
        let v = strtof(buffer.baseAddress!, &end)
        guard end == buffer.baseAddress! + n, v.isFinite else { return nil }
        return v
    }
}
