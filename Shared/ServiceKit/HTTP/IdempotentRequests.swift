import Contracts
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Postgres

/// Remembers the first response to each `Idempotency-Key` of a creating `POST`, in the service's
/// own schema and in the same transaction as the creation, so a repeat returns that response and
/// creates nothing — even when the repeat races the original.
public struct IdempotentRequests: Sendable {
    /// A response as stored and replayed.
    public struct StoredResponse: Sendable {
        public var status: Int
        public var body: String
        public var headers: [String: String]

        public init(status: Int, body: String, headers: [String: String] = [:]) {
            self.status = status
            self.body = body
            self.headers = headers
        }

        /// Encodes `value` as the JSON body, with its `ETag` when it carries a version.
        public init<Body: Encodable>(status: HTTPResponse.Status, json value: Body, version: Int? = nil) throws {
            self.status = status.code
            body = String(decoding: try CRMJSON.makeEncoder().encode(value), as: UTF8.self)
            headers = version.map { ["ETag": ETag.value(forVersion: $0)] } ?? [:]
        }

        public var response: Response {
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            for (name, value) in headers {
                if let field = HTTPField.Name(name) { fields[field] = value }
            }
            return Response(
                status: HTTPResponse.Status(code: status), headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
    }

    /// The table every service schema with creating endpoints gets.
    public static let migration = Migration(name: "0000_idempotency", sql: """
        CREATE TABLE idempotency_keys (
            principal text NOT NULL,
            key text NOT NULL,
            fingerprint text NOT NULL,
            status integer,
            body text,
            headers jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (principal, key)
        );
        """)

    /// Fingerprints stored before they were hashed, hashed in place, so a retry that spans the
    /// upgrade still matches its first request.
    public static let hashedFingerprintsMigration = Migration(name: "0000_idempotency_hashed", sql: """
        UPDATE idempotency_keys SET fingerprint = encode(sha256(convert_to(fingerprint, 'UTF8')), 'hex')
        WHERE fingerprint !~ '^[0-9a-f]{64}$';
        """)

    /// The idempotency tables, in order.
    public static let migrations = [migration, hashedFingerprintsMigration]

    /// How long a stored response is replayed; after that the key is free again.
    public let ttlHours: Int

    public init(ttlHours: Int = 24) {
        self.ttlHours = ttlHours
    }

    /// Deletes the responses older than the time to live, in chunks so no statement runs long.
    public func deleteExpired(in pool: PostgresPool) async throws {
        while try await pool.execute("""
            DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(hours => \(ttlHours)) LIMIT 5000))
            """) == 5000 {}
    }

    /// The stored form of a request's fingerprint: its SHA-256, so the table never holds bodies.
    static func digest(_ fingerprint: String) -> String {
        SHA256.hash(data: Data(fingerprint.utf8)).lowercaseHex
    }

    /// Runs `create` once per (principal, key). Without a key it simply runs `create`.
    /// - Parameter fingerprint: what identifies the request (method, path, body); reusing a key
    ///   for a different request is a 422.
    public func run(
        key: IdempotencyKey?, principal: Principal, fingerprint: String, pool: PostgresPool,
        create: @Sendable (PostgresTransaction) async throws -> StoredResponse
    ) async throws -> Response {
        let fingerprint = Self.digest(fingerprint)
        return try await pool.withTransaction { transaction in
            guard let key else { return try await create(transaction).response }
            // An expired key is free again (the janitor may not have deleted it yet).
            try await transaction.execute("""
                DELETE FROM idempotency_keys WHERE principal = \(principal.subject) AND key = \(key.value)
                    AND created_at < now() - make_interval(hours => \(ttlHours))
                """)
            // Waits for a concurrent request with the same key to finish, then sees its row.
            let inserted = try await transaction.execute("""
                INSERT INTO idempotency_keys (principal, key, fingerprint) VALUES (\(principal.subject), \(key.value), \(fingerprint))
                ON CONFLICT DO NOTHING
                """)
            if inserted == 0 {
                return try await replay(key: key, principal: principal, fingerprint: fingerprint, in: transaction)
            }
            let stored = try await create(transaction)
            try await transaction.execute("""
                UPDATE idempotency_keys SET status = \(stored.status), body = \(stored.body),
                    headers = \(try PostgresJSON(encoding: stored.headers))
                WHERE principal = \(principal.subject) AND key = \(key.value)
                """)
            return stored.response
        }
    }

    private func replay(
        key: IdempotencyKey, principal: Principal, fingerprint: String, in transaction: PostgresTransaction
    ) async throws -> Response {
        let rows = try await transaction.query("""
            SELECT fingerprint, status, body, headers FROM idempotency_keys
            WHERE principal = \(principal.subject) AND key = \(key.value)
            """)
        guard let row = rows.first, let status = try row.decodeIfPresent("status", as: Int.self) else {
            throw Problem.conflict("A request with this Idempotency-Key is still in progress.")
        }
        guard try row.decode("fingerprint", as: String.self) == fingerprint else {
            throw Problem.unprocessable(
                errors: [FieldError(field: "Idempotency-Key", message: "was already used for a different request")],
                detail: "The Idempotency-Key was already used for a different request.")
        }
        let headers = try row.decodeIfPresent("headers", as: PostgresJSON.self)?.decode([String: String].self) ?? [:]
        return StoredResponse(status: status, body: try row.decode("body", as: String.self), headers: headers).response
    }
}
