import Crypto
import Foundation
import Postgres

/// Feed tokens: 32 random bytes, base64url, shown once; only their SHA-256 is stored. One per
/// employee, so issuing a new token revokes the previous one.
enum FeedTokens {
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).lowercaseHex
    }

    /// A plausible token: 43 base64url characters (anything else cannot match and is not looked up).
    static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 43 && token.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }

    /// Stores a new token for the employee (replacing any previous one) and returns it.
    static func issue(for employee: UUID, by subject: String, at now: Date, in transaction: PostgresTransaction) async throws -> String {
        let token = generate()
        try await transaction.execute("""
            INSERT INTO feed_tokens (employee_id, token_hash, created_at, created_by)
            VALUES (\(employee), \(hash(token)), \(now), \(subject))
            ON CONFLICT (employee_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = EXCLUDED.created_at,
                created_by = EXCLUDED.created_by
            """)
        return token
    }

    /// Revokes the employee's token; false when there was none.
    static func revoke(for employee: UUID, in transaction: PostgresTransaction) async throws -> Bool {
        try await transaction.execute("DELETE FROM feed_tokens WHERE employee_id = \(employee)") > 0
    }

    static func isValid(_ token: String, for employee: UUID, in transaction: PostgresTransaction) async throws -> Bool {
        guard isWellFormed(token) else { return false }
        return try await !transaction.query("""
            SELECT 1 FROM feed_tokens WHERE employee_id = \(employee) AND token_hash = \(hash(token))
            """).isEmpty
    }
}

/// A token bucket per feed token (by hash): `requestsPerMinute` refill per minute, bursts of
/// up to that many. In memory, per instance; the map is bounded (full buckets are forgotten
/// first, then the oldest).
actor FeedRateLimiter {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let capacity: Double
    private let perSecond: Double
    private let maxKeys: Int
    private var buckets: [String: Bucket] = [:]
    private let clock = ContinuousClock()

    init(requestsPerMinute: Int, maxKeys: Int = 10_000) {
        capacity = Double(requestsPerMinute)
        perSecond = Double(requestsPerMinute) / 60
        self.maxKeys = maxKeys
    }

    /// Takes one request from the key's bucket; returns the seconds to wait when it is empty.
    func take(_ key: String) -> Int? {
        let now = clock.now
        var bucket = buckets[key] ?? Bucket(tokens: capacity, updated: now)
        let elapsed = bucket.updated.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        bucket.tokens = min(capacity, bucket.tokens + seconds * perSecond)
        bucket.updated = now
        guard bucket.tokens >= 1 else {
            buckets[key] = bucket
            return max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up)))
        }
        bucket.tokens -= 1
        buckets[key] = bucket
        if buckets.count > maxKeys { prune(now: now) }
        return nil
    }

    private func prune(now: ContinuousClock.Instant) {
        // A bucket that would be full again is the same as no bucket.
        buckets = buckets.filter { _, bucket in
            let elapsed = bucket.updated.duration(to: now)
            return bucket.tokens + Double(elapsed.components.seconds) * perSecond < capacity
        }
        if buckets.count > maxKeys {
            let excess = buckets.count - maxKeys
            for key in buckets.sorted(by: { $0.value.updated < $1.value.updated }).prefix(excess).map(\.key) {
                buckets.removeValue(forKey: key)
            }
        }
    }
}

extension CalendarFeed {
    /// A strong entity tag of the rendered feed: the first 128 bits of its SHA-256.
    static func entityTag(of body: String) -> String {
        "\"" + SHA256.hash(data: Data(body.utf8)).prefix(16).lowercaseHex + "\""
    }
}
