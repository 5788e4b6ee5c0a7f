// PALETTE COLOR images: stored indices mapped through the red, green and blue lookup tables.
#ifndef CDICOM_PALETTE_COLOR_HPP
#define CDICOM_PALETTE_COLOR_HPP

#include "dicom_file.hpp"

// Maps `count` indices (as floats, stored values) to interleaved RGB in out (3 * count values), with
// the table values as they are (8 or 16 bits), as pydicom's apply_color_lut does. Loads the tables once.
cdicom_status applyPalette(cdicom_file *file, const float *indices, size_t count, float *out, char *error, size_t capacity);

#endif
