import Foundation

/// An RFC 3339 timestamp with or without fractional seconds, any offset. Deliberately not the
/// production parser: tests check the service's output with an independent one.
public func parseRFC3339(_ text: String?) -> Date? {
    guard let text else { return nil }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)
}

/// Whether two RFC 3339 timestamps name the same instant (to the millisecond the API prints).
public func sameInstant(_ a: String?, _ b: String?) -> Bool {
    guard let first = parseRFC3339(a), let second = parseRFC3339(b) else { return false }
    return abs(first.timeIntervalSince(second)) < 0.002
}

/// Percent-encodes a query value (only unreserved characters stay as they are).
public func queryEscape(_ value: String) -> String {
    var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    allowed.insert(charactersIn: "-._~")
    return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
}
