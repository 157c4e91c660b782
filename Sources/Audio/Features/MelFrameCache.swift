/// Mel-power frames of one stream, by the stream sample they start at, for `FeatureExtractor`'s
/// windowed `compute`: 1 s windows every 100 ms overlap by 90 %, and a frame two windows share is
/// computed once (MFCC, hop 160: every window shares its interior frames with the next, 10× fewer
/// FFTs; the paper's log-mel, hop 128, does not divide a 1,600-sample stride: every other
/// window, about 5× fewer). Not thread-safe: one cache per thread (each scanning its own
/// ascending run of windows). Memory is fixed once the first windows have filled it.
public final class MelFrameCache: @unchecked Sendable {
    private var slots: [Int: Int] = [:]          // frame start → slot
    private var free: [Int] = []
    private var storage: UnsafeMutablePointer<Float>?
    private var capacity = 0, melCount = 0

    /// The speech embeddings of the stream (96 values each, by the sample their first mel frame
    /// starts at) for the `.speechEmbedding` features, whose mel frames are this cache's.
    var embeddings: MelFrameCache {
        if let child { return child }
        let made = MelFrameCache()
        child = made
        return made
    }
    private var child: MelFrameCache?

    public init() {}
    deinit { storage?.deallocate() }

    /// The cached mel powers of the frame starting at stream sample `start`, if any.
    func frame(startingAt start: Int) -> UnsafePointer<Float>? {
        guard let slot = slots[start], let storage else { return nil }
        return UnsafePointer(storage + slot * melCount)
    }

    /// Keeps a copy of a frame's mel powers (ignored when full: the cache never grows past its
    /// first size, and a missing frame is only recomputed).
    func store(_ row: UnsafePointer<Float>, startingAt start: Int) {
        guard slots[start] == nil, let slot = free.popLast(), let storage else { return }
        slots[start] = slot
        (storage + slot * melCount).update(from: row, count: melCount)
    }

    /// Frames held now.
    public var cachedFrameCount: Int { slots.count }

    /// Forgets every frame: call before the windows of another stream.
    public func removeAll() {
        for slot in slots.values { free.append(slot) }
        slots.removeAll(keepingCapacity: true)
        child?.removeAll()
    }

    /// Forgets frames that start before `offset` (no later window needs them); allocates room
    /// for `melCount`-wide frames on first use.
    func drop(before offset: Int, melCount: Int) {
        if storage == nil || self.melCount != melCount {
            storage?.deallocate()
            self.melCount = melCount
            capacity = 1024
            storage = UnsafeMutablePointer<Float>.allocate(capacity: capacity * melCount)
            slots.removeAll(keepingCapacity: true)
            free = Array((0..<capacity).reversed())
            return
        }
        for start in slots.keys.filter({ $0 < offset }) { free.append(slots.removeValue(forKey: start)!) }
    }
}
