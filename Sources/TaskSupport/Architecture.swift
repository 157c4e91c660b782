import LEMModel

/// The recurrent stack a training run asks for: which cell, how many layers, the dropout between
/// them (nil: the default, or what a resumed checkpoint holds).
public struct Architecture: Sendable, Equatable {
    public var cell: CellKind?
    public var layers: Int?
    public var dropoutLayer: Float?
    public init(cell: CellKind? = nil, layers: Int? = nil, dropoutLayer: Float? = nil) {
        (self.cell, self.layers, self.dropoutLayer) = (cell, layers, dropoutLayer)
    }

    /// Refuses a request that contradicts the model a resumed run continues.
    public func checkResume(cell saved: CellKind, layers savedLayers: Int, path: String) throws {
        if let cell, cell != saved {
            throw CheckpointError(path: path, problem: "it holds a \(saved.rawValue) model, not --cell \(cell.rawValue) (drop --cell to resume it)")
        }
        if let layers, layers != savedLayers {
            throw CheckpointError(path: path, problem: "it holds \(savedLayers) layer(s), not --layers \(layers) (drop --layers to resume it)")
        }
    }
}

/// Settings that are each valid but cannot train on the data given (found once it is read).
public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How long and how safely a training run goes: its stopping points and periodic saves.
public struct RunLimits: Sendable {
    /// Stop (resumably) after this many minutes of training (validation not counted).
    public var maxMinutes: Double?
    /// Stop (resumably) after this many optimizer steps in all.
    public var maxSteps: Int?
    /// Minutes between resumable saves within an epoch.
    public var saveEveryMinutes: Double = 10
    /// Also save every this many steps (tests).
    public var saveEverySteps: Int?
    public init(maxMinutes: Double? = nil, maxSteps: Int? = nil, saveEveryMinutes: Double = 10, saveEverySteps: Int? = nil) {
        (self.maxMinutes, self.maxSteps, self.saveEveryMinutes, self.saveEverySteps) = (maxMinutes, maxSteps, saveEveryMinutes, saveEverySteps)
    }

    /// Writes the limits into trainer settings.
    public func apply(to settings: inout TrainerSettings) {
        settings.maxMinutes = maxMinutes
        settings.maxSteps = maxSteps
        settings.saveEveryMinutes = saveEveryMinutes
        settings.saveEverySteps = saveEverySteps
    }
}
