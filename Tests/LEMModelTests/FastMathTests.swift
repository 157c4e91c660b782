import Foundation
import XCTest
@testable import LEMModel
@testable import Runtime

/// The activation approximations against Double references, swift-numerics style: the error is
/// printed with the tolerance from each function's documented contract.
final class FastMathTests: XCTestCase {
    func sweep(_ lo: Float, _ hi: Float, count: Int = 200_001) -> [Float] {
        (0..<count).map { lo + (hi - lo) * Float($0) / Float(count - 1) }
    }

    func testTanhAbsoluteError() {
        var worst = (x: Float(0), err: 0.0)
        for x in sweep(-20, 20) + [0, -0, 1e-30, -1e-30, .greatestFiniteMagnitude, -.greatestFiniteMagnitude] {
            let err = abs(Double(tanhFast(x)) - tanh(Double(x)))
            if err > worst.err { worst = (x, err) }
        }
        print("tanhFast: max |error| \(worst.err) at x = \(worst.x) (tolerance 1e-6)")
        XCTAssertLessThan(worst.err, 1e-6)
        XCTAssertEqual(tanhFast(0), 0)
    }

    func testSigmoidAbsoluteError() {
        var worst = 0.0
        for x in sweep(-30, 30) {
            worst = max(worst, abs(Double(sigmoidFast(x)) - 1 / (1 + exp(-Double(x)))))
        }
        print("sigmoidFast: max |error| \(worst) (tolerance 1e-6)")
        XCTAssertLessThan(worst, 1e-6)
    }

    func testExpRelativeError() {
        var worst = 0.0
        for x in sweep(-87, 88) {
            let ref = exp(Double(x))
            worst = max(worst, abs(Double(expFast(x)) - ref) / ref)
        }
        print("expFast: max relative error \(worst) on [-87, 88] (tolerance 1e-6)")
        XCTAssertLessThan(worst, 1e-6)
        XCTAssertEqual(expFast(0), 1)
        XCTAssertTrue(expFast(-1000) >= 0 && expFast(-1000) < 1e-37)
    }
}
