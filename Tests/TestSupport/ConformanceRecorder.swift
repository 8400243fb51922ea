import Foundation
import HTTPTypes
import Synchronization

/// Appends every HTTP exchange of the service tests to `$CRM_CONFORMANCE_DIR/http-<pid>.jsonl`
/// when that variable is set, so deploy/local/test can hold each response to the service's
/// OpenAPI document afterwards (deploy/local/conformance/validate_http.py, openapi-core).
///
/// Recording rather than validating in-process: the validator is a well-kept Python one, and
/// one pass over all exchanges after the run keeps the tests themselves fast.
public enum ConformanceRecorder {
    /// One exchange, as the validator reads it.
    struct Exchange: Encodable {
        var service: String
        var method: String
        /// Path and query as sent, e.g. `/v1/events?limit=5`.
        var target: String
        var requestHeaders: [String: String]
        var requestBody: String?
        var status: Int
        var responseHeaders: [String: String]
        var responseBody: String
    }

    private static let file: Mutex<FileHandle?> = Mutex(openFile())

    static func openFile() -> FileHandle? {
        guard let directory = ProcessInfo.processInfo.environment["CRM_CONFORMANCE_DIR"], !directory.isEmpty else {
            return nil
        }
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/http-\(ProcessInfo.processInfo.processIdentifier).jsonl"
        guard FileManager.default.createFile(atPath: path, contents: nil) else { return nil }
        return FileHandle(forWritingAtPath: path)
    }

    /// Records one exchange; does nothing unless `CRM_CONFORMANCE_DIR` is set.
    static func record(
        service: String, method: HTTPRequest.Method, target: String, requestHeaders: HTTPFields, requestBody: String?,
        status: Int, responseHeaders: HTTPFields, responseBody: String
    ) {
        file.withLock { handle in
            guard let handle else { return }
            let exchange = Exchange(
                service: service, method: method.rawValue, target: target,
                requestHeaders: dictionary(requestHeaders), requestBody: requestBody,
                status: status, responseHeaders: dictionary(responseHeaders), responseBody: responseBody)
            guard var line = try? JSONEncoder().encode(exchange) else { return }
            line.append(0x0A)
            handle.write(line)
        }
    }

    /// Header names lower-cased; repeated fields joined with ", " as HTTP allows.
    private static func dictionary(_ fields: HTTPFields) -> [String: String] {
        var result: [String: String] = [:]
        for field in fields {
            let name = field.name.canonicalName
            result[name] = result[name].map { "\($0), \(field.value)" } ?? field.value
        }
        return result
    }
}
