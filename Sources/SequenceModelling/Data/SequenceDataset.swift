import LEMModel
import Runtime

/// Sequences of feature vectors, each with a class or a target vector: what every reader of this
/// folder produces and every sequence task trains on.
///
/// `values` holds the N sequences one after another, each T steps of F features, `[N, T, F]`;
/// or, when every sequence ends with the same steps (noisy CIFAR-10's 968 noise steps after the
/// image's 32 rows), only each sequence's own first T − S steps, `[N, T − S, F]`, and the shared
/// S steps once in `suffix` `[S, F]` — 50,000 noisy images would take 19 GB written out.
public struct SequenceDataset: Sendable, Equatable {
    /// Sequences, steps per sequence (with the suffix), features per step.
    public var count: Int, steps: Int, features: Int
    public var values: [Float]
    public var labels: Labels
    /// The classes' names in class order (as a file names them; nil for regression).
    public var classNames: [String]?
    /// Steps every sequence ends with, `[S, F]` (empty: none).
    public var suffix: [Float] = []
    /// Steps of each sequence stored in `values` (T − S).
    public var ownSteps: Int { steps - suffix.count / features }

    /// Classification (a class per sequence, 0..<classCount), regression of the whole sequence (a
    /// target vector of `width` values per sequence, `[N, width]`), or regression at every step
    /// (`width` values per step, `[N, T, width]`: the FitzHugh-Nagumo task's next values).
    public enum Labels: Sendable, Equatable {
        case classes([Int32], classCount: Int)
        case targets([Float], width: Int)
        case stepTargets([Float], width: Int)
    }

    /// Regression: the targets per sequence (`width`, or `T · width` at every step) and whether
    /// they are per step; nil for classification.
    public var regressionShape: (width: Int, everyStep: Bool)? {
        switch labels {
        case .classes: return nil
        case let .targets(_, width): return (width, false)
        case let .stepTargets(_, width): return (width, true)
        }
    }

    public init(count: Int, steps: Int, features: Int, values: [Float], labels: Labels, classNames: [String]? = nil) {
        precondition(values.count == count * steps * features, "values do not match [N, T, F]")
        (self.count, self.steps, self.features, self.values, self.labels) = (count, steps, features, values, labels)
        if case let .classes(_, classCount) = labels { self.classNames = classNames ?? (0..<classCount).map(String.init) }
    }

    /// The same sequences, each followed by the steps of `suffix` (`[S, F]`).
    public func appending(sharedSteps suffix: [Float]) -> SequenceDataset {
        precondition(suffix.count % features == 0, "the suffix is not whole steps")
        var copy = self
        copy.suffix = self.suffix + suffix
        copy.steps += suffix.count / features
        return copy
    }

    /// Sequences `indices` time-major, `[T, B, F]`, into `out` (the suffix included).
    public func copyTimeMajor(_ indices: some Collection<Int>, into out: UnsafeMutablePointer<Float>) {
        let (own, B) = (ownSteps, indices.count)
        values.withUnsafeBufferPointer { Runtime.copyTimeMajor($0.baseAddress!, indices: indices, steps: own, features: features, into: out) }
        guard !suffix.isEmpty else { return }
        suffix.withUnsafeBufferPointer { s in
            for t in own..<steps {
                for b in 0..<B { (out + (t * B + b) * features).update(from: s.baseAddress! + (t - own) * features, count: features) }
            }
        }
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
        let per = ownSteps * features
        var values = [Float]()
        values.reserveCapacity(indices.count * per)
        for i in indices { values += self.values[i * per ..< (i + 1) * per] }
        let picked: Labels
        switch labels {
        case let .classes(c, classCount): picked = .classes(indices.map { c[$0] }, classCount: classCount)
        case let .targets(t, width): picked = .targets(indices.flatMap { t[$0 * width ..< ($0 + 1) * width] }, width: width)
        case let .stepTargets(t, width):
            let per = steps * width
            picked = .stepTargets(indices.flatMap { t[$0 * per ..< ($0 + 1) * per] }, width: width)
        }
        var copy = SequenceDataset(count: indices.count, steps: ownSteps, features: features, values: values, labels: picked, classNames: classNames)
        if !suffix.isEmpty { copy = copy.appending(sharedSteps: suffix) }
        return copy
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
