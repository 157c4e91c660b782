import Foundation

/// Which routes the matrix products may take, as one value: the cells' per-step products follow
/// `ProductPolicy.current`, which tests and benchmarks set; the process starts from
/// `fromEnvironment`, the only place the product switches are read.
///
/// - `smallKernels`: the small products of one thread (A [≤ 64, k] · B [k, n], k, n ≤ 1024, no
///   transposes: a model replica's per-step products) go through libxsmm's JIT kernels instead of
///   OpenBLAS (`gemm`). `LEM_SMALL_GEMM=0` turns it off, for A/B timing.
/// - `packedWeights`: the per-step products of a layer of at least `packedMinimumHidden` units
///   over at least `packedMinimumBatch` sequences run on oneDNN's packed weights (`StepProduct`):
///   measured faster at the char shape (hidden 1024, batch 128) and slower at the small ones
///   (docs/BENCHMARKS.md). `LEM_STEP_PRODUCT=0` turns it off.
public struct ProductPolicy: Sendable, Equatable {
    public var smallKernels = true
    public var packedWeights = true
    public var packedMinimumHidden = 512
    public var packedMinimumBatch = 32

    public init(smallKernels: Bool = true, packedWeights: Bool = true, packedMinimumHidden: Int = 512, packedMinimumBatch: Int = 32) {
        (self.smallKernels, self.packedWeights) = (smallKernels, packedWeights)
        (self.packedMinimumHidden, self.packedMinimumBatch) = (packedMinimumHidden, packedMinimumBatch)
    }

    /// The defaults, with `LEM_SMALL_GEMM=0` / `LEM_STEP_PRODUCT=0` from the environment.
    public static let fromEnvironment = ProductPolicy(smallKernels: Environment.smallKernels, packedWeights: Environment.stepProduct)

    /// The policy in force (set it before a model runs; replicas read it on each product).
    nonisolated(unsafe) public static var current = fromEnvironment

    /// Whether a layer of `hidden` units over `batch` sequences runs its per-step products on packed weights.
    public func packsWeights(hidden: Int, batch: Int) -> Bool {
        packedWeights && hidden >= packedMinimumHidden && batch >= packedMinimumBatch
    }
}
