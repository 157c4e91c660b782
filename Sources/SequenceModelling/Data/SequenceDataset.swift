import LEMModel

/// Sequences of feature vectors, each with a class or a target vector: what every reader of this
/// folder produces and every sequence task trains on.
///
/// `values` holds the N sequences one after another, each T steps of F features, `[N, T, F]`.
public struct SequenceDataset: Sendable, Equatable {
    public var count: Int, steps: Int, features: Int
    public var values: [Float]
    public var labels: Labels
    /// The classes' names in class order (as a file names them; nil for regression).
    public var classNames: [String]?

    /// Classification (a class per sequence, 0..<classCount) or regression (a target vector of
    /// `width` values per sequence, `[N, width]`).
    public enum Labels: Sendable, Equatable {
        case classes([Int32], classCount: Int)
        case targets([Float], width: Int)
    }

    public init(count: Int, steps: Int, features: Int, values: [Float], labels: Labels, classNames: [String]? = nil) {
        precondition(values.count == count * steps * features, "values do not match [N, T, F]")
        (self.count, self.steps, self.features, self.values, self.labels) = (count, steps, features, values, labels)
        if case let .classes(_, classCount) = labels { self.classNames = classNames ?? (0..<classCount).map(String.init) }
    }

    /// The same sequences with their classes numbered as `names` orders them (the training
    /// file's order, so that a validation or test file agrees with it); a class `names` lacks is
    /// an error naming `source`.
    public func renumbered(to names: [String], source: String) throws -> SequenceDataset {
        guard case let .classes(classes, _) = labels, let own = classNames, own != names else { return self }
        var map: [Int32] = []
        for name in own {
            guard let i = names.firstIndex(of: name) else {
                throw SequenceDataError(source, "class \"\(name.prefix(20))\" is not among the training classes \(names)")
            }
            map.append(Int32(i))
        }
        var copy = self
        copy.labels = .classes(classes.map { map[Int($0)] }, classCount: names.count)
        copy.classNames = names
        return copy
    }

    /// The sequences at `indices`, in that order.
    public func subset(_ indices: [Int]) -> SequenceDataset {
        let per = steps * features
        var values = [Float]()
        values.reserveCapacity(indices.count * per)
        for i in indices { values += self.values[i * per ..< (i + 1) * per] }
        switch labels {
        case let .classes(c, classCount):
            return SequenceDataset(count: indices.count, steps: steps, features: features, values: values,
                                   labels: .classes(indices.map { c[$0] }, classCount: classCount), classNames: classNames)
        case let .targets(t, width):
            return SequenceDataset(count: indices.count, steps: steps, features: features, values: values,
                                   labels: .targets(indices.flatMap { t[$0 * width ..< ($0 + 1) * width] }, width: width))
        }
    }
}

/// A file that cannot be read as sequence data: the file (or stream) and what is wrong with it.
public struct SequenceDataError: Error, CustomStringConvertible, Equatable {
    public let source: String, problem: String
    public init(_ source: String, _ problem: String) { (self.source, self.problem) = (source, problem) }
    public var description: String { "\(source): \(problem)" }
}

/// The whole file at `path` (errors name it).
public func readBytes(_ path: String) throws -> [UInt8] {
    do { return try readWholeFile(path) } catch { throw SequenceDataError(path, "\(error)".replacingOccurrences(of: path + ": ", with: "")) }
}
