/// An error whose message is the whole story; ArgumentParser prints it as `Error: <message>`
/// without the usage text that a `ValidationError` would add.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
