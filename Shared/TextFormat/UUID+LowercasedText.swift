import Foundation

extension UUID {
    /// `1b4e28ba-2fa1-4d2b-883f-0016d3cca427`: how ids appear in URLs, payloads, keys and SQL
    /// parameters. Equal to `uuidString.lowercased()`, which formats with `snprintf` and then
    /// copies the string again.
    public var lowercasedText: String {
        withUnsafeBytes(of: uuid) { bytes in
            ASCIIWriter.string(capacity: 36) { writer in
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 { writer.character("-") }
                    writer.hex(byte)
                }
            }
        }
    }
}
