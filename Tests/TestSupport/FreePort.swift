import Foundation

/// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it).
public func freeLocalPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw MissingTestEnvironment("cannot open a socket") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress -> Int32 in
            guard bind(descriptor, socketAddress, length) == 0 else { return -1 }
            return getsockname(descriptor, socketAddress, &length)
        }
    }
    guard bound == 0 else { throw MissingTestEnvironment("cannot bind a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
