import Foundation
import XCTest
@testable import SequenceModelling

/// The authors' data pipelines rebuilt natively, against what PyTorch, NumPy and SciPy give
/// (Fixtures/authors_data.json, made by tools/reference/make_task_fixtures.py): psMNIST's
/// permutation, the unseeded MNIST and CIFAR-10 splits, noisy CIFAR's noise, the EigenWorms and
/// heart-rate splits, FitzHugh-Nagumo's initial values and trajectories.
final class AuthorsDataTests: XCTestCase {
    nonisolated(unsafe) static let fixture: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/authors_data.json")
        return (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
    }()

    func ints(_ value: Any?) -> [Int] { (value as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.intValue } }
    func doubles(_ value: Any?) -> [Double] { (value as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.doubleValue } }
    /// Numbers the fixture stores as strings (Python's repr) so that they parse bit for bit
    /// (Foundation's JSON number parser may be off in the last bit).
    func exactDoubles(_ value: Any?) -> [Double] { (value as? [Any] ?? []).compactMap { ($0 as? String).flatMap(Double.init) } }

    /// Compares a permutation with a fixture's first and last 100 entries and its checksum.
    func assertHeadTail(_ p: [Int], _ key: String, file: StaticString = #filePath, line: UInt = #line) {
        let f = Self.fixture[key] as? [String: Any] ?? [:]
        XCTAssertEqual(p.count, (f["count"] as? NSNumber)?.intValue, "\(key) size", file: file, line: line)
        XCTAssertEqual(Array(p.prefix(100)), ints(f["first"]), "\(key): first 100", file: file, line: line)
        XCTAssertEqual(Array(p.suffix(100)), ints(f["last"]), "\(key): last 100", file: file, line: line)
        let sum = p.enumerated().reduce(0) { ($0 + $1.offset * $1.element) % (1 << 61) }
        XCTAssertEqual(sum, (f["sum_of_index_times_value"] as? NSNumber)?.intValue, "\(key): checksum of all", file: file, line: line)
    }

    func testFixtureIsPresent() {
        XCTAssertFalse(Self.fixture.isEmpty, "Fixtures/authors_data.json is missing or unreadable")
    }

    func testPermutedMNISTOrderIsTorchRandpermAfterSeed5544() {
        XCTAssertEqual(PaperTask.psMNISTPermutation(), ints(Self.fixture["psmnist_permutation"]))
    }

    func testModelInitDrawsMatchTheAuthorsModel() {
        // The fixture's splits were drawn after building the authors' model in PyTorch; the
        // formula must count the same draws for the split to match (checked below).
        XCTAssertEqual(PaperTask.modelInitDraws(inputs: 1, hidden: 128, classes: 10), 136_714)
        XCTAssertEqual(PaperTask.modelInitDraws(inputs: 96, hidden: 128, classes: 10), 233_994)
    }

    func testUnseededMNISTSplitsAreTheAuthors() {
        var torch = TorchGenerator(seed: 5544)
        torch.engine.discard(PaperTask.modelInitDraws(inputs: 1, hidden: 128, classes: 10))
        assertHeadTail(torch.randperm(60000), "smnist_split")
        var permuted = TorchGenerator(seed: 5544)
        _ = permuted.randperm(784)
        permuted.engine.discard(PaperTask.modelInitDraws(inputs: 1, hidden: 128, classes: 10))
        assertHeadTail(permuted.randperm(60000), "psmnist_split")
    }

    func testNoisyCIFARSplitAndNoiseAreTheAuthors() {
        var torch = TorchGenerator(seed: 5544)
        torch.engine.discard(PaperTask.modelInitDraws(inputs: 96, hidden: 128, classes: 10))
        assertHeadTail(torch.randperm(50000), "ncifar_split")
        let noise = torch.randn(968 * 96)
        let f = Self.fixture["ncifar_noise"] as? [String: Any] ?? [:]
        let expected = doubles(f["first"]) + doubles(f["last"])
        let observed = Array(noise.prefix(100) + noise.suffix(100)).map(Double.init)
        let error = zip(expected, observed).map { abs($0 - $1) }.max() ?? .infinity
        let tolerance = 1e-5   // PyTorch computes Box-Muller in float, we in double and round
        print("noisy CIFAR noise: 200 values against torch.randn, max |difference| \(error), tolerance \(tolerance)")
        XCTAssertEqual(expected.count, 200)
        XCTAssertLessThan(error, tolerance)
        let mean = noise.reduce(0.0) { $0 + Double($1) } / Double(noise.count)
        XCTAssertEqual(mean, (f["mean"] as? NSNumber)?.doubleValue ?? .nan, accuracy: 1e-6)
    }

