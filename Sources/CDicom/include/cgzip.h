/* Whole-file reading through zlib, for .nii.gz volumes; plain files are read as they are. */
#ifndef CGZIP_H
#define CGZIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Reads and, when gzip-compressed, inflates the file into a malloc'd buffer (release with free via
 * cgzip_free). Fails rather than exceed max_bytes of output. Returns 0 on success, 1 on I/O errors,
 * 2 on corrupt or truncated compressed data, 3 when max_bytes would be exceeded.
 */
int cgzip_read_file(const char *path, uint64_t max_bytes, uint8_t **out, size_t *out_length, char *error,
                    size_t error_capacity);
void cgzip_free(uint8_t *buffer);

#ifdef __cplusplus
}
#endif

#endif
