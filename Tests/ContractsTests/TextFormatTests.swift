import Contracts
import Foundation
import Testing

@Suite("Text formats written by hand")
struct TextFormatTests {
    @Test("ids are the lowercase of Foundation's text, for every byte value")
    func idsMatchFoundation() {
        var ids = (0..<200).map { _ in UUID() }
        ids.append(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        ids.append(UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)))
        ids.append(UUID(uuid: (0x0f, 0xf0, 0x1a, 0xa1, 0x09, 0x90, 0xab, 0xcd, 0xef, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x7f)))
        for id in ids {
            #expect(id.lowercasedText == id.uuidString.lowercased())
        }
    }

    @Test("digits are zero-padded to their width, and cut above it")
    func digitsArePadded() {
        let text = ASCIIWriter.string(capacity: 16) { writer in
            writer.digits(7, width: 3)
            writer.character("|")
            writer.digits(0, width: 2)
            writer.character("|")
            writer.digits(12345, width: 3)
            writer.character("|")
            writer.hex(0xa5)
        }
        #expect(text == "007|00|345|a5")
    }

    @Test("bytes as lowercase hexadecimal, two digits each")
    func bytesAsHex() {
        #expect([UInt8]().lowercaseHex == "")
        #expect([0x00, 0x0f, 0xa5, 0xff].lowercaseHex == "000fa5ff")
        let all = (0...255).map { UInt8($0) }
        #expect(all.lowercaseHex == all.map { String(format: "%02x", $0) }.joined())
    }

    @Test("RFC 3339 text at the edges of the fast path")
    func rfc3339Edges() {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 253_402_300_799.999)) == "9999-12-31T23:59:59.999Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: -62_167_219_200)) == "0000-01-01T00:00:00.000Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 253_402_300_800)) == "10000-01-01T00:00:00.000Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 1_796_000_000.0005)) == "2026-11-30T00:53:20.001Z")
    }
}