    func testEigenWormsSplitIsScikitLearns() {
        let f = Self.fixture["eigenworms_split"] as? [String: Any] ?? [:]
        let (train, heldOut) = scikitTrainTestSplit(259, testFraction: 0.3, seed: 1234)
        let (validPart, testPart) = scikitTrainTestSplit(heldOut.count, testFraction: 0.5, seed: 1234)
        XCTAssertEqual(train, ints(f["train"]))
        XCTAssertEqual(validPart.map { heldOut[$0] }, ints(f["valid"]))
        XCTAssertEqual(testPart.map { heldOut[$0] }, ints(f["test"]))
        XCTAssertEqual([train.count, validPart.count, testPart.count], [181, 39, 39])
    }

    func testHeartRateSplitIsTheAuthors() {
        let f = Self.fixture["heart_rate_split"] as? [String: Any] ?? [:]
        var first = TorchGenerator(seed: 123456), second = TorchGenerator(seed: 123456)
        let order = first.randperm(7949)
        let rest = Array(order[5565...])
        let half = second.randperm(rest.count)
        assertHeadTail(Array(order[..<5565]), "heart_rate_split", key2: "train")
        XCTAssertEqual(half[..<1192].map { rest[$0] }, ints(f["test"]))
        XCTAssertEqual(half[1192...].map { rest[$0] }, ints(f["valid"]))
    }

    func assertHeadTail(_ p: [Int], _ key: String, key2: String) {
        let f = (Self.fixture[key] as? [String: Any])?[key2] as? [String: Any] ?? [:]
        XCTAssertEqual(p.count, (f["count"] as? NSNumber)?.intValue)
        XCTAssertEqual(Array(p.prefix(100)), ints(f["first"]))
        XCTAssertEqual(Array(p.suffix(100)), ints(f["last"]))
    }

    func testFitzHughNagumoInitialValuesAreNumPys() {
        var rng = NumPyRandomState(seed: 1234)
        let v0 = (0..<1280).map { _ in rng.randomSample() * 2 - 1 }
        XCTAssertEqual(v0, exactDoubles(Self.fixture["fhn_v0"]), "bit for bit")
    }

    func testFitzHughNagumoTrajectoriesFollowSciPy() {
        let expected = (Self.fixture["fhn_trajectories"] as? [Any] ?? []).map(doubles)
        XCTAssertEqual(expected.count, 3)
        let v0 = exactDoubles(Self.fixture["fhn_v0"])
        // SciPy's step-size control decides each step from an error norm near 1; the last bits
        // of a sum can flip one decision and move the solution by about rtol·(step error).
        let tolerance = 5e-5
        for (k, reference) in expected.enumerated() {
            let ours = FitzHughNagumo().trajectory(v0: v0[k])
            let error = zip(ours, reference).map { abs($0 - $1) }.max() ?? .infinity
            print("FitzHugh-Nagumo trajectory \(k) (v₀ = \(v0[k])): 1,001 points against SciPy's solve_ivp, max |difference| \(error), tolerance \(tolerance)")
            XCTAssertEqual(ours.count, 1001)
            XCTAssertLessThan(error, tolerance)
        }
    }

    func testAuthorsSplitsOfFitzHughNagumo() {
        let sets = FitzHughNagumo().authorsSplits(sizes: (3, 2, 2))
        XCTAssertEqual([sets.train.count, sets.valid.count, sets.test.count], [3, 2, 2])
        XCTAssertEqual(sets.train.steps, 1000)
        guard case let .stepTargets(y, width) = sets.train.labels else { return XCTFail("targets at every step") }
        XCTAssertEqual(width, 1)
        // The target is the input one step on.
        XCTAssertEqual(Array(y[0..<999]), Array(sets.train.values[1..<1000]))
        XCTAssertEqual(Double(sets.train.values[0]), exactDoubles(Self.fixture["fhn_v0"])[0], accuracy: 1e-7)
    }
}
