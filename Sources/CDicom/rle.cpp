#include "rle.hpp"
#include "encapsulated_frames.hpp"

#include <cstring>

namespace {

uint32_t littleEndian32(const uint8_t *bytes) {
    return uint32_t(bytes[0]) | uint32_t(bytes[1]) << 8 | uint32_t(bytes[2]) << 16 | uint32_t(bytes[3]) << 24;
}

// PackBits (PS3.5 G.3.1): writes exactly `count` bytes to out at `stride` apart, or fails.
bool unpackSegment(const uint8_t *input, size_t length, uint8_t *out, size_t count, size_t stride) {
    size_t read = 0, written = 0;
    while (written < count && read < length) {
        const int8_t header = int8_t(input[read++]);
        if (header >= 0) {
            const size_t literal = size_t(header) + 1;
            if (read + literal > length || written + literal > count) return false;
            for (size_t i = 0; i < literal; ++i) out[(written + i) * stride] = input[read + i];
            read += literal;
            written += literal;
        } else if (header != -128) {
            const size_t repeat = size_t(1 - header);
            if (read >= length || written + repeat > count) return false;
            const uint8_t value = input[read++];
            for (size_t i = 0; i < repeat; ++i) out[(written + i) * stride] = value;
            written += repeat;
        }
    }
    return written == count;
}

}  // namespace

cdicom_status decodeRleFrame(cdicom_file *file, uint32_t frame, std::vector<uint8_t> &samples, char *error, size_t capacity) {
    std::vector<uint8_t> bytes;
    cdicom_status collected = collectFrameBytes(file, frame, nullptr, bytes, error, capacity);
    if (collected != CDICOM_OK) return collected;
    if (file->bitsAllocated % 8 != 0)
        return cdicom_fail(file->path, CDICOM_UNSUPPORTED_TRANSFER_SYNTAX, error, capacity, "RLE with %u bits allocated", file->bitsAllocated);
    if (bytes.size() < 64) return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "RLE frame %u has no header", frame);

    const size_t bytesPerSample = file->bitsAllocated / 8;
    const size_t expectedSegments = bytesPerSample * file->samplesPerPixel;
    const uint32_t segments = littleEndian32(bytes.data());
    if (segments != expectedSegments)
        return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "RLE frame %u has %u segments, the header implies %zu", frame,
                           segments, expectedSegments);
    const size_t pixels = size_t(file->rows) * file->columns;
    const size_t pixelBytes = bytesPerSample * file->samplesPerPixel;
    samples.assign(pixels * pixelBytes, 0);
    for (uint32_t segment = 0; segment < segments; ++segment) {
        const uint32_t start = littleEndian32(bytes.data() + 4 + 4 * segment);
        const uint32_t end = segment + 1 < segments ? littleEndian32(bytes.data() + 8 + 4 * segment) : uint32_t(bytes.size());
        if (start < 64 || start > end || end > bytes.size())
            return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "RLE frame %u segment %u spans bytes %u to %u of %zu", frame,
                               segment, start, end, bytes.size());
        // Segments run sample by sample, most significant byte first; containers are little endian.
        const size_t sample = segment / bytesPerSample, significance = segment % bytesPerSample;
        uint8_t *target = samples.data() + sample * bytesPerSample + (bytesPerSample - 1 - significance);
        if (!unpackSegment(bytes.data() + start, end - start, target, pixels, pixelBytes))
            return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "RLE frame %u segment %u does not decode to %zu bytes", frame,
                               segment, pixels);
    }
    return CDICOM_OK;
}
