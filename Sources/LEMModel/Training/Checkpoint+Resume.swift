/// What a resumable checkpoint adds to a model checkpoint: the optimiser's moments (as
/// `optimizer.m.<name>`, and `optimizer.v.<name>` for Adam, laid out as the parameters), the
/// running sum of weight averaging (`average.sum`, F64, the whole parameter block) once it has
/// started, and the training progress (the `training` metadata entry).
extension Checkpoint {
    /// A checkpoint of `parameters`; with `optimizer` and `training` it is resumable exactly.
    public init<Model: Encodable, Tool: Encodable>(
        kind: String, model: Model, tool: Tool, parameters: ParameterBlock,
        optimizer: Optimizer?, training: TrainingProgress?, extra: [String: (shape: [Int], values: [Float])] = [:]
    ) {
        self.init(kind: kind, model: model, tool: tool, parameters: parameters, extra: extra)
        if let optimizer {
            store(optimizer.firstMoment.pointer, laidOutAs: parameters, prefix: "optimizer.m.")
            if optimizer.settings.kind == .adam { store(optimizer.secondMoment.pointer, laidOutAs: parameters, prefix: "optimizer.v.") }
        }
        if let training { trainingJSON = Self.encode(training) }
    }

    /// Stores weight averaging's running sum.
    public mutating func store(average: WeightAverage) {
        store("average.sum", doubles: average.runningSums)
    }

    /// The weight average of a resumable checkpoint whose progress says `count` iterates were summed.
    public func loadAverage(count: Int, parameterCount: Int) throws -> WeightAverage {
        let sums: [Double]
        do { sums = try file.doubles("average.sum") } catch let e as SafeTensorsError {
            throw CheckpointError(path: path, problem: "cannot resume the weight average: \(e)")
        }
        guard sums.count == parameterCount, count > 0 else {
            throw CheckpointError(path: path, problem: "cannot resume: the weight average holds \(sums.count) values for \(parameterCount) parameters")
        }
        return WeightAverage(sums: sums, count: count)
    }

    /// The training progress of a resumable checkpoint, or nil for a model-only one.
    public func trainingProgress() throws -> TrainingProgress? {
        guard let trainingJSON else { return nil }
        return try decode(TrainingProgress.self, trainingJSON, "training state")
    }

    /// Whether this checkpoint holds an optimiser state (it was written for resuming).
    public var hasOptimizerState: Bool { hasTensors(prefix: "optimizer.m.") }

    /// Restores the optimiser moments into `optimizer` (its step count comes from the training progress).
    public func loadOptimizerState(into optimizer: Optimizer, layout parameters: ParameterBlock) throws {
        do {
            try load(optimizer.firstMoment.pointer, laidOutAs: parameters, prefix: "optimizer.m.")
            if optimizer.settings.kind == .adam { try load(optimizer.secondMoment.pointer, laidOutAs: parameters, prefix: "optimizer.v.") }
        } catch let e as CheckpointError {
            throw CheckpointError(path: e.path, problem: "cannot resume: \(e.problem)")
        }
    }
}
