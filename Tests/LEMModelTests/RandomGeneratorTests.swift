import XCTest
@testable import LEMModel
@testable import Runtime

final class RandomGeneratorTests: XCTestCase {
    func testSameSeedSameSequenceAndStateRoundTrip() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        XCTAssertEqual((0..<100).map { _ in a.next() }, (0..<100).map { _ in b.next() })
        var c = RandomGenerator(state: a.stateWords)!
        XCTAssertEqual((0..<10).map { _ in a.next() }, (0..<10).map { _ in c.next() })
        XCTAssertNil(RandomGenerator(state: [0, 0, 0, 0]))
        XCTAssertNotEqual(RandomGenerator(seed: 1, stream: 1).stateWords, RandomGenerator(seed: 1, stream: 2).stateWords)
    }

    func testKnownValuesAreStableAcrossMachines() {
        // Pinned outputs: a change here silently changes every seeded run of every user.
        var g = RandomGenerator(seed: 2024)
        let first = (0..<3).map { _ in g.next() }
        var h = RandomGenerator(seed: 2024)
        XCTAssertEqual(first, (0..<3).map { _ in h.next() })
        XCTAssertEqual(first, RandomGeneratorTests.pinned, "xoshiro256** output changed")
    }
    static let pinned: [UInt64] = [1029197146548041518, 14427268137155694693, 1329179038587965441]

    func testXoshiroMatchesTheReferenceOutputs() {
        // First outputs of xoshiro256** from state (1, 2, 3, 4), as in the reference C code's
        // known-answer tests (also used by Rust's rand_xoshiro).
        var g = RandomGenerator(state: [1, 2, 3, 4])!
        XCTAssertEqual((0..<6).map { _ in g.next() },
                       [11520, 0, 1509978240, 1215971899390074240, 1216172134540287360, 607988272756665600])
    }

    func testUniformAndBelowAndShuffle() {
        var g = RandomGenerator(seed: 7)
        let u = (0..<100_000).map { _ in g.uniformFloat() }
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(Double(u.reduce(0, +)) / 1e5, 0.5, accuracy: 0.01)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { counts[g.below(6)] += 1 }
        XCTAssertTrue(counts.allSatisfy { abs($0 - 10_000) < 500 }, "\(counts)")
        var a = Array(0..<50), b = Array(0..<50)
        var g1 = RandomGenerator(seed: 3), g2 = RandomGenerator(seed: 3)
        g1.shuffle(&a); g2.shuffle(&b)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.sorted(), Array(0..<50))
        XCTAssertNotEqual(a, Array(0..<50))
    }
}
