import ArgumentParser

// Entry point of the `crm` developer tool; the commands live in their own files.
//
// A file named main.swift cannot use `@main`, and from top-level code both `CRMCommand.main()`
// and `run()` on an existential resolve to ParsableCommand's synchronous versions (which print
// help or refuse async commands), so parsing and dispatch are spelled out here.
do {
    var command = try await CRMCommand.asyncParseAsRoot()
    if var asyncCommand = command as? any AsyncParsableCommand {
        try await runAsync(&asyncCommand)
    } else {
        try command.run()
    }
} catch {
    CRMCommand.exit(withError: error)
}

/// In a generic context over `AsyncParsableCommand`, `run()` is the async requirement.
func runAsync<Command: AsyncParsableCommand>(_ command: inout Command) async throws {
    try await command.run()
}
