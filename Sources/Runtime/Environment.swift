import Foundation

/// Every environment variable the project reads, read here and nowhere else: the rest of the code
/// takes the values (`ProductPolicy.fromEnvironment`, `workerCount`, …), so a test or a bench sets
/// a value instead of an environment.
public enum Environment {
    private static var variables: [String: String] { ProcessInfo.processInfo.environment }

    /// `LEM_THREADS`: worker threads for the loops outside BLAS (1…64), or nil for the default.
    public static var threads: Int? { variables["LEM_THREADS"].flatMap { Int($0) }.flatMap { $0 >= 1 ? min($0, 64) : nil } }
    /// `LEM_SMALL_GEMM=0` keeps small single-threaded products on OpenBLAS (A/B timing).
    public static var smallKernels: Bool { variables["LEM_SMALL_GEMM"] != "0" }
    /// `LEM_STEP_PRODUCT=0` keeps the per-step products of large layers off oneDNN (A/B timing).
    public static var stepProduct: Bool { variables["LEM_STEP_PRODUCT"] != "0" }
    /// `LEM_REPORT_PEAK_RSS=1`: the tools print their peak resident memory at the end (the tests
    /// that check long recordings are processed in bounded memory).
    public static var reportsPeakMemory: Bool { variables["LEM_REPORT_PEAK_RSS"] == "1" }
    /// `LEM_CORPORA`: where the default corpora live (else found from the checkout).
    public static var corpora: String? { variables["LEM_CORPORA"].flatMap { $0.isEmpty ? nil : $0 } }

    /// Open MPI's `OMPI_COMM_WORLD_LOCAL_SIZE`: the ranks `mpirun` started on this machine.
    public static var localMPIRanks: Int { variables["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) } ?? 1 }
    /// Whether `mpirun` (Open MPI's, or any PMIx launcher) started this process.
    public static var startedByMPI: Bool { variables["OMPI_COMM_WORLD_SIZE"] != nil || variables["PMIX_RANK"] != nil }

    /// `OPENBLAS_CORETYPE` as the user set it (OpenBLAS reads it itself when it loads), and
    /// `LEM_BLAS_REEXEC`, the marker of the one re-execution `selectFastBLASKernels` makes.
    static var blasCoreType: String? { variables["OPENBLAS_CORETYPE"] }
    static var blasReexecuted: Bool { variables["LEM_BLAS_REEXEC"] != nil }
}
