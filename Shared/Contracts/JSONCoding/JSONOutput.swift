import Foundation
import TextFormat

/// The bytes of a `JSONNode` tree in Foundation's compact form: object members sorted by the
/// UTF-8 bytes of their keys, strings escaped as Foundation escapes them (`"`, `\`, and control
/// characters; `/` and non-ASCII text as they are).
struct JSONOutput {
    var bytes: [UInt8] = []
    /// Set when containers nest deeper than this writer goes; the value is then Foundation's to
    /// write or refuse (its own limit is a little under 512).
    var tooDeep = false
    private static let depthLimit = 256

    mutating func write(_ node: JSONNode, depth: Int) {
        switch node {
        case .object, .array, .deferred:
            guard depth < Self.depthLimit else {
                tooDeep = true
                return
            }
        default: break
        }
        switch node {
        case .null: append("null")
        case .bool(let value): append(value ? "true" : "false")
        case .number(let text): append(text)
        case .string(let text): writeString(text)
        case .raw(let text): bytes.append(contentsOf: text)
        case .object(let object): write(object, depth: depth + 1)
        case .array(let array):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in array.values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element, depth: depth + 1)
            }
            bytes.append(UInt8(ascii: "]"))
        case .deferred(let slot): write(slot.node ?? .object(JSONObjectNode()), depth: depth)
        }
    }

    private mutating func write(_ object: JSONObjectNode, depth: Int) {
        let keys = object.keys
        // Sorted by key bytes, then by position, so that of a key encoded twice the last value
        // is written (Foundation's dictionary keeps the last one). Prefixes decide most pairs.
        let prefixes = keys.map { key in
            var key = key
            return key.withUTF8 { JSONKeyPrefix.of($0) }
        }
        let order = keys.indices.sorted { left, right in
            if prefixes[left] != prefixes[right] { return prefixes[left] < prefixes[right] }
            let comparison = Self.compare(keys[left], keys[right])
            return comparison != 0 ? comparison < 0 : left < right
        }
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for (position, index) in order.enumerated() {
            if position + 1 < order.count, keys[order[position + 1]] == keys[index] { continue }
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            writeString(keys[index])
            bytes.append(UInt8(ascii: ":"))
            write(object.values[index], depth: depth)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// Byte order of the UTF-8 forms (`String`'s `<` orders by Unicode scalars after
    /// normalisation, which is not what Foundation writes).
    private static func compare(_ left: String, _ right: String) -> Int {
        var left = left, right = right
        return left.withUTF8 { l in
            right.withUTF8 { r in
                let common = Swift.min(l.count, r.count)
                if common > 0, let lBase = l.baseAddress, let rBase = r.baseAddress {
                    let result = memcmp(lBase, rBase, common)
                    if result != 0 { return Int(result) }
                }
                return l.count - r.count
            }
        }
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    private mutating func writeString(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            bytes.append(UInt8(ascii: "\""))
            var start = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                default:
                    bytes.append(contentsOf: "u00\([byte].lowercaseHex)".utf8)
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
            bytes.append(UInt8(ascii: "\""))
        }
    }
}
