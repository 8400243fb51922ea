import Foundation
import Hummingbird

/// The `If-Match` precondition of a write, read as object versions.
///
/// Accepts what clients actually send: `"7"` (what we hand out), bare `7`, weak `W/"7"`, a list
/// `"6", "7"`, and `*`. A tag that is not a version of ours matches nothing, which is a 412.
public enum IfMatch: Sendable, Equatable {
    /// `*`: any current version will do.
    case any
    /// The versions the client last saw; empty when none of its tags could be a version.
    case versions([Int])

    /// Parses the header's values; nil when there are none.
    public static func parse(_ headerValues: [String]) -> IfMatch? {
        let tags = headerValues
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !tags.isEmpty else { return nil }
        if tags.contains("*") { return .any }
        return .versions(tags.compactMap(version(fromTag:)))
    }

    public static func parse(_ headerValue: String) -> IfMatch? {
        parse([headerValue])
    }

    public func matches(version: Int) -> Bool {
        switch self {
        case .any: true
        case .versions(let versions): versions.contains(version)
        }
    }

    private static func version(fromTag tag: String) -> Int? {
        var tag = Substring(tag)
        if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
        if tag.count >= 2, tag.hasPrefix("\""), tag.hasSuffix("\"") { tag = tag.dropFirst().dropLast() }
        guard let version = Int(tag), version >= 0 else { return nil }
        return version
    }
}

extension Request {
    /// The request's `If-Match`, or nil when it has none.
    public var ifMatch: IfMatch? {
        IfMatch.parse(headers[values: .ifMatch])
    }

    /// Throws 412 when the request carries an `If-Match` that `currentVersion` does not satisfy.
    /// No `If-Match` passes: the header is optional in this API.
    public func checkIfMatch(currentVersion: Int) throws(Problem) {
        guard let condition = ifMatch, !condition.matches(version: currentVersion) else { return }
        var problem = Problem.preconditionFailed(
            "The object is at version \(currentVersion), which does not match If-Match.")
        // The current tag lets the client decide whether to re-read before retrying.
        problem.headers[.eTag] = ETag.value(forVersion: currentVersion)
        throw problem
    }
}
