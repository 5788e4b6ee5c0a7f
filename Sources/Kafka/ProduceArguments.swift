import CRdKafka

/// Builds the `rd_kafka_vu_t` array for `rd_kafka_produceva` (the variadic `rd_kafka_producev` does not
/// import into Swift). Payloads are copied by librdkafka, so the pointers need only outlive the call.
enum ProduceArguments {
    /// Calls `body` with the argument array; `headers` is an owned `rd_kafka_headers_t` or nil.
    static func with<Result>(
        topic: String, key: [UInt8]?, value: [UInt8], headers: OpaquePointer?, partition: Int32?,
        opaque: UnsafeMutableRawPointer?, _ body: (UnsafeBufferPointer<rd_kafka_vu_t>) -> Result
    ) -> Result {
        topic.withCString { topicName in
            withNonNullBytes(value) { valueBytes in
                withOptionalBytes(key) { keyBytes in
                    var arguments: [rd_kafka_vu_t] = []
                    arguments.reserveCapacity(7)
                    var argument = rd_kafka_vu_t()
                    argument.vtype = RD_KAFKA_VTYPE_TOPIC
                    argument.u.cstr = topicName
                    arguments.append(argument)

                    argument = rd_kafka_vu_t()
                    argument.vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    argument.u.i = RD_KAFKA_MSG_F_COPY
                    arguments.append(argument)

                    argument = rd_kafka_vu_t()
                    argument.vtype = RD_KAFKA_VTYPE_VALUE
                    argument.u.mem.ptr = UnsafeMutableRawPointer(mutating: valueBytes.baseAddress)
                    argument.u.mem.size = valueBytes.count
                    arguments.append(argument)

                    if let keyBytes {
                        argument = rd_kafka_vu_t()
                        argument.vtype = RD_KAFKA_VTYPE_KEY
                        argument.u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBytes.baseAddress)
                        argument.u.mem.size = keyBytes.count
                        arguments.append(argument)
                    }
                    if let partition {
                        argument = rd_kafka_vu_t()
                        argument.vtype = RD_KAFKA_VTYPE_PARTITION
                        argument.u.i32 = partition
                        arguments.append(argument)
                    }
                    if let headers {
                        argument = rd_kafka_vu_t()
                        argument.vtype = RD_KAFKA_VTYPE_HEADERS
                        argument.u.headers = headers
                        arguments.append(argument)
                    }
                    if let opaque {
                        argument = rd_kafka_vu_t()
                        argument.vtype = RD_KAFKA_VTYPE_OPAQUE
                        argument.u.ptr = opaque
                        arguments.append(argument)
                    }
                    return arguments.withUnsafeBufferPointer(body)
                }
            }
        }
    }

    /// A new `rd_kafka_headers_t` (owned by the caller until produce succeeds), or nil for no headers.
    static func makeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty else { return nil }
        let native = rd_kafka_headers_new(headers.count)!
        for header in headers {
            if let value = header.value {
                withNonNullBytes(value) { bytes in
                    _ = rd_kafka_header_add(native, header.key, -1, bytes.baseAddress, bytes.count)
                }
            } else {
                _ = rd_kafka_header_add(native, header.key, -1, nil, 0)
            }
        }
        return native
    }

    /// librdkafka reads a NULL pointer as "no value" (a tombstone for payloads), but Swift gives empty
    /// arrays no storage; an empty array must still arrive as present-but-empty.
    private static func withNonNullBytes<Result>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        bytes.withUnsafeBytes { buffer in
            if buffer.baseAddress != nil { return body(buffer) }
            var placeholder: UInt8 = 0
            return withUnsafeBytes(of: &placeholder) { body(UnsafeRawBufferPointer(start: $0.baseAddress, count: 0)) }
        }
    }

    private static func withOptionalBytes<Result>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> Result) -> Result {
        guard let bytes else { return body(nil) }
        return withNonNullBytes(bytes) { body($0) }
    }
}
