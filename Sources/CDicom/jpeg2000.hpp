// JPEG 2000 frames (DCMTK 3.6.7 has no decoder) through OpenJPEG, from the encapsulated fragments.
#ifndef CDICOM_JPEG2000_HPP
#define CDICOM_JPEG2000_HPP

#include "dicom_file.hpp"
#include "sample_conversion.hpp"

cdicom_status decodeJpeg2000Frame(cdicom_file *file, uint32_t frame, const SampleLayout &layout, float *out,
                                  char *error, size_t capacity);

#endif
