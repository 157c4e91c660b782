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

/// Sequences without labels, one per line: T × F values (`features` F), the same T on every
/// line; a line of `labelledSteps` × F + 1 fields is taken to lead with a label, which is
/// skipped. Each sequence gets class 0 (nobody reads it). Errors name `source` and the line.
public func parseUnlabelledCSV(_ text: String, source: String, features F: Int, labelledSteps: Int?) throws -> SequenceDataset {
    precondition(F > 0, "features must be positive")
    var values: [Float] = [], steps = -1, count = 0
    for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
        var fields = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.trimmingCharacters(in: .whitespaces)) }
        if let labelledSteps, fields.count == labelledSteps * F + 1 { fields.removeFirst() }
        guard fields.allSatisfy({ $0?.isFinite == true }) else { throw SequenceDataError(source, "line \(number + 1): a value is not a finite number") }
        guard !fields.isEmpty, fields.count % F == 0 else {
            throw SequenceDataError(source, "line \(number + 1): \(fields.count) values is not a whole number of steps of \(F) features")
        }
        if steps < 0 { steps = fields.count / F }
        guard fields.count / F == steps else { throw SequenceDataError(source, "line \(number + 1): \(fields.count / F) steps, the first sequence has \(steps)") }
        values += fields.map { $0! }
        count += 1
    }
    guard count > 0 else { throw SequenceDataError(source, "no sequences") }
    return SequenceDataset(count: count, steps: steps, features: F, values: values, labels: .classes([Int32](repeating: 0, count: count), classCount: 1))
}
