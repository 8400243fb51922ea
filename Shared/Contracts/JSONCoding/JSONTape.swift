import Foundation

/// A JSON text checked against the grammar of RFC 8259 and indexed in one pass: one token per
/// value, object key and container, in document order, each knowing where its value ends. The
/// decoder reads members and elements from it without building strings, dictionaries or boxes
/// for what its caller does not ask for.
///
/// It is strict on purpose: whatever it does not take as plainly valid (leading zeros, a lone
/// surrogate escape, invalid UTF-8, nesting deeper than Foundation's limit) makes it give up,
/// and `CRMJSONDecoder` hands the text to Foundation's decoder, which then decides.
struct JSONTape {
    enum Kind: UInt8 {
        case null, `true`, `false`, number, string, object, array
    }

    struct Token {
        var kind: Kind
        /// Whether a string contains escapes or non-ASCII text: its bytes are not its text, or
        /// another spelling of it is equal as a Swift `String` (canonical equivalence, which is
        /// how Foundation matches keys). Such keys are compared as strings.
        var escaped = false
        /// The bytes of a number or of a string's content (without quotes).
        var start: Int32
        var end: Int32
        /// Members or elements of a container.
        var count: Int32 = 0
        /// The index of the token after this value (and, for a container, everything in it).
        var next: Int32 = 0
        /// A key's first eight bytes (`JSONKeyPrefix`; 0 for other strings): member lookups
        /// compare this first.
        var prefix: UInt64 = 0
    }

    struct Invalid: Error {}

    let bytes: [UInt8]
    private(set) var tokens: [Token] = []

    /// Foundation's decoder refuses deeper documents.
    private static let depthLimit = 512

