import CMPI
import Foundation

/// The processes of one data-parallel training job: MPI's world when the tool was started by
/// `mpirun` (Open MPI), otherwise a single process, which needs no MPI at all.
///
/// Every rank holds the whole model and runs the same steps; the trainer sums the gradients with
/// one `MPI_Allreduce` over the contiguous gradient block, so every rank takes the same optimizer
/// step and the parameters stay identical without ever being sent. Collective calls here must be
/// made by every rank in the same order: the trainer and the tasks call them at fixed points of
/// the loop (each step, each save, each validation), never on one rank's own decision.
///
/// A rank that dies takes the job with it: `mpirun` notices the lost process and ends the others
/// (they are blocked in a collective at the latest one step later), and a rank that fails with an
/// error calls `abort`, which ends them all at once, so a job never hangs.
public final class ProcessGroup: @unchecked Sendable {
    /// This process's place in the job: 0 ..< size. Rank 0 writes every file and the progress line.
    public let rank: Int
    public let size: Int
    /// Seconds spent in collective calls by this rank (the gradient allreduce and the small ones).
    public private(set) var communicationSeconds = 0.0
    private let usesMPI: Bool

    /// A single process (no MPI): tests and every run not started by `mpirun`.
    public static let single = ProcessGroup()

    /// The job this process belongs to: MPI's world if `mpirun` started it, else `single`.
    /// Initialises MPI on first use (and finalises it at exit); also caps OpenBLAS at
    /// `workerCount` threads, which counts the ranks sharing this machine.
    public static let world: ProcessGroup = {
        setBLASThreadCount(min(blasThreadCount(), workerCount))
        return startedByMPI ? ProcessGroup(mpi: ()) : .single
    }()

    /// True when the environment says `mpirun` (Open MPI's launcher, or any PMIx launcher) started
    /// this process.
    public static var startedByMPI: Bool { Environment.startedByMPI }

    private init() {
        (rank, size, usesMPI) = (0, 1, false)
    }

    private init(mpi: Void) {
        var provided: Int32 = 0
        // The tools call MPI from one thread at a time (the main thread; workers never do).
        MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
        var r: Int32 = 0, n: Int32 = 0
        MPI_Comm_rank(lem_mpi_comm_world(), &r)
        MPI_Comm_size(lem_mpi_comm_world(), &n)
        (rank, size, usesMPI) = (Int(r), Int(n), true)
        atexit { ProcessGroup.finalizeAtExit() }
    }

    private static func finalizeAtExit() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    public var isDistributed: Bool { size > 1 }
    /// Rank 0: the one process that writes checkpoints, logs and the progress line.
    public var isLeader: Bool { rank == 0 }

    /// The share of `0..<count` this rank owns: contiguous, in rank order, sizes differing by at
    /// most one (rank r owns count·r/size ..< count·(r+1)/size).
    public func share(of count: Int) -> Range<Int> {
        contiguousShare(rank, of: size, count: count)
    }

