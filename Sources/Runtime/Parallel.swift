import Dispatch
import Foundation

/// A pointer that may cross into a `@Sendable` closure; the caller guarantees disjoint writes.
public struct SendablePointer<T>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<T>
    public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// Number of worker threads for non-BLAS loops: the machine's cores (2 on the reference machine),
/// shared between the MPI ranks `mpirun` started on this machine (Open MPI's
/// OMPI_COMM_WORLD_LOCAL_SIZE), or `LEM_THREADS` when set.
public let workerCount: Int = {
    if let n = Environment.threads { return n }
    return max(1, min(ProcessInfo.processInfo.activeProcessorCount / max(1, Environment.localMPIRanks), 64))
}()

/// Part `part` of `0..<count` cut into `parts` contiguous pieces in order, sizes differing by at
/// most one: count·part/parts ..< count·(part+1)/parts. The one split of a batch over replicas,
/// MPI ranks and worker chunks.
@inlinable
public func contiguousShare(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
    count * part / parts ..< count * (part + 1) / parts
}

/// `0..<count` cut into `parts` contiguous pieces (`contiguousShare` of each part).
@inlinable
public func contiguousShares(_ parts: Int, count: Int) -> [Range<Int>] {
    (0..<parts).map { contiguousShare($0, of: parts, count: count) }
}

/// Runs `body` over `0..<count` split into one contiguous chunk per worker, in parallel when the
/// work is large enough to pay for the thread hand-off (≳0.3 ms per chunk; docs/SWIFT_NOTES.md §7), and
/// serially otherwise. `body` receives a range and its chunk index.
///
/// Work must not call BLAS with more than one thread inside `body` (oversubscription).
public func parallelChunks(_ count: Int, costPerItem: Int, _ body: @Sendable (Range<Int>, Int) -> Void) {
    let chunks = parallelChunkCount(count, costPerItem: costPerItem)
    if chunks <= 1 { body(0..<count, 0); return }
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        body(contiguousShare(c, of: chunks, count: count), c)
    }
}

/// How many chunks `parallelChunks` makes of this work (chunk indices are 0..<that).
public func parallelChunkCount(_ count: Int, costPerItem: Int) -> Int {
    let minimumWork = 400_000  // elementary operations per chunk worth a thread
    return insideDataParallel ? 1 : max(1, min(workerCount, max(1, count * costPerItem / minimumWork), count))
}

/// True while `dataParallel` runs its workers: nested loops then stay serial (each core is busy).
nonisolated(unsafe) private var insideDataParallel = false

/// Runs `body(worker)` for each of `workers` workers on their own cores, with OpenBLAS set to one
/// thread meanwhile (each worker's matrix products run on its own core; nesting BLAS threads
/// inside would oversubscribe, docs/SWIFT_NOTES.md §7). Used for data-parallel training: each worker runs
/// a model replica on its slice of the batch, with no synchronisation inside the recurrence.
public func dataParallel(workers: Int, _ body: @Sendable (Int) -> Void) {
    guard workers > 1 else { body(0); return }
    withSingleThreadedBLAS {
        insideDataParallel = true
        defer { insideDataParallel = false }
        DispatchQueue.concurrentPerform(iterations: workers, execute: body)
    }
}

/// Runs `body` with OpenBLAS at one thread, then restores the previous count.
///
/// For a recurrence over one or a few sequences every product is tiny (a [1, 128]·[128, 384]
/// product is 0.1 MFLOP), and handing half of it to a second BLAS thread costs more than it
/// saves (one keyword clip is faster on one thread: docs/BENCHMARKS.md).
public func withSingleThreadedBLAS<Result>(_ body: () throws -> Result) rethrows -> Result {
    let blasThreads = blasThreadCount()
    guard blasThreads > 1 else { return try body() }
    setBLASThreadCount(1)
    defer { setBLASThreadCount(blasThreads) }
    return try body()
}
