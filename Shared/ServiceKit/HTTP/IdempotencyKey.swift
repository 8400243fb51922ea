import Hummingbird

/// The `Idempotency-Key` of a creating `POST`. Only read and checked here; remembering keys and
/// replaying the first response is the owning service's job, in its own schema.
public struct IdempotencyKey: Sendable, Hashable, CustomStringConvertible {
    public static let maximumLength = 200

    public let value: String

    /// Visible ASCII only, 1 to 200 characters: a UUID or any opaque token a client generates.
    public init(_ value: String) throws(Problem) {
        guard !value.isEmpty, value.utf8.count <= Self.maximumLength,
            value.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        else {
            throw Problem.badRequest(
                "The Idempotency-Key header is invalid.",
                errors: [
                    FieldError(
                        field: "Idempotency-Key",
                        message: "must be 1 to \(Self.maximumLength) visible ASCII characters")
                ])
        }
        self.value = value
    }

    public var description: String { value }
}

extension Request {
    /// The request's idempotency key, nil when it sent none; 400 when it sent a bad one or several.
    public func idempotencyKey() throws(Problem) -> IdempotencyKey? {
        let values = headers[values: .idempotencyKey]
        guard let first = values.first else { return nil }
        guard values.count == 1 else {
            throw Problem.badRequest(
                "Send one Idempotency-Key header.",
                errors: [FieldError(field: "Idempotency-Key", message: "must be sent once")])
        }
        return try IdempotencyKey(first)
    }
}
