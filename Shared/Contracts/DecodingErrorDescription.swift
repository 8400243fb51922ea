/// `lines[0].quantity`: the path a JavaScript client would write to reach a JSON field.
public func jsonFieldPath(_ codingPath: [any CodingKey]) -> String {
    var path = ""
    for key in codingPath {
        if let index = key.intValue {
            path += "[\(index)]"
        } else {
            path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return path.isEmpty ? "body" : path
}

extension DecodingError {
    /// A one-line reason naming the offending field, for dead-letter headers and logs.
    public var reason: String {
        switch self {
        case .keyNotFound(let key, let context):
            return "\(jsonFieldPath(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(jsonFieldPath(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(self)"
        }
    }
}
