import LEMModel


/// Sequences of the adding problem, `[T, B, 2]` time-major (value, marker), with their targets.
///
/// Sequence i of a seed is drawn from its own generator stream, so a batch is the same whatever
/// the batch size or worker count that asks for it, and the test set is fixed.
package struct AddingBatch {
    /// The test sequences' seed: the same test set for every run.
    package static let testSeed: UInt64 = 0x7E57_5E7

    package let length: Int, count: Int
    package var inputs: [Float]
    package var targets: [Float]

    package init(length T: Int, first: Int, count B: Int, seed: UInt64) {
        (length, count) = (T, B)
        inputs = [Float](repeating: 0, count: T * B * 2)
        targets = [Float](repeating: 0, count: B)
        for b in 0..<B {
            var rng = RandomGenerator(seed: seed, stream: UInt64(first + b))
            let early = rng.below(T / 2), late = T / 2 + rng.below(T - T / 2)
            for t in 0..<T {
                let value = rng.uniformFloat()
                inputs[(t * B + b) * 2] = value
                if t == early || t == late {
                    inputs[(t * B + b) * 2 + 1] = 1
                    targets[b] += value
                }
            }
        }
    }

    /// Sequences `range` as a batch of their own.
    package func slice(_ range: Range<Int>) -> AddingBatch {
        var part = AddingBatch(length: length, inputs: [], targets: Array(targets[range]))
        part.inputs.reserveCapacity(length * range.count * 2)
        for t in 0..<length {
            part.inputs += inputs[(t * count + range.lowerBound) * 2 ..< (t * count + range.upperBound) * 2]
        }
        return part
    }

    private init(length: Int, inputs: [Float], targets: [Float]) {
        (self.length, self.count, self.inputs, self.targets) = (length, targets.count, inputs, targets)
    }
}
