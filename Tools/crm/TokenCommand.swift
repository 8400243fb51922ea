import ArgumentParser
import Foundation
import ServiceKit

/// `crm token --sub <id> --role <role>…`: a signed HS256 token for local runs and curl sessions.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a development access token signed with CRM_JWT_SECRET (HS256).",
        discussion: """
            The token carries `iss` = CRM_JWT_ISSUER when that is set, so it passes services \
            configured with an issuer. Example: curl -H "Authorization: Bearer $(crm token \
            --sub 00000000-0000-0000-0000-000000000001 --role admin)" localhost:8082/v1/events
            """
    )

    @Option(name: .customLong("sub"), help: "The subject: an employee id or a client id.")
    var subject: String

    @Option(name: .customLong("role"), help: "A role to grant; repeat for several.")
    var roles: [RoleArgument]

    @Option(help: "Seconds until the token expires.")
    var ttl: Int = 3600

    func validate() throws {
        guard !subject.isEmpty else { throw ValidationError("--sub must not be empty.") }
        guard !roles.isEmpty else { throw ValidationError("Give at least one --role.") }
        guard ttl > 0 else { throw ValidationError("--ttl must be a positive number of seconds.") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let secret = environment["CRM_JWT_SECRET"], !secret.isEmpty else {
            throw CommandFailure("CRM_JWT_SECRET is not set: export the secret the services verify tokens with.")
        }
        let issuerName = environment["CRM_JWT_ISSUER"].flatMap { $0.isEmpty ? nil : $0 }
        let issuer: TokenIssuer
        do {
            issuer = try await TokenIssuer(hmacSecret: secret)
        } catch {
            throw CommandFailure("\(error)")
        }
        let token = try await issuer.sign(
            subject: subject,
            roles: roles.map(\.role),
            timeToLive: TimeInterval(ttl),
            issuer: issuerName)
        print(token)
    }
}
