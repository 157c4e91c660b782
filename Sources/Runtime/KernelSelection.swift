import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Makes sure OpenBLAS uses the fastest kernels this CPU supports.
///
/// OpenBLAS picks its kernels when the library loads. Debian's OpenBLAS 0.3.21 does not know
/// recent CPUs (e.g. AMD Zen 5 is detected as "Prescott", SSE3 only: about 4× slower than its
/// AVX-512 kernels), and `setenv` inside the process comes too late. So when the variable
/// `OPENBLAS_CORETYPE` is not set, the chosen kernels are older than what `/proc/cpuinfo`
/// offers, this re-executes the program once with `OPENBLAS_CORETYPE` set to `SkylakeX`
/// (AVX-512F/BW/DQ/VL) or `Haswell` (AVX2 + FMA). An explicit `OPENBLAS_CORETYPE` is always
/// respected. Call it first thing in `main`.
public func selectFastBLASKernels() {
    guard Environment.blasCoreType == nil, !Environment.blasReexecuted else { return }
    guard let wanted = preferredCoreType(), !kernelsAreModern(blasCoreName(), for: wanted) else { return }
    setenv("OPENBLAS_CORETYPE", wanted, 1)
    setenv("LEM_BLAS_REEXEC", "1", 1)   // never loop, even if OpenBLAS ignores the request
    fflush(nil)
    var args: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) } + [nil]
    execv("/proc/self/exe", &args)
    // execv only returns on failure: carry on with the kernels we have.
}

/// "SkylakeX", "Haswell", or nil, from the CPU's feature flags.
package func preferredCoreType() -> String? {
    guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let flags = Set(line.split(separator: " ").map(String.init))
    if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
    if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
    return nil
}

/// Whether OpenBLAS's chosen kernel set is already at least as wide as `wanted`.
package func kernelsAreModern(_ core: String, for wanted: String) -> Bool {
    let avx512 = ["SkylakeX", "Cooperlake", "SapphireRapids"]
    let avx2 = ["Haswell", "Zen", "Excavator"] + avx512
    return wanted == "SkylakeX" ? avx512.contains(core) : avx2.contains(core)
}