    init(_ bytes: [UInt8]) throws {
        guard bytes.count < Int32.max else { throw Invalid() }  // offsets are 32-bit
        self.bytes = bytes
        tokens.reserveCapacity(bytes.count / 8)
        try bytes.withUnsafeBufferPointer { buffer in
            var parser = Parser(bytes: buffer)
            try parser.value(into: &tokens, depth: 0)
            parser.skipWhitespace()
            guard parser.position == buffer.count else { throw Invalid() }
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        private func byte() throws -> UInt8 {
            guard position < bytes.count else { throw Invalid() }
            return bytes[position]
        }

        mutating func value(into tokens: inout [Token], depth: Int) throws {
            skipWhitespace()
            switch try byte() {
            case UInt8(ascii: "{"): try container(into: &tokens, depth: depth, kind: .object, close: UInt8(ascii: "}"))
            case UInt8(ascii: "["): try container(into: &tokens, depth: depth, kind: .array, close: UInt8(ascii: "]"))
            case UInt8(ascii: "\""): try string(into: &tokens)
            case UInt8(ascii: "t"): try literal("true", .true, into: &tokens)
            case UInt8(ascii: "f"): try literal("false", .false, into: &tokens)
            case UInt8(ascii: "n"): try literal("null", .null, into: &tokens)
            default: try number(into: &tokens)
            }
        }

        private mutating func container(into tokens: inout [Token], depth: Int, kind: Kind, close: UInt8) throws {
            guard depth < JSONTape.depthLimit else { throw Invalid() }
            let index = tokens.count
            tokens.append(Token(kind: kind, start: Int32(position), end: Int32(position)))
            position += 1
            skipWhitespace()
            var count: Int32 = 0
            if try byte() == close {
                position += 1
            } else {
                while true {
                    if kind == .object {
                        skipWhitespace()
                        guard try byte() == UInt8(ascii: "\"") else { throw Invalid() }
                        try string(into: &tokens, isKey: true)
                        skipWhitespace()
                        guard try byte() == UInt8(ascii: ":") else { throw Invalid() }
                        position += 1
                    }
                    try value(into: &tokens, depth: depth + 1)
                    count += 1
                    skipWhitespace()
                    let separator = try byte()
                    position += 1
                    if separator == close { break }
                    guard separator == UInt8(ascii: ",") else { throw Invalid() }
                }
            }
            tokens[index].count = count
            tokens[index].end = Int32(position)
            tokens[index].next = Int32(tokens.count)
        }

        /// Only keys get a prefix: lookups compare keys, never values.
        private mutating func string(into tokens: inout [Token], isKey: Bool = false) throws {
            position += 1
            let start = position
            var escaped = false
            var ascii = true
            scan: while true {
                let byte = try byte()
                switch byte {
                case UInt8(ascii: "\""): break scan
                case UInt8(ascii: "\\"):
                    escaped = true
                    position += 1
                    switch try self.byte() {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                         UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        position += 1
                    case UInt8(ascii: "u"):
                        position += 1
                        guard position + 4 <= bytes.count,
                              let unit = JSONTape.hexUnit(bytes[position..<position + 4]),
                              !(0xD800...0xDFFF).contains(unit)  // pairs: left to Foundation
                        else { throw Invalid() }
                        position += 4
                    default: throw Invalid()
                    }
                case 0..<0x20: throw Invalid()
                default:
                    if byte >= 0x80 { ascii = false }
                    position += 1
                }
            }
            if !ascii, String(validating: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self) == nil {
                throw Invalid()
            }
            tokens.append(Token(
                kind: .string, escaped: escaped || !ascii, start: Int32(start), end: Int32(position), next: Int32(tokens.count + 1),
                prefix: isKey ? JSONKeyPrefix.of(UnsafeBufferPointer(rebasing: bytes[start..<position])) : 0))
            position += 1
        }

        private mutating func literal(_ text: StaticString, _ kind: Kind, into tokens: inout [Token]) throws {
            let start = position
            let matches = text.withUTF8Buffer { expected in
                position + expected.count <= bytes.count && bytes[position..<position + expected.count].elementsEqual(expected)
            }
            guard matches else { throw Invalid() }
            position += text.utf8CodeUnitCount
            tokens.append(Token(kind: kind, start: Int32(start), end: Int32(position), next: Int32(tokens.count + 1)))
        }

        /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        private mutating func number(into tokens: inout [Token]) throws {
            let start = position
            if try byte() == UInt8(ascii: "-") { position += 1 }
            if try byte() == UInt8(ascii: "0") {
                position += 1
            } else {
                try digits()
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                try digits()
            }
            if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
                position += 1
                if try byte() == UInt8(ascii: "+") || byte() == UInt8(ascii: "-") { position += 1 }
                try digits()
            }
            tokens.append(Token(kind: .number, start: Int32(start), end: Int32(position), next: Int32(tokens.count + 1)))
        }

        private mutating func digits() throws {
            let start = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                position += 1
            }
            guard position > start else { throw Invalid() }
        }
    }

    static func hexUnit(_ digits: some Collection<UInt8>) -> UInt16? {
        var unit: UInt16 = 0
        for digit in digits {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = digit - UInt8(ascii: "A") + 10
            default: return nil
            }
            unit = unit << 4 | UInt16(value)
        }
        return unit
    }

    // MARK: Reading

    /// The text of a string token.
    func string(at index: Int) -> String {
        let token = tokens[index]
        let range = Int(token.start)..<Int(token.end)
        guard token.escaped, bytes[range].contains(UInt8(ascii: "\\")) else {
            return bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[range]), as: UTF8.self) }
        }
        var text: [UInt8] = []
        text.reserveCapacity(range.count)
        var position = range.lowerBound
        while position < range.upperBound {
            let byte = bytes[position]
            position += 1
            guard byte == UInt8(ascii: "\\") else {
                text.append(byte)
                continue
            }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "u"):
                // Checked while parsing: four hex digits, not a surrogate.
                let unit = Self.hexUnit(bytes[position..<position + 4])!
                position += 4
                text.append(contentsOf: String(Character(Unicode.Scalar(unit)!)).utf8)
            default: text.append(escape)  // " \ /
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The index of the value of the first member of `object` whose key is `key`, without
    /// building strings: length and first eight bytes first, the rest only when those agree.
    func member(of object: Int, named key: String) -> Int? {
        var key = key
        let plainKey = key.utf8.allSatisfy { $0 < 0x80 }
        return key.withUTF8 { keyBytes in
            let keyPrefix = JSONKeyPrefix.of(keyBytes)
            return tokens.withUnsafeBufferPointer { tokens in
                bytes.withUnsafeBufferPointer { bytes in
                    var keyIndex = object + 1
                    for _ in 0..<tokens[object].count {
                        let token = tokens[keyIndex]
                        if token.escaped || !plainKey {
                            if string(at: keyIndex) == String(decoding: keyBytes, as: UTF8.self) { return keyIndex + 1 }
                        } else if token.prefix == keyPrefix, Int(token.end - token.start) == keyBytes.count,
                                  keyBytes.count <= 8 || memcmp(bytes.baseAddress! + Int(token.start), keyBytes.baseAddress!, keyBytes.count) == 0 {
                            return keyIndex + 1
                        }
                        keyIndex = Int(tokens[keyIndex + 1].next)
                    }
                    return nil
                }
            }
        }
    }

    func numberText(at index: Int) -> Substring {
        let token = tokens[index]
        return bytes.withUnsafeBufferPointer {
            Substring(decoding: UnsafeBufferPointer(rebasing: $0[Int(token.start)..<Int(token.end)]), as: UTF8.self)
        }
    }

    /// A number token as an integer, if it is written as one (no fraction, no exponent) and fits.
    func integer<Integer: FixedWidthInteger>(at index: Int, as type: Integer.Type) -> Integer? {
        let token = tokens[index]
        var position = Int(token.start)
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        var value: Integer = 0
        while position < Int(token.end) {
            let byte = bytes[position]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Integer(byte - UInt8(ascii: "0"))
            let (shifted, overflowShift) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowAdd) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowShift, !overflowAdd else { return nil }
            value = next
            position += 1
        }
        return value
    }
}

/// The first eight bytes of a key, big-endian, zero-padded: equal keys have equal prefixes, and
/// where two prefixes differ their numeric order is the byte order of the keys (equal prefixes
/// say nothing; the keys are compared in full).
enum JSONKeyPrefix {
    static func of(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var prefix: UInt64 = 0
        for index in 0..<8 {
            prefix = prefix << 8 | UInt64(index < bytes.count ? bytes[index] : 0)
        }
        return prefix
    }
}
