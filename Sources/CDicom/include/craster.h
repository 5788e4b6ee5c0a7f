/*
 * PNG (libpng) and JPEG (libjpeg-turbo) readers for 8-bit pictures, as RadFM's training data holds them.
 * Pixels come back interleaved [height][width][channels] as 8-bit samples, channels 1 (gray) or 3 (RGB);
 * an alpha channel is dropped as PIL's convert("RGB") does.
 */
#ifndef CRASTER_H
#define CRASTER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum craster_status {
    CRASTER_OK = 0,
    CRASTER_IO = 1,
    CRASTER_CORRUPT = 2,
    CRASTER_LIMIT_EXCEEDED = 3,
} craster_status;

typedef struct craster_image {
    uint32_t width;
    uint32_t height;
    uint32_t channels;
    uint8_t *pixels; /* malloc'd; release with craster_free */
} craster_image;

craster_status craster_read_png(const char *path, uint64_t max_pixels, craster_image *out,
                                char *error, size_t error_capacity);
craster_status craster_read_jpeg(const char *path, uint64_t max_pixels, craster_image *out,
                                 char *error, size_t error_capacity);
void craster_free(craster_image *image);

#ifdef __cplusplus
}
#endif

#endif
