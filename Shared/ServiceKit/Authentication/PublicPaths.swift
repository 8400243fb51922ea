/// The paths served without a bearer token.
///
/// Health and metrics are always public (probes and Prometheus carry no tokens). A service adds
/// patterns of its own; each matches by whole path segments, as a prefix, and `*` stands for any
/// one segment, so `/v1/calendars/*/feed.ics` opens the signed calendar feed and nothing else.
public struct PublicPaths: Sendable {
    public static let alwaysPublic = ["/health/live", "/health/ready", "/metrics"]

    private let exactPaths: Set<[Substring]>
    private let prefixPatterns: [[Substring]]

    public init(_ patterns: [String] = []) {
        exactPaths = Set(Self.alwaysPublic.map(Self.segments))
        prefixPatterns = patterns.map(Self.segments).filter { !$0.isEmpty }
    }

    public func contains(path: String) -> Bool {
        let segments = Self.segments(path)
        // `..` could be resolved by something downstream into a protected path; never treat it as public.
        if segments.contains(where: { $0 == "." || $0 == ".." }) { return false }
        if exactPaths.contains(segments) { return true }
        return prefixPatterns.contains { pattern in
            pattern.count <= segments.count
                && zip(pattern, segments).allSatisfy { wanted, actual in wanted == "*" || wanted == actual }
        }
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }
}
