import LEMModel
import Runtime
import TaskSupport

/// One recurrent layer and a linear read-out of its last hidden state, trained on the mean squared
/// error, with the batch split between replicas on the cores (they share the parameter values; the
/// gradients are combined by sequence counts, as `ParallelSequenceClassifier` does).
package final class AddingModel: @unchecked Sendable {
    package let parameters: ParameterBlock
    private let replicas: [(block: ParameterBlock, layer: any RecurrentLayer, readout: Linear)]
    /// Each replica's own scratch: an object per replica in an array that never changes, so the
    /// workers grow their buffers without touching shared storage (growing a shared `[[Float]]`
    /// from several threads raced: a copy-on-write of the outer array could free it under another
    /// worker).
    private let scratch: [ReplicaScratch]
    private final class ReplicaScratch: @unchecked Sendable {
        var predictions: FloatBuffer?, hiddenGrads: FloatBuffer?
    }

    package init(cell: CellKind, hiddenSize d: Int, dt: Float, workers: Int) {
        var layout = LayoutBuilder()
        cell.declare(&layout, layer: 0, inputSize: 2, hiddenSize: d, dt: dt)
        Linear.declare(&layout, prefix: "readout.", inputSize: d, outputSize: 1)
        let shared = ParameterBlock(layout)
        parameters = shared
        replicas = (0..<max(1, workers)).map { w in
            let block = w == 0 ? shared : ParameterBlock(sharingValuesWith: shared)
            return (block, cell.makeLayer(parameters: block, layer: 0, inputSize: 2, hiddenSize: d, dt: dt),
                    Linear(weight: block.parameter("readout.weight"), bias: block.parameter("readout.bias")))
        }
        scratch = replicas.map { _ in ReplicaScratch() }
    }

    /// The authors' initialisation (tk-rusch/LEM `src/adding/network.py`): the cell's, then the
    /// read-out's weight N(0, 2/d) (`kaiming_normal_`) and bias U(±1/√d); every cell alike.
    package func initialize(_ rng: inout RandomGenerator) {
        replicas[0].layer.initialize(&rng)
        replicas[0].readout.initializeKaimingNormal(&rng)
    }

    /// Forward (and with `train` backward) of replica `w` on `data`; returns the summed squared error.
    private func run(_ w: Int, _ data: AddingBatch, train: Bool) -> Double {
        let (block, layer, readout) = replicas[w]
        let B = data.count
        let p = ensure(&scratch[w].predictions, B)
        var sum = 0.0
        data.inputs.withUnsafeBufferPointer { u in
            layer.forward(input: u.baseAddress!, steps: data.length, batch: B, initialHidden: nil, initialCell: nil,
                          stateMask: nil, inputStaysValid: true)
            readout.forward(input: layer.finalHidden, rows: B, output: p)
            for b in 0..<B {
                let error = p[b] - data.targets[b]
                sum += Double(error * error)
                p[b] = 2 * error / Float(B)   // ∂(mean squared error)/∂prediction
            }
            guard train else { return }
            let dh = ensure(&scratch[w].hiddenGrads, B * layer.hiddenSize)
            block.zeroGrads()
            readout.backward(input: layer.finalHidden, outputGrad: p, rows: B, inputGrad: dh, biasGradientDone: false)
            layer.backward(outputGrad: nil, finalHiddenGrad: dh, finalCellGrad: nil, inputGrad: nil,
                           initialHiddenGrad: nil, initialCellGrad: nil)   // (inside: it reads the inputs again)
        }
        return sum
    }

    /// Forward and backward of one batch; the gradient of the batch's mean squared error ends in
    /// `parameters.grads`. Returns the mean squared error.
    package func trainStep(_ data: AddingBatch) -> Double {
        let ranges = split(data.count)
        var sums = [Double](repeating: 0, count: ranges.count)
        let parts = ranges.map { data.slice($0) }
        sums.withUnsafeMutableBufferPointer { s in
            let out = SendablePointer(s.baseAddress!)
            dataParallel(workers: ranges.count) { w in out.pointer[w] = self.run(w, parts[w], train: true) }
        }
        parameters.combineGradients(replicas.prefix(ranges.count).map(\.block), weights: ranges.map { Float($0.count) / Float(data.count) })
        return sums.reduce(0, +) / Double(data.count)
    }

    /// Mean squared error over `data`, `chunk` sequences per forward pass on each replica.
    package func meanSquaredError(_ data: AddingBatch, chunk: Int) -> Double {
        var total = 0.0
        var start = 0
        while start < data.count {
            let end = min(data.count, start + chunk * replicas.count)
            let ranges = split(end - start).map { ($0.lowerBound + start)..<($0.upperBound + start) }
            let parts = ranges.map { data.slice($0) }
            var sums = [Double](repeating: 0, count: ranges.count)
            sums.withUnsafeMutableBufferPointer { s in
                let out = SendablePointer(s.baseAddress!)
                dataParallel(workers: ranges.count) { w in out.pointer[w] = self.run(w, parts[w], train: false) }
            }
            total += sums.reduce(0, +)
            start = end
        }
        return total / Double(data.count)
    }

    private func split(_ count: Int) -> [Range<Int>] {
        let W = min(replicas.count, count)
        return contiguousShares(W, count: count)
    }
}
