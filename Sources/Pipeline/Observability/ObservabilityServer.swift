import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 endpoint for Prometheus scrapes and Kubernetes probes: GET /metrics, /healthz,
/// /readyz. One connection at a time on its own thread: scrapes are rare and small, and a full web
/// framework would cost the service minutes of build time for three routes.
public final class ObservabilityServer: @unchecked Sendable {
    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    private let socketFD: Int32
    private let metrics: ServiceMetrics
    private let health: ServiceHealth
    public let port: Int
    private var thread: Thread?
    private let stopped = NSLock()
    private var isStopped = false

    /// `address` is `host:port`; port 0 picks a free port (see `port`).
    public init(address: String, metrics: ServiceMetrics, health: ServiceHealth) throws {
        let parts = address.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let requested = UInt16(parts[1]) else {
            throw StartError(description: "observability.listen must be host:port, got '\(address)'")
        }
        let host = parts[0].isEmpty ? "0.0.0.0" : String(parts[0])
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartError(description: "socket(): errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = requested.bigEndian
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            close(fd)
            throw StartError(description: "observability.listen: '\(host)' is not an IPv4 address")
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw StartError(description: "cannot listen on \(address): \(String(cString: strerror(code)))")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: actual.sin_port))
        socketFD = fd
        self.metrics = metrics
        self.health = health
        let thread = Thread { [weak self] in self?.serve() }
        thread.name = "radfm-observability"
        self.thread = thread
        thread.start()
    }

    public func stop() {
        stopped.lock()
        defer { stopped.unlock() }
        guard !isStopped else { return }
        isStopped = true
        shutdown(socketFD, Int32(SHUT_RDWR))
        close(socketFD)
    }

    deinit { stop() }

    private func serve() {
        while true {
            let client = accept(socketFD, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return   // closed by stop()
            }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 2048)
        while request.count < 8192 {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            request.append(contentsOf: chunk[0..<n])
            if request.count >= 4, request.suffix(4) == [13, 10, 13, 10] { break }
        }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let (status, type, body): (String, String, [UInt8])
        if parts.count >= 2, parts[0] == "GET" || parts[0] == "HEAD" {
            switch parts[1].split(separator: "?").first ?? "" {
            case "/metrics":
                (status, type, body) = ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.render())
            case "/healthz":
                let live = health.liveness
                (status, type, body) = (live.ok ? "200 OK" : "503 Service Unavailable", "text/plain", Array((live.detail + "\n").utf8))
            case "/readyz":
                let ready = health.readiness
                (status, type, body) = (ready.ok ? "200 OK" : "503 Service Unavailable", "text/plain", Array((ready.detail + "\n").utf8))
            default:
                (status, type, body) = ("404 Not Found", "text/plain", Array("not found\n".utf8))
            }
        } else {
            (status, type, body) = ("405 Method Not Allowed", "text/plain", Array("GET only\n".utf8))
        }
        var response = Array("HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8)
        if parts.first != "HEAD" { response += body }
        var sent = 0
        while sent < response.count {
            let n = response[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }
}
