extension Sequence<UInt8> {
    /// Two lowercase hexadecimal digits per byte: digests, `bytea` literals, derived ids.
    public var lowercaseHex: String {
        let bytes = Array(self)
        return ASCIIWriter.string(capacity: bytes.count * 2) { writer in
            for byte in bytes { writer.hex(byte) }
        }
    }
}
