extension Duration {
    /// Whole milliseconds, sub-millisecond rest dropped: librdkafka's timeouts are in ms.
    var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
