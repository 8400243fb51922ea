import Logging
import Synchronization

/// Installs the process' log handler: plain lines on standard output, which is where container
/// runtimes and systemd collect logs.
public enum LoggingBootstrap {
    private static let done = Mutex(false)

    /// Only the first call in a process takes effect (swift-log would crash on a second);
    /// returns whether this call was it.
    @discardableResult
    public static func bootstrap(level: Logger.Level) -> Bool {
        done.withLock { done in
            guard !done else { return false }
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardOutput(label: label)
                handler.logLevel = level
                return handler
            }
            done = true
            return true
        }
    }

    @discardableResult
    public static func bootstrap(configuration: ServiceConfiguration) -> Bool {
        bootstrap(level: configuration.logLevel)
    }
}
