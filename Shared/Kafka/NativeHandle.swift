import CRdKafka
import Foundation
import Logging

/// Owns an `rd_kafka_t` and the context its C callbacks reach through the opaque pointer.
final class NativeHandle: @unchecked Sendable {
    // `pointer` never changes; `closed` is guarded by `lock`.
    let pointer: OpaquePointer
    private let context: ClientContext
    private let lock = NSLock()
    private var closed = false
    private var destroyed = false

    /// Installs `context` as the configuration's opaque (with the error callback) and creates
    /// the client. The handle keeps the context alive for as long as callbacks can reach it.
    init(type: rd_kafka_type_t, conf: OpaquePointer, context: ClientContext) throws {
        context.install(on: conf)
        var errorText = [CChar](repeating: 0, count: 512)
        guard let pointer = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError.configuration(nulTerminated(errorText))
        }
        self.pointer = pointer
        self.context = context
    }

    var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return closed
    }

    /// Returns true for the first caller only.
    func markClosed() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if closed { return false }
        closed = true
        return true
    }

    /// Frees the client. Blocking: call it off the cooperative pool.
    func destroy() {
        lock.lock()
        let first = !destroyed
        destroyed = true
        lock.unlock()
        if first { rd_kafka_destroy(pointer) }
    }
}

/// What librdkafka's callbacks reach through the opaque pointer: a logger for errors, and in
/// subclasses whatever else a client's callbacks need (the consumer's rebalance state).
class ClientContext: @unchecked Sendable {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }

    /// Unretained: the `NativeHandle` owning the client holds the context.
    fileprivate func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_error_cb(conf) { _, error, reason, opaque in
            guard let opaque else { return }
            let context = Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
            let text = reason.map { String(cString: $0) } ?? ""
            context.logger.warning("librdkafka: \(text)", metadata: ["code": "\(error)"])
        }
    }
}

/// A thread that calls a blocking poll function until stopped.
final class PollThread: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true
    private let finished = DispatchSemaphore(value: 0)

    init(name: String, poll: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            while isRunning { poll() }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Returns true for the first caller only.
    private func markStopped() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let wasRunning = running
        running = false
        return wasRunning
    }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    /// Stops the loop and waits (off the cooperative pool) for the thread to end.
    func stop() async {
        guard markStopped() else { return }
        let finished = self.finished
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                finished.wait()
                continuation.resume()
            }
        }
    }
}
