// JPEG pictures through libjpeg-turbo. libjpeg reports fatal errors by calling exit() unless the error
// manager jumps back, so every decode runs under setjmp.
#include "craster.h"

#include <cstdio>
#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

struct jump_error {
    struct jpeg_error_mgr base;
    jmp_buf back;
    char message[JMSG_LENGTH_MAX];
};

static void jump_on_error(j_common_ptr info) {
    struct jump_error *manager = (struct jump_error *)info->err;
    (*info->err->format_message)(info, manager->message);
    longjmp(manager->back, 1);
}

static void drop_message(j_common_ptr info) { (void)info; }

craster_status craster_read_jpeg(const char *path, uint64_t max_pixels, craster_image *out, char *error, size_t capacity) {
    memset(out, 0, sizeof *out);
    FILE *file = fopen(path, "rb");
    if (!file) {
        if (error && capacity) snprintf(error, capacity, "%s: cannot open", path);
        return CRASTER_IO;
    }
    struct jpeg_decompress_struct info;
    struct jump_error manager;
    info.err = jpeg_std_error(&manager.base);
    manager.base.error_exit = jump_on_error;
    manager.base.output_message = drop_message;
    uint8_t *volatile pixels = NULL;
    if (setjmp(manager.back)) {
        jpeg_destroy_decompress(&info);
        fclose(file);
        free(pixels);
        if (error && capacity) snprintf(error, capacity, "%s: %s", path, manager.message);
        return CRASTER_CORRUPT;
    }
    jpeg_create_decompress(&info);
    jpeg_stdio_src(&info, file);
    jpeg_read_header(&info, TRUE);
    if ((uint64_t)info.image_width * info.image_height > max_pixels || info.image_width == 0 || info.image_height == 0) {
        jpeg_destroy_decompress(&info);
        fclose(file);
        if (error && capacity) snprintf(error, capacity, "%s: picture dimensions exceed the pixel limit", path);
        return CRASTER_LIMIT_EXCEEDED;
    }
    const int gray = info.num_components == 1;
    info.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&info);
    const size_t stride = (size_t)info.output_width * info.output_components;
    pixels = static_cast<uint8_t *>(malloc(stride * info.output_height));
    if (!pixels) longjmp(manager.back, 1);
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + (size_t)info.output_scanline * stride;
        jpeg_read_scanlines(&info, &row, 1);
    }
    out->width = info.output_width;
    out->height = info.output_height;
    out->channels = (uint32_t)info.output_components;
    out->pixels = pixels;
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    fclose(file);
    return CRASTER_OK;
}
