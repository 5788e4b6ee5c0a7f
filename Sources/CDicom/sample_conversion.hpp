// Turning stored samples into float32 output: sign handling from BitsStored, planar to interleaved,
// modality rescale and YBR to RGB. Shared by the DCMTK and OpenJPEG decoding paths.
#ifndef CDICOM_SAMPLE_CONVERSION_HPP
#define CDICOM_SAMPLE_CONVERSION_HPP

#include <cstddef>
#include <cstdint>

struct SampleLayout {
    uint32_t rows, columns, samplesPerPixel;
    uint32_t bitsAllocated, bitsStored, pixelRepresentation;
    bool colorByPlane;
    double slope, intercept;
};

// Converts one frame of stored samples in a bitsAllocated container (local byte order; 1-bit packed LSB
// first) to floats laid out [rows][columns][channels].
void convertStoredSamples(const uint8_t *frame, const SampleLayout &layout, float *out);

// Converts one frame of int32 component planes, as OpenJPEG returns them, to interleaved floats.
void convertComponentPlanes(const int32_t *const *planes, const SampleLayout &layout, float *out);

// In-place YBR_FULL to RGB on 8-bit interleaved values, with the rounding pydicom uses.
void convertYbrFullToRgb(float *pixels, size_t pixelCount);

// Expands YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair, 8-bit) into interleaved YBR_FULL floats.
void expandYbr422(const uint8_t *frame, uint32_t rows, uint32_t columns, float *out);

#endif
