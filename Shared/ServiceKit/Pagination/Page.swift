import Hummingbird

/// One page of a list: `{"items": [...], "nextCursor": "…" | null}`.
public struct Page<Item: Encodable & Sendable>: ResponseEncodable, Sendable {
    public var items: [Item]
    /// Nil on the last page, and then written as an explicit `null` so clients can rely on the key.
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// From a query that fetched `limit + 1` rows: an extra row means there is a next page,
    /// which resumes after the last item returned.
    public init(
        fetched rows: [Item], limit: Int, position: (Item) throws -> some Encodable
    ) throws {
        guard rows.count > limit, limit > 0 else {
            self.init(items: rows, nextCursor: nil)
            return
        }
        let items = Array(rows.prefix(limit))
        self.init(items: items, nextCursor: try Cursor.encode(position(items[items.count - 1])))
    }

    private enum CodingKeys: String, CodingKey {
        case items, nextCursor
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        // `encode` of an Optional writes null where the synthesized `encodeIfPresent` would drop the key.
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

extension Page: Decodable where Item: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            items: try container.decode([Item].self, forKey: .items),
            nextCursor: try container.decodeIfPresent(String.self, forKey: .nextCursor))
    }
}
