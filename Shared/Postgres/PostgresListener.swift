import CLibPQ
import Foundation
import Logging

/// What a LISTEN connection reports.
public enum PostgresListenerEvent: Sendable, Equatable {
    /// The listener (re)connected; notifications sent while it was away are lost, so a
    /// consumer should check for work it may have missed.
    case connected
    case notification(channel: String, payload: String)
}

/// LISTEN/NOTIFY on a dedicated connection that reconnects by itself.
public enum PostgresListener {
    /// Streams the events of `channels` until the stream's consumer stops iterating.
    public static func listen(
        url: String, channels: [String], logger: Logger = Logger(label: "crm.postgres.listener")
    ) -> AsyncStream<PostgresListenerEvent> {
        AsyncStream(bufferingPolicy: .bufferingNewest(1024)) { continuation in
            let task = Task {
                var backoff = Duration.milliseconds(100)
                while !Task.isCancelled {
                    do {
                        let connection = try await PostgresConnection.connect(url: url, applicationName: "crm-listener")
                        for channel in channels {
                            try await connection.execute("LISTEN \(identifier: channel)")
                        }
                        backoff = .milliseconds(100)
                        continuation.yield(.connected)
                        while !Task.isCancelled {
                            for event in try await connection.waitForNotifications(timeoutMilliseconds: 250) {
                                continuation.yield(event)
                            }
                        }
                        await connection.close()
                    } catch {
                        logger.warning("LISTEN connection failed, retrying", metadata: ["error": "\(error)"])
                        try? await Task.sleep(for: backoff)
                        backoff = min(backoff * 2, .seconds(5))
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

extension PostgresConnection {
    /// Waits up to the timeout for notifications on this connection's queue (a `poll(2)` on the
    /// socket, off the cooperative pool) and returns those that arrived.
    func waitForNotifications(timeoutMilliseconds: Int32) async throws -> [PostgresListenerEvent] {
        try await withHandle { handle in
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, timeoutMilliseconds)
            guard PQconsumeInput(handle) == 1, PQstatus(handle) == CONNECTION_OK else {
                throw PostgresError.connectionLost(String(cString: PQerrorMessage(handle)))
            }
            var events: [PostgresListenerEvent] = []
            while let notification = PQnotifies(handle) {
                let channel = String(cString: notification.pointee.relname)
                let payload = String(cString: notification.pointee.extra)
                PQfreemem(notification)
                events.append(.notification(channel: channel, payload: payload))
            }
            return events
        }
    }
}
