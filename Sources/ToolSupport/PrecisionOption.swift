import ArgumentParser

/// `--int8` of the commands that run a trained model (sample, eval, classify, listen, bench).
public struct PrecisionOption: ParsableArguments {
    @Flag(name: .customLong("int8"), help: ArgumentHelp(
        "Run the model's products in int8: per-row symmetric int8 weights, activations quantised per step, int32 sums (on AVX-512 VNNI when the build machine has it). Automatic for a checkpoint written by `quantize`."))
    public var int8 = false

    public init() {}
}
