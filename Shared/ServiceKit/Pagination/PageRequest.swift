import Hummingbird

/// `?limit=&cursor=` of a list endpoint, checked.
public struct PageRequest: Sendable, Equatable {
    public static let defaultLimit = 50
    public static let maximumLimit = 500

    /// How many items to return, 1...500.
    public var limit: Int
    /// The opaque `nextCursor` of the previous page; nil for the first page.
    public var cursor: String?

    public init(limit: Int = Self.defaultLimit, cursor: String? = nil) {
        self.limit = limit
        self.cursor = cursor
    }

    /// From the raw query values: 422 naming `limit` unless it is an integer from 1 to 500.
    /// An empty `cursor=` means the first page, as clients often echo a null cursor that way.
    public init(limit limitText: String?, cursor: String?) throws(Problem) {
        var limit = Self.defaultLimit
        if let limitText {
            guard let parsed = Int(limitText), (1...Self.maximumLimit).contains(parsed) else {
                throw Problem.unprocessable(errors: [
                    FieldError(field: "limit", message: "must be an integer from 1 to \(Self.maximumLimit)")
                ])
            }
            limit = parsed
        }
        self.init(limit: limit, cursor: cursor?.isEmpty == false ? cursor : nil)
    }

    public init(request: Request) throws(Problem) {
        let query = request.uri.queryParameters
        try self.init(limit: query.get("limit"), cursor: query.get("cursor"))
    }

    /// The position the cursor encodes, nil on the first page; 400 naming `cursor` if it is not ours.
    public func decodeCursor<Position: Decodable>(as type: Position.Type) throws(Problem) -> Position? {
        guard let cursor else { return nil }
        return try Cursor.decode(type, from: cursor)
    }
}
