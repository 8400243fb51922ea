import ArgumentParser

/// `crm <subcommand>`: the developer's client for a running CRM stack.
/// New subcommands are added to `subcommands` and live in their own files.
struct CRMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crm",
        abstract: "Developer tool for the CRM services.",
        subcommands: [TokenCommand.self, CallCommand.self, OutboxCommand.self, DeadLetterCommand.self, RepublishCommand.self]
    )
}
