import Hummingbird

/// One invalid input, named so a client can put the message next to the right form field.
public struct FieldError: Codable, Sendable, Equatable {
    /// Path of the field in the request: `name`, `lines[0].quantity`, `limit`, `Idempotency-Key`.
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// An RFC 9457 problem document, thrown from handlers and rendered as `application/problem+json`.
///
/// Every error response of every service has this one shape, so clients need one error parser:
/// `{"type", "title", "status", "detail", "errors": [{"field", "message"}]}`.
public struct Problem: Error, Sendable, Codable, CustomStringConvertible {
    /// A URI naming the kind of problem; `about:blank` means "see the status code".
    public var type: String
    public var title: String
    public var status: HTTPResponse.Status
    public var detail: String
    /// Every bad field; empty when the problem is not about particular fields.
    public var errors: [FieldError]
    /// Extra response headers (`WWW-Authenticate`, the current `ETag`); never part of the body.
    public var headers: HTTPFields

    public init(
        status: HTTPResponse.Status,
        title: String? = nil,
        detail: String? = nil,
        type: String = "about:blank",
        errors: [FieldError] = [],
        headers: HTTPFields = [:]
    ) {
        self.type = type
        // With `about:blank` RFC 9457 asks for the status phrase as the title.
        self.title = title ?? status.reasonPhrase
        self.status = status
        self.detail = detail ?? status.reasonPhrase
        self.errors = errors
        self.headers = headers
    }

    public var description: String {
        let fields = errors.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        return "Problem(\(status.code) \(title): \(detail)\(fields.isEmpty ? "" : " [\(fields)]"))"
    }

    private enum CodingKeys: String, CodingKey {
        case type, title, status, detail, errors
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.type = try container.decodeIfPresent(String.self, forKey: .type) ?? "about:blank"
        self.title = try container.decode(String.self, forKey: .title)
        self.status = HTTPResponse.Status(code: try container.decode(Int.self, forKey: .status))
        self.detail = try container.decodeIfPresent(String.self, forKey: .detail) ?? ""
        self.errors = try container.decodeIfPresent([FieldError].self, forKey: .errors) ?? []
        self.headers = [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(title, forKey: .title)
        try container.encode(status.code, forKey: .status)
        try container.encode(detail, forKey: .detail)
        try container.encode(errors, forKey: .errors)
    }
}

// MARK: - The problems every service needs

extension Problem {
    public static func badRequest(_ detail: String, errors: [FieldError] = []) -> Problem {
        Problem(status: .badRequest, detail: detail, errors: errors)
    }

    public static func unauthorized(_ detail: String = "A valid bearer token is required.") -> Problem {
        // RFC 6750: a 401 tells the client which authentication scheme to use.
        Problem(status: .unauthorized, detail: detail, headers: [.wwwAuthenticate: #"Bearer realm="crm""#])
    }

    public static func forbidden(_ detail: String = "You are not allowed to do this.") -> Problem {
        Problem(status: .forbidden, detail: detail)
    }

    public static func notFound(_ detail: String = "The resource does not exist.") -> Problem {
        Problem(status: .notFound, detail: detail)
    }

    public static func conflict(_ detail: String) -> Problem {
        Problem(status: .conflict, detail: detail)
    }

    public static func preconditionFailed(
        _ detail: String = "The resource has changed since you read it."
    ) -> Problem {
        Problem(status: .preconditionFailed, detail: detail)
    }

    public static func unprocessable(
        errors: [FieldError], detail: String = "The request has invalid fields."
    ) -> Problem {
        Problem(status: .unprocessableContent, detail: detail, errors: errors)
    }

    public static func internalServerError() -> Problem {
        // Deliberately says nothing about the cause: internals stay in the log.
        Problem(status: .internalServerError, detail: "An unexpected error occurred.")
    }
}