    /// Element-wise sum over the ranks, in place, of `count` floats.
    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        guard usesMPI, isDistributed, count > 0 else { return }
        timed { _ = MPI_Allreduce(lem_mpi_in_place(), values, Int32(count), lem_mpi_float(), lem_mpi_sum(), lem_mpi_comm_world()) }
    }

    /// Element-wise sum over the ranks of a few doubles (loss sums, counts).
    public func sum(_ values: inout [Double]) {
        guard usesMPI, isDistributed, !values.isEmpty else { return }
        let n = Int32(values.count)
        timed { values.withUnsafeMutableBufferPointer { _ = MPI_Allreduce(lem_mpi_in_place(), $0.baseAddress, n, lem_mpi_double(), lem_mpi_sum(), lem_mpi_comm_world()) } }
    }

    /// Element-wise maximum over the ranks (agreeing on a stop: any rank's request counts).
    public func maximum(_ values: inout [Double]) {
        guard usesMPI, isDistributed, !values.isEmpty else { return }
        let n = Int32(values.count)
        timed { values.withUnsafeMutableBufferPointer { _ = MPI_Allreduce(lem_mpi_in_place(), $0.baseAddress, n, lem_mpi_double(), lem_mpi_max(), lem_mpi_comm_world()) } }
    }

    /// Turns each rank's gradient of its share's mean loss (`localCount` of the batch's
    /// `totalCount` loss terms) into the gradient of the whole batch's mean loss on every rank:
    /// g ← Σ_r (n_r / n) · g_r, with one allreduce over the contiguous gradient block.
    public func averageGradients(_ parameters: ParameterBlock, localCount: Double, totalCount: Double) {
        guard isDistributed else { return }
        let weight = totalCount > 0 ? Float(localCount / totalCount) : 0
        let g = parameters.grads
        for i in 0..<parameters.count { g[i] *= weight }
        sum(g, count: parameters.count)
    }

    /// Every rank's `local` floats (the same count on every rank), concatenated in rank order.
    public func gather(_ local: [Float]) -> [Float] {
        guard usesMPI, isDistributed else { return local }
        var all = [Float](repeating: 0, count: local.count * size)
        timed {
            local.withUnsafeBufferPointer { l in
                all.withUnsafeMutableBufferPointer { a in
                    _ = MPI_Allgather(l.baseAddress, Int32(local.count), lem_mpi_float(), a.baseAddress, Int32(local.count),
                                      lem_mpi_float(), lem_mpi_comm_world())
                }
            }
        }
        return all
    }

    /// Every rank's `local` floats, of possibly different counts, concatenated in rank order.
    public func gatherVariable(_ local: [Float]) -> [Float] {
        guard usesMPI, isDistributed else { return local }
        var counts = [Double](repeating: 0, count: size)
        counts[rank] = Double(local.count)
        sum(&counts)
        let sizes = counts.map { Int32($0) }
        var offsets = [Int32](repeating: 0, count: size)
        for r in 1..<size { offsets[r] = offsets[r - 1] + sizes[r - 1] }
        var all = [Float](repeating: 0, count: Int(sizes.reduce(0, +)))
        timed {
            local.withUnsafeBufferPointer { l in
                all.withUnsafeMutableBufferPointer { a in
                    _ = MPI_Allgatherv(l.baseAddress, Int32(local.count), lem_mpi_float(), a.baseAddress, sizes, offsets,
                                       lem_mpi_float(), lem_mpi_comm_world())
                }
            }
        }
        return all
    }

    /// Refuses to go on unless every rank computed the same `fingerprint` of what must be equal
    /// on all of them (flags, data, initial parameters): ranks started with different flags or
    /// files would otherwise train different models while summing their gradients.
    public func checkSame(_ fingerprint: UInt64, what: String) throws {
        guard isDistributed else { return }
        // Two doubles carry the 64 bits exactly (32 bits each); equal minima and maxima mean equal values.
        let halves = [Double(fingerprint >> 32), Double(fingerprint & 0xFFFF_FFFF)]
        var high = halves, low = halves.map { -$0 }
        maximum(&high)
        maximum(&low)
        if high != halves || low.map({ -$0 }) != halves {
            throw TrainingError(description: "the \(size) MPI ranks differ in \(what): start every rank with the same binary, flags and data files")
        }
    }

    /// Ends the whole job at once with `code` (after a rank has reported an error).
    public func abort(code: Int32) -> Never {
        if usesMPI { MPI_Abort(lem_mpi_comm_world(), code) }
        exit(code)
    }

    private func timed(_ body: () -> Void) {
        let t0 = monotonicSeconds()
        body()
        communicationSeconds += monotonicSeconds() - t0
    }
}

/// FNV-1a, 64 bits: a fingerprint of bytes for `ProcessGroup.checkSame` (not cryptographic; it
/// only has to tell different flags or files apart).
public struct Fingerprint: Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    public mutating func combine(bytes: UnsafeRawBufferPointer) {
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01B3 }
    }

    public mutating func combine<T>(_ values: [T]) {
        values.withUnsafeBytes { combine(bytes: $0) }
    }

    public mutating func combine(_ text: String) {
        combine(Array(text.utf8))
    }
}
