// PNG pictures through libpng's simplified API, reduced to 8-bit gray or RGB as RadFM's PIL loading does.
// C++ only because the target's compiler flags are C++ flags; the code is plain C.
#include "craster.h"

#include <png.h>
#include <cstdio>
#include <stdlib.h>
#include <string.h>

static craster_status fail(craster_status status, const char *path, const char *message, char *error, size_t capacity) {
    if (error && capacity) snprintf(error, capacity, "%s: %s", path, message);
    return status;
}

craster_status craster_read_png(const char *path, uint64_t max_pixels, craster_image *out, char *error, size_t capacity) {
    memset(out, 0, sizeof *out);
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, path)) {
        craster_status status = strstr(image.message, "open") ? CRASTER_IO : CRASTER_CORRUPT;
        return fail(status, path, image.message, error, capacity);
    }
    if (image.width == 0 || image.height == 0 || (uint64_t)image.width * image.height > max_pixels) {
        png_image_free(&image);
        return fail(CRASTER_LIMIT_EXCEEDED, path, "picture dimensions exceed the pixel limit", error, capacity);
    }
    const int color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
    image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    size_t size = PNG_IMAGE_SIZE(image);
    uint8_t *pixels = static_cast<uint8_t *>(malloc(size));
    if (!pixels) {
        png_image_free(&image);
        return fail(CRASTER_LIMIT_EXCEEDED, path, "out of memory", error, capacity);
    }
    if (!png_image_finish_read(&image, NULL, pixels, 0, NULL)) {
        free(pixels);
        return fail(CRASTER_CORRUPT, path, image.message, error, capacity);
    }
    out->width = image.width;
    out->height = image.height;
    out->channels = color ? 3 : 1;
    out->pixels = pixels;
    return CRASTER_OK;
}

void craster_free(craster_image *image) {
    free(image->pixels);
    image->pixels = NULL;
}
