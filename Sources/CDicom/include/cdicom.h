/*
 * Plain C interface over DCMTK (and OpenJPEG for JPEG 2000), so Swift needs no C++ interop.
 *
 * Every function that can fail returns a cdicom_status and writes a message naming the file into the
 * caller's buffer. Lengths and dimensions claimed by a file are checked against cdicom_limits before any
 * allocation, so a hostile header cannot make the process allocate unbounded memory.
 */
#ifndef CDICOM_H
#define CDICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cdicom_status {
    CDICOM_OK = 0,
    CDICOM_NOT_FOUND = 1,
    CDICOM_NOT_DICOM = 2,
    CDICOM_TRUNCATED = 3,
    CDICOM_CORRUPT = 4,
    CDICOM_UNSUPPORTED_TRANSFER_SYNTAX = 5,
    CDICOM_NO_PIXEL_DATA = 6,
    CDICOM_LIMIT_EXCEEDED = 7,
    CDICOM_IO = 8,
} cdicom_status;

/* Upper bounds on what a file may claim. Zero in a field means "use the default". */
typedef struct cdicom_limits {
    uint32_t max_rows;
    uint32_t max_columns;
    uint32_t max_frames;
    /* Bound on the decoded size of all frames as float32, in bytes. */
    uint64_t max_total_bytes;
} cdicom_limits;

cdicom_limits cdicom_default_limits(void);

/* Opaque handle to one parsed DICOM file. Not thread-safe; distinct handles may be used concurrently. */
typedef struct cdicom_file cdicom_file;

/* Parses the file's meta header and data set. Pixel data is not loaded until a frame is decoded. */
cdicom_status cdicom_open(const char *path, const cdicom_limits *limits, cdicom_file **out_file,
                          char *error, size_t error_capacity);
/*
 * Like cdicom_open, for reading the header only: parses the meta header, the top-level attributes
 * listed in `attributes` (tags as group << 16 | element) and the public sequences, skipping every
 * other element, private ones included, and never touching pixel values. DCMTK's cost is per element
 * parsed, and files often carry hundreds. Lookups of those attributes (nested ones included),
 * cdicom_has_pixel_data and cdicom_check_pixel_data answer as for cdicom_open; other attributes may
 * read as absent, and cdicom_decode_frame refuses the handle.
 */
cdicom_status cdicom_open_header(const char *path, const cdicom_limits *limits, const uint32_t *attributes,
                                 size_t attribute_count, cdicom_file **out_file, char *error, size_t error_capacity);
void cdicom_close(cdicom_file *file);

/* The transfer syntax UID the data set was read with (never NULL; empty when unknown). */
const char *cdicom_transfer_syntax_uid(const cdicom_file *file);

/*
 * Copies the value of (group,element) as text, values joined by backslashes, into buffer (always
 * NUL-terminated when capacity > 0). Group 0x0002 is looked up in the meta header. With search_nested,
 * sequences are searched depth first when the attribute is absent at the top level.
 * Returns the full length of the value (which may exceed capacity - 1), or -1 when absent.
 */
long cdicom_get_string(const cdicom_file *file, uint16_t group, uint16_t element, int search_nested,
                       char *buffer, size_t capacity);

/* Value `index` of a numeric attribute (DS, IS, US, SS, UL, SL, FL, FD). Returns 1 when found, else 0. */
int cdicom_get_number(const cdicom_file *file, uint16_t group, uint16_t element, int search_nested,
                      unsigned long index, double *value);

/* 1 when the data set has a (7FE0,0010) Pixel Data attribute with a value, else 0. */
int cdicom_has_pixel_data(const cdicom_file *file);

/*
 * Checks that the pixel data can be decoded: geometry within limits, a supported transfer syntax and,
 * for native encodings, enough bytes for every frame. Cheap: reads no pixel values.
 */
cdicom_status cdicom_check_pixel_data(cdicom_file *file, char *error, size_t error_capacity);

/* Channels per decoded pixel: 1 for monochrome and palette-free gray, 3 for colour. */
int cdicom_output_channels(const cdicom_file *file);

/*
 * Decodes frame `frame` (0-based) into out, laid out [rows][columns][channels], as the stored values
 * after sign handling, times slope plus intercept (pass 1 and 0 for colour). YBR colour is converted
 * to RGB. out_count must be rows * columns * channels.
 */
cdicom_status cdicom_decode_frame(cdicom_file *file, uint32_t frame, double slope, double intercept,
                                  float *out, size_t out_count, char *error, size_t error_capacity);

/* Registers DCMTK's JPEG and JPEG-LS decoders exactly once; safe to call from any thread. (RLE and
 * JPEG 2000 are decoded by this library itself.) */
void cdicom_register_codecs(void);

#ifdef __cplusplus
}
#endif

#endif
