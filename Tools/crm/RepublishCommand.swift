import ArgumentParser
import Foundation
import Messaging

/// `crm republish <service>`: every aggregate's current snapshot, again, through the outbox.
struct RepublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "republish",
        abstract: "Re-emit every aggregate of a service through its outbox (after topics were lost).",
        discussion: """
            Runs against the service's database; the service's relay publishes the rows. Snapshots keep \
            their versions, so consumers that hold them ignore them. Interrupted? Run again with \
            --resume <the last position printed>.
            """)

    @Argument(help: ArgumentHelp("The service.", valueName: "service"))
    var service: ServiceName

    @Option(help: "Aggregates per transaction.")
    var chunk = 500

    @Option(help: "Continue from a printed position (family:last-key).")
    var resume: String?

    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        guard (1...10_000).contains(chunk) else { throw ValidationError("--chunk must be from 1 to 10000") }
        if let resume, RepublishPosition(resume) == nil { throw ValidationError("--resume takes family:last-key") }
    }

    func run() async throws {
        let pool = database.pool(schema: service.schema)
        let outbox = Outbox(schema: service.schema)
        let total = try await Republishing.run(
            service.republisher, pool: pool, outbox: outbox, chunkSize: chunk, resume: resume.flatMap(RepublishPosition.init)
        ) { position, done, total in
            let percent = total > 0 ? done * 100 / total : 100
            print("\(position.family): \(done)/\(total) (\(percent) %)  position \(position)")
        }
        await pool.close()
        print("republished \(total) snapshot(s) of \(service.rawValue); the relay publishes them now")
    }
}
