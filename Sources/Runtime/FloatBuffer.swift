/// A 64-byte-aligned, zero-initialised Float buffer with a fixed capacity.
///
/// Layers keep their activations and scratch space in these; they are allocated when a layer
/// first sees a (larger) sequence length or batch size and reused afterwards, so the training
/// loop allocates nothing per step.
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    public func zero() { pointer.update(repeating: 0, count: count) }

    public var array: [Float] { Array(buffer) }
}

/// Returns `buffer` if it holds at least `count` floats, else a new buffer of that size (kept in `buffer`).
@inlinable @inline(__always)
public func ensureBuffer(_ buffer: inout FloatBuffer?, _ count: Int) -> FloatBuffer {
    if let b = buffer, b.count >= count { return b }
    let b = FloatBuffer(count: count)
    buffer = b
    return b
}

/// `ensureBuffer`'s memory.
@inlinable @inline(__always)
package func ensure(_ buffer: inout FloatBuffer?, _ count: Int) -> UnsafeMutablePointer<Float> { ensureBuffer(&buffer, count).pointer }
