#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Set by the SIGINT/SIGTERM handler; read between training batches. A `sig_atomic_t`-sized
/// global is the only state a signal handler may touch.
nonisolated(unsafe) private var stopSignal: Int32 = 0

/// Graceful stop on Ctrl-C (SIGINT) or `kill` (SIGTERM): the first signal asks the training loop
/// to finish its batch, save a resumable checkpoint and report; a second one ends the process at
/// once (the handler resets itself to the default action).
public enum InterruptHandler {
    public static func install() {
        stopSignal = 0
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { received in
                stopSignal = received
                signal(received, SIG_DFL)
            }
        }
    }

    /// The signal that asked for a stop (SIGINT or SIGTERM), or nil.
    public static var requested: Int32? { stopSignal == 0 ? nil : stopSignal }

    /// Restores the default actions (after training).
    public static func uninstall() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    /// For tests: behave as if a signal had arrived.
    static func simulate(_ sig: Int32 = SIGINT) { stopSignal = sig }   // @testable
}
