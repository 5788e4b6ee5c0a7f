// The compressed bytes of one frame of encapsulated pixel data, for the decoders this target runs itself
// (JPEG 2000 through OpenJPEG, and RLE, whose DCMTK decoder trusts segment offsets from the file).
#ifndef CDICOM_ENCAPSULATED_FRAMES_HPP
#define CDICOM_ENCAPSULATED_FRAMES_HPP

#include "dicom_file.hpp"

#include <vector>

// Whether a fragment starts a new frame's bitstream; null when the format has no such marker.
typedef bool (*FrameStartTest)(const uint8_t *bytes, size_t length);

// Concatenates the fragments of `frame`: all of them for a single frame, one each when the counts
// match, else as the basic offset table says, else split where `startsFrame` recognises a bitstream.
cdicom_status collectFrameBytes(cdicom_file *file, uint32_t frame, FrameStartTest startsFrame, std::vector<uint8_t> &bytes,
                                char *error, size_t capacity);

#endif
