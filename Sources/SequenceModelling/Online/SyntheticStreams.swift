import Foundation
import Runtime

/// Endless synthetic streams for online learning (`seq make-data linear|switching|fhn-drift`),
/// one vector per step, seeded.
///
/// - `linear`: x_{t+1} = ρ·R(ω)·x_t + σ·ε_t in 2-D (R a rotation, ε standard normal): a known
///   linear system; the best possible one-step prediction leaves exactly σ² of squared error per
///   value, so a learner's prequential error can be read against it.
/// - `switching`: the same, ω switching between `omegas` every `period` steps (regimes a learner
///   must adapt to, and forget).
/// - `fhn-drift`: the paper's FitzHugh-Nagumo system (v' = v − v³/3 − w + I, w' = ε(v + a − b·w))
///   sampled every 0.4 time units (the authors' grid) with its input current I changing every
///   `period` steps (0.5, 1.0, 0.3, …: spiking at different rates, then resting), plus σ·ε of
///   observation noise; one value per step (v).
///
/// Labelled (`labelled()`), each vector is followed by the regime that produced it (the angle's
/// or the current's index): a classification stream for `seq online --classes`, whose class
/// changes every `period` steps and can only be read from the dynamics, not from one vector.
package struct SyntheticStream {
    package enum Kind: String, CaseIterable, Sendable { case linear, switching, fhnDrift = "fhn-drift" }
    package var kind: Kind
    package var rho = 0.98, omegas = [0.3, -0.6], noise = 0.1, period = 5000
    package var currents = [0.5, 1.0, 0.3]
    private var rng: RandomGenerator
    private var x = [0.0, 0.0], t = 0
    private var fhn = (v: -1.0, w: 0.0)
    /// The regime whose dynamics produced the vector `next` returns (the one of the step before).
    private var producedBy = 0

    package init(kind: Kind, seed: UInt64) {
        self.kind = kind
        rng = RandomGenerator(seed: seed)
        if kind != .fhnDrift { x = [Double(rng.normal()), Double(rng.normal())] }
    }

    package var features: Int { kind == .fhnDrift ? 1 : 2 }

    /// The next vector followed by the regime that produced it.
    package mutating func labelled() -> [Float] {
        let label = producedBy
        return next() + [Float(label)]
    }

    /// The regime in force at the current step (0 for `linear`).
    package var regime: Int { kind == .linear ? 0 : (t / period) % (kind == .switching ? omegas.count : currents.count) }

    package mutating func next() -> [Float] {
        defer { producedBy = regime; t += 1 }
        switch kind {
        case .linear, .switching:
            let out = x.map(Float.init)
            let omega = kind == .linear ? omegas[0] : omegas[regime]
            let (c, s) = (cos(omega), sin(omega))
            x = [rho * (c * x[0] - s * x[1]) + noise * Double(rng.normal()), rho * (s * x[0] + c * x[1]) + noise * Double(rng.normal())]
            return out
        case .fhnDrift:
            let out = [Float(fhn.v + noise * Double(rng.normal()))]
            let current = currents[regime]
            // One classical Runge-Kutta step of 0.4 (the authors' 1,000 steps over [0, 400]).
            func f(_ v: Double, _ w: Double) -> (Double, Double) { (v - v * v * v / 3 - w + current, (v + 0.7 - 0.8 * w) / 50) }
            let h = 0.4, (v, w) = fhn
            let k1 = f(v, w), k2 = f(v + h / 2 * k1.0, w + h / 2 * k1.1)
            let k3 = f(v + h / 2 * k2.0, w + h / 2 * k2.1), k4 = f(v + h * k3.0, w + h * k3.1)
            fhn = (v + h / 6 * (k1.0 + 2 * k2.0 + 2 * k3.0 + k4.0), w + h / 6 * (k1.1 + 2 * k2.1 + 2 * k3.1 + k4.1))
            return out
        }
    }
}
