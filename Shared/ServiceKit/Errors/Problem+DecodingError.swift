import Contracts

/// Turning a `DecodingError` into the 400 problem the API promises for malformed JSON.
extension Problem {
    public init(malformedJSON error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            let field = Self.fieldPath(context.codingPath + [key])
            self = .badRequest("The JSON body lacks \(field).", errors: [FieldError(field: field, message: "is required")])
        case .valueNotFound(_, let context):
            let field = Self.fieldPath(context.codingPath)
            self = .badRequest("\(field) must not be null.", errors: [FieldError(field: field, message: "must not be null")])
        case .typeMismatch(let expected, let context):
            let field = Self.fieldPath(context.codingPath)
            let message = Self.jsonTypeName(expected).map { "must be \($0)" } ?? "has the wrong JSON type"
            self = .badRequest("\(field) \(message).", errors: [FieldError(field: field, message: message)])
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            // A value of the right JSON type that the field still rejects (a bad date, an unknown enum case).
            let field = Self.fieldPath(context.codingPath)
            self = .badRequest(
                "\(field) has an invalid value.",
                errors: [FieldError(field: field, message: Self.valueMessage(context.debugDescription))])
        default:
            self = .badRequest("The request body is not valid JSON.")
        }
    }

    static func fieldPath(_ codingPath: [any CodingKey]) -> String { jsonFieldPath(codingPath) }

    private static func jsonTypeName(_ type: Any.Type) -> String? {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is any BinaryInteger.Type: "an integer"
        case is any FloatingPoint.Type: "a number"
        default: nil
        }
    }

    /// Foundation's own wording for a bad value is written for programmers; keep ours when we wrote it.
    private static func valueMessage(_ debugDescription: String) -> String {
        if debugDescription.hasPrefix("must ") { return debugDescription }
        if debugDescription.contains("Cannot initialize") { return "is not one of the allowed values" }
        return "is not a valid value"
    }
}
