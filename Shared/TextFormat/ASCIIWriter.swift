/// Writes ASCII into a string's storage without formatting machinery: the timestamps and ids
/// every row and payload carries went through `String(format:)` and `snprintf` before, which
/// cost more than the rest of a multi-row insert.
public struct ASCIIWriter: ~Copyable {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    public private(set) var count = 0

    /// Builds a string of at most `capacity` bytes.
    public static func string(capacity: Int, _ write: (inout ASCIIWriter) -> Void) -> String {
        String(unsafeUninitializedCapacity: capacity) { buffer in
            var writer = ASCIIWriter(buffer: buffer)
            write(&writer)
            return writer.count
        }
    }

    private init(buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    /// `value` (not negative) in exactly `width` decimal digits, zero-padded; higher digits are cut.
    public mutating func digits<Value: BinaryInteger>(_ value: Value, width: Int) {
        var rest = value
        for position in stride(from: count + width - 1, through: count, by: -1) {
            buffer[position] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        count += width
    }

    public mutating func character(_ character: Unicode.Scalar) {
        buffer[count] = UInt8(ascii: character)
        count += 1
    }

    /// Two lowercase hexadecimal digits.
    public mutating func hex(_ byte: UInt8) {
        buffer[count] = Self.hexDigits[Int(byte >> 4)]
        buffer[count + 1] = Self.hexDigits[Int(byte & 0x0F)]
        count += 2
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
