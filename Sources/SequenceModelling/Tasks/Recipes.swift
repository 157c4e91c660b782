import LEMModel

/// A sequence run's model size and optimisation: what `--preset` sets and flags override.
package struct SequenceRecipe: Equatable, Sendable {
    package var hidden = 128
    /// The LEM's Δt.
    package var dt: Float = 1
    package var lr: Float = 1e-3
    package var batch = 120
    package var epochs = 30
    /// Multiply the learning rate by `lrDecay` after these epochs.
    package var decayAt: [Int] = []
    package var lrDecay: Float = 0.1
    /// Global gradient-norm clip (nil: none).
    package var clip: Float?

    package init() {}

    /// The authors' settings for `task`: their scripts' argparse defaults and schedules
    /// (tk-rusch/LEM at 833da6b, `src/<task>/*_task.py`), Adam in every task.
    package static func authors(_ task: PaperTask) -> SequenceRecipe {
        var r = SequenceRecipe()
        switch task {
        case .smnist: (r.hidden, r.dt, r.lr, r.batch, r.epochs, r.decayAt, r.clip) = (128, 0.21, 0.0018, 128, 120, [100], 1.0)
        case .psmnist: (r.hidden, r.dt, r.lr, r.batch, r.epochs, r.decayAt, r.clip) = (128, 0.31, 0.0073, 128, 120, [100], 1.1)
        case .ncifar: (r.hidden, r.dt, r.lr, r.batch, r.epochs, r.decayAt, r.clip) = (128, 0.44, 0.00322, 100, 120, [100], nil)
        case .eigenworms: (r.hidden, r.dt, r.lr, r.batch, r.epochs, r.decayAt, r.clip) = (32, 0.00017, 0.00609, 8, 50, [], nil)
        case .heartRate: (r.hidden, r.dt, r.lr, r.batch, r.epochs, r.decayAt, r.clip) = (128, 0.2371, 0.00211, 32, 500, [250], nil)
        // Their FitzHugh-Nagumo script builds the LEM without a dt argument: Δt is the class default, 1.
        case .fhn: (r.hidden, r.dt, r.lr, r.batch, r.epochs, r.decayAt, r.clip) = (16, 1.0, 0.00904, 32, 400, [], nil)
        }
        return r
    }
}
