/// Writes ASCII into a string's storage without formatting machinery: the timestamps and ids
/// every row and payload carries went through `String(format:)` and `snprintf` before, which
/// cost more than the rest of a multi-row insert.
///
/// Inlinable and not generic: called across modules, a generic integer writer ran through
/// witness tables and cost as much as the formatting it replaced.
public struct ASCIIWriter: ~Copyable {
    @usableFromInline let buffer: UnsafeMutableBufferPointer<UInt8>
    @usableFromInline var written = 0

    /// Builds a string of at most `capacity` bytes.
    @inlinable
    public static func string(capacity: Int, _ write: (inout ASCIIWriter) -> Void) -> String {
        String(unsafeUninitializedCapacity: capacity) { buffer in
            var writer = ASCIIWriter(buffer: buffer)
            write(&writer)
            return writer.written
        }
    }

    @usableFromInline
    init(buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    /// `value` (not negative) in exactly `width` decimal digits, zero-padded; higher digits are cut.
    @inlinable
    public mutating func digits(_ value: Int, width: Int) {
        var rest = value
        var position = written + width - 1
        while position >= written {
            buffer[position] = UInt8(truncatingIfNeeded: 48 + rest % 10)
            rest /= 10
            position -= 1
        }
        written += width
    }

    @inlinable
    public mutating func character(_ character: Unicode.Scalar) {
        buffer[written] = UInt8(ascii: character)
        written += 1
    }

    /// Two lowercase hexadecimal digits.
    @inlinable
    public mutating func hex(_ byte: UInt8) {
        buffer[written] = Self.hexDigit(byte >> 4)
        buffer[written + 1] = Self.hexDigit(byte & 0x0F)
        written += 2
    }

    @inlinable
    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }
}
