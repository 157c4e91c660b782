import Foundation

/// The thresholds `kws eval-stream --sweep` runs in one pass: 0.30 … 0.99 by 0.01, then finer
/// towards 1 (0.991 … 0.999, 0.9991 … 0.9999, 0.99991 … 0.99999), where a confident model's
/// averaged posteriors sit and the field's low false-alarm rates are found.
package let sweepThresholds: [Float] = (30...99).map { Float($0) / 100 } + (1...9).map { 0.99 + Float($0) / 1000 }
    + (1...9).map { 0.999 + Float($0) / 10_000 } + (1...9).map { 0.9999 + Float($0) / 100_000 }

/// The false-alarm rates the field reports miss rates at (per hour): Picovoice's 0.1 (1 per
/// 10 hours), openWakeWord's 0.5, microWakeWord's range, and our own 1, 2 and 5.
package let fieldFalseAlarmRates: [Double] = [0.1, 0.5, 1, 2, 5]

/// The miss rate at a false-alarm budget, read off a threshold sweep.
///
/// `threshold` is the lowest swept threshold whose false alarms per hour are at most the budget
/// (the operating point a user would pick); `missRate` is its miss rate. `interpolatedMissRate`
/// follows the DET curve linearly (in false alarms per hour) from that point to the swept
/// threshold just below it, which spends more than the budget, so that the figure sits at the
/// budget itself; with no such neighbour it equals `missRate`. `falseAlarms` and `keywords` are
/// the counts behind the figure: at 0.1 per hour a 10-hour stream allows a single false alarm.
package struct OperatingPoint: Equatable {
    package var falseAlarmsPerHourLimit: Double
    package var threshold: Float
    package var missRate: Double
    package var interpolatedMissRate: Double
    package var falseAlarmsPerHour: Double
    package var falseAlarms: Int
    package var misses: Int
    package var keywords: Int
    /// Median ms from the end of a found keyword's clip to its firing, at `threshold`.
    package var medianLatencyMs: Double? = nil

    /// The sweep's operating point for each budget (nil where no swept threshold keeps false
    /// alarms within it). `sweep` holds thresholds in increasing order with their metrics.
    package static func read(_ sweep: [(threshold: Float, metrics: StreamingMetrics)], limits: [Double] = fieldFalseAlarmRates) -> [Double: OperatingPoint] {
        var out: [Double: OperatingPoint] = [:]
        for limit in limits {
            guard let k = sweep.firstIndex(where: { $0.metrics.falseAlarmsPerHour <= limit }) else { continue }
            let m = sweep[k].metrics
            var interpolated = m.missRate
            if k > 0 {
                let below = sweep[k - 1].metrics
                let span = below.falseAlarmsPerHour - m.falseAlarmsPerHour
                if span > 0 {
                    let share = (limit - m.falseAlarmsPerHour) / span
                    interpolated = m.missRate + share * (below.missRate - m.missRate)
                }
            }
            out[limit] = OperatingPoint(falseAlarmsPerHourLimit: limit, threshold: sweep[k].threshold, missRate: m.missRate,
                                        interpolatedMissRate: interpolated, falseAlarmsPerHour: m.falseAlarmsPerHour,
                                        falseAlarms: m.falseAlarms, misses: m.misses, keywords: m.keywordWords,
                                        medianLatencyMs: m.latency?.medianMs)
        }
        return out
    }

    /// The figure as JSON.
    package var object: [String: Any] {
        ["fa_per_hour_limit": falseAlarmsPerHourLimit, "threshold": Double(formatThreshold(threshold))!, "miss_rate": missRate,
         "miss_rate_interpolated": interpolatedMissRate, "fa_per_hour": falseAlarmsPerHour, "false_alarms": falseAlarms,
         "misses": misses, "keywords": keywords, "latency_ms_median": medianLatencyMs ?? NSNull()]
    }
}

/// A threshold as the DET CSV writes it: two decimals on the 0.01 grid, else as many as it needs (up to 5).
package func formatThreshold(_ t: Float) -> String {
    var s = String(format: "%.5f", Double(t))
    while s.hasSuffix("0") && s.count > 4 { s.removeLast() }
    return s
}
