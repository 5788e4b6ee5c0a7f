// DICOM RLE Lossless frames, decoded here rather than by DCMTK: its decoder follows segment offsets from
// the file without checking them against the fragment (a crafted file crashed it under fuzzing).
#ifndef CDICOM_RLE_HPP
#define CDICOM_RLE_HPP

#include "dicom_file.hpp"

#include <vector>

// Decodes one frame into `samples`: interleaved samples in bitsAllocated containers, little endian.
cdicom_status decodeRleFrame(cdicom_file *file, uint32_t frame, std::vector<uint8_t> &samples, char *error, size_t capacity);

#endif
