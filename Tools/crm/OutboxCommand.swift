import ArgumentParser
import Foundation
import Messaging

/// `crm outbox parked <service> [list|retry|drop]`: the rows the broker refused for good.
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "Inspect a service's outbox.", subcommands: [ParkedCommand.self])

    struct ParkedCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "parked",
            abstract: "List, retry or drop outbox rows the broker refused (a parked row holds back later rows of its key).")

        enum Action: String, ExpressibleByArgument { case list, retry, drop }

        @Argument(help: ArgumentHelp("The service.", valueName: "service"))
        var service: ServiceName

        @Argument(help: "list (default), retry or drop.")
        var action: Action = .list

        @Option(name: .customLong("id"), help: "A parked row's id (repeatable); retry and drop need --id or --all.")
        var ids: [Int64] = []

        @Flag(help: "Retry or drop every parked row.")
        var all = false

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            if action != .list && ids.isEmpty && !all { throw ValidationError("\(action.rawValue) needs --id <n> or --all") }
        }

        func run() async throws {
            let pool = database.pool(schema: service.schema)
            defer { Task { await pool.close() } }
            let parked = ParkedMessages()
            switch action {
            case .list:
                let entries = try await parked.list(limit: 1000, in: pool)
                if entries.isEmpty { print("no parked rows in \(service.schema)") }
                for entry in entries {
                    print("\(entry.id)\t\(entry.topic)\tkey=\(entry.key ?? "-")\t\(entry.bytes) bytes\t\(entry.parkedAt)\t\(entry.error)")
                }
            case .retry:
                let moved = try await parked.retry(ids: all ? nil : ids, in: pool)
                print("\(moved) parked row(s) put back into the outbox of \(service.schema)")
            case .drop:
                let dropped = try await parked.drop(ids: all ? nil : ids, in: pool)
                print("\(dropped) parked row(s) dropped from \(service.schema); their keys' later rows go on")
            }
            await pool.close()
        }
    }
}
