import Dispatch
import Foundation

/// Runs `/bin/sh -c command` and waits for it on a dispatch thread (`waitpid`, off the
/// cooperative pool). Returns the exit status.
public func runShellCommand(_ command: String) async throws -> Int32 {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue(label: "crm.test.shell").async {
            var pid: pid_t = 0
            let words: [String] = ["/bin/sh", "-c", command]
            let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
            defer { arguments.forEach { free($0) } }
            let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, arguments, environ)
            guard spawned == 0 else {
                continuation.resume(throwing: MissingTestEnvironment("could not run '\(command)': error \(spawned)"))
                return
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            // WEXITSTATUS: the exit code sits in the second byte of the status word.
            continuation.resume(returning: (status >> 8) & 0xff)
        }
    }
}
