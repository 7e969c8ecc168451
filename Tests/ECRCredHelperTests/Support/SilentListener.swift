#if canImport(Glibc)
import Glibc
#endif

/// A loopback port that accepts TCP connections (the kernel completes them from the backlog) and never
/// reads or answers: a TLS client's handshake there never completes.
final class SilentListener: Sendable {
    let port: Int
    private let socketDescriptor: Int32

    struct Failure: Error, CustomStringConvertible { var description: String }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 16) == 0 else {
            Glibc.close(fd)
            throw Failure(description: "bind/listen: errno \(errno)")
        }
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard named == 0 else {
            Glibc.close(fd)
            throw Failure(description: "getsockname: errno \(errno)")
        }
        socketDescriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(socketDescriptor) }
}
