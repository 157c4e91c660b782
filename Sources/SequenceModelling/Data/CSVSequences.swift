import Foundation

/// Sequences in CSV, one per line: the label (a class name, or a number for regression) first,
/// then the T × F values step by step (`features` values per step); blank lines and lines starting
/// with `#` are skipped. Classes are numbered in the order of their first appearance unless
/// `classNames` gives the order.
public func parseCSVSequences(_ text: String, source: String, features: Int, regression: Bool, classNames: [String]? = nil) throws -> SequenceDataset {
    precondition(features > 0)
    var names = classNames ?? []
    var values: [Float] = []
    var classes: [Int32] = []
    var targets: [Float] = []
    var steps = -1, count = 0, number = 0
    for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
        number += 1
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.isEmpty || line.hasPrefix("#") { continue }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let n = fields.count - 1
        guard n > 0, n % features == 0 else {
            throw SequenceDataError(source, "line \(number): \(n) values after the label, not a whole number of steps of \(features) features")
        }
        if steps < 0 { steps = n / features } else if n / features != steps {
            throw SequenceDataError(source, "line \(number): \(n / features) steps, earlier lines have \(steps)")
        }
        for (i, field) in fields.dropFirst().enumerated() {
            guard let v = Float(field), v.isFinite else {
                throw SequenceDataError(source, "line \(number), value \(i + 1): \"\(field.prefix(20))\" is not a finite number")
            }
            values.append(v)
        }
        let label = fields[0]
        if regression {
            guard let y = Float(label), y.isFinite else { throw SequenceDataError(source, "line \(number): target \"\(label.prefix(20))\" is not a finite number") }
            targets.append(y)
        } else {
            if let c = names.firstIndex(of: label) { classes.append(Int32(c)) } else {
                guard classNames == nil else { throw SequenceDataError(source, "line \(number): class \"\(label.prefix(20))\" is not among \(names)") }
                names.append(label)
                classes.append(Int32(names.count - 1))
            }
        }
        count += 1
    }
    guard count > 0 else { throw SequenceDataError(source, "no sequences (every line is blank or a comment)") }
    return SequenceDataset(count: count, steps: steps, features: features, values: values,
                           labels: regression ? .targets(targets, width: 1) : .classes(classes, classCount: names.count),
                           classNames: regression ? nil : names)
}
