import Foundation

/// Opaque page cursors: base64url of the JSON of whatever position a list resumes from
/// (usually the sort key and id of the last item).
///
/// Dates inside are written as raw seconds rather than RFC 3339: a keyset cursor must carry the
/// database's microseconds exactly, or the next page skips or repeats rows.
public enum Cursor {
    public static func encode(_ position: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Base64URL.encode(try encoder.encode(position))
    }

    public static func decode<Position: Decodable>(
        _ type: Position.Type, from cursor: String
    ) throws(Problem) -> Position {
        guard let data = Base64URL.decode(cursor),
            let position = try? JSONDecoder().decode(Position.self, from: data)
        else {
            throw Problem.badRequest(
                "The cursor is not one this list handed out.",
                errors: [FieldError(field: "cursor", message: "is not a valid cursor")])
        }
        return position
    }
}
