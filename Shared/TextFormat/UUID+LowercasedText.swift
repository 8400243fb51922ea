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

extension UUID {
    /// The id in `text` (36 characters, hyphens at 8, 13, 18 and 23, hex digits of either case),
    /// as `UUID(uuidString:)` reads it, without the `sscanf` that reads each byte there (a tenth
    /// of a consumer's CPU when every message carries several ids).
    public init?(text: String) {
        var text = text
        guard let bytes = text.withUTF8({ UUID.bytes(of: $0) }) else { return nil }
        self.init(uuid: bytes)
    }

    private static func bytes(of text: UnsafeBufferPointer<UInt8>) -> uuid_t? {
        guard text.count == 36 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 16)
        var position = 0
        for index in 0..<16 {
            if index == 4 || index == 6 || index == 8 || index == 10 {
                guard text[position] == UInt8(ascii: "-") else { return nil }
                position += 1
            }
            guard let high = hexValue(text[position]), let low = hexValue(text[position + 1]) else { return nil }
            bytes[index] = high << 4 | low
            position += 2
        }
        return (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15])
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
