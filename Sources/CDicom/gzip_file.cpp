// Inflating .gz files with zlib's gzread, which also passes uncompressed files through unchanged.
#include "cgzip.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <zlib.h>

extern "C" int cgzip_read_file(const char *path, uint64_t max_bytes, uint8_t **out, size_t *out_length, char *error,
                               size_t capacity) {
    *out = nullptr;
    *out_length = 0;
    gzFile file = gzopen(path, "rb");
    if (file == nullptr) {
        std::snprintf(error, capacity, "%s: cannot open: %s", path, std::strerror(errno));
        return 1;
    }
    gzbuffer(file, 1 << 17);
    size_t size = 0, reserved = 1 << 20;
    uint8_t *buffer = static_cast<uint8_t *>(std::malloc(reserved));
    int status = 0;
    while (buffer != nullptr) {
        if (size == reserved) {
            if (reserved >= max_bytes) { status = 3; break; }
            size_t grown = reserved * 2 > max_bytes ? size_t(max_bytes) : reserved * 2;
            uint8_t *larger = static_cast<uint8_t *>(std::realloc(buffer, grown));
            if (larger == nullptr) { status = 3; break; }
            buffer = larger;
            reserved = grown;
        }
        size_t request = reserved - size > (1u << 30) ? (1u << 30) : reserved - size;
        int got = gzread(file, buffer + size, unsigned(request));
        if (got < 0) { status = 2; break; }
        if (got == 0) break;
        size += size_t(got);
    }
    if (buffer == nullptr) status = 3;
    if (status == 0) {
        int code = 0;
        gzerror(file, &code);
        if (code != Z_OK && code != Z_BUF_ERROR) status = 2;
        if (!gzeof(file) && status == 0 && size == reserved) status = 3;
    }
    if (status == 2) {
        int code = 0;
        const char *message = gzerror(file, &code);
        std::snprintf(error, capacity, "%s: compressed data is corrupt or truncated: %s", path, message ? message : "zlib error");
    } else if (status == 3) {
        std::snprintf(error, capacity, "%s: inflates beyond the limit of %llu bytes", path, (unsigned long long)max_bytes);
    }
    gzclose(file);
    if (status != 0) {
        std::free(buffer);
        return status;
    }
    *out = buffer;
    *out_length = size;
    return 0;
}

extern "C" void cgzip_free(uint8_t *buffer) { std::free(buffer); }
