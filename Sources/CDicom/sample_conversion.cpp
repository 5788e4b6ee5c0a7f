#include "sample_conversion.hpp"

#include <cmath>

namespace {

// Applies BitsStored: unsigned values are masked (high bits may carry overlays), signed values are
// sign-extended from the BitsStored-th bit.
struct StoredValue {
    uint32_t mask;
    int64_t signBit;
    bool isSigned;

    explicit StoredValue(const SampleLayout &layout)
        : mask(layout.bitsStored >= 32 ? 0xffffffffu : ((1u << layout.bitsStored) - 1u)),
          signBit(int64_t(1) << (layout.bitsStored - 1)),
          isSigned(layout.pixelRepresentation == 1) {}

    inline int64_t operator()(uint32_t raw) const {
        int64_t value = raw & mask;
        if (isSigned && (value & signBit)) value -= signBit << 1;
        return value;
    }
};

template <typename Container>
void convertTyped(const Container *samples, const SampleLayout &layout, float *out) {
    const StoredValue stored(layout);
    const size_t pixels = size_t(layout.rows) * layout.columns;
    const uint32_t channels = layout.samplesPerPixel;
    const double slope = layout.slope, intercept = layout.intercept;
    if (channels == 1 || !layout.colorByPlane) {
        const size_t count = pixels * channels;
        for (size_t i = 0; i < count; ++i) out[i] = float(double(stored(samples[i])) * slope + intercept);
        return;
    }
    for (uint32_t channel = 0; channel < channels; ++channel) {
        const Container *plane = samples + size_t(channel) * pixels;
        for (size_t i = 0; i < pixels; ++i) out[i * channels + channel] = float(double(stored(plane[i])) * slope + intercept);
    }
}

void convertBits(const uint8_t *bytes, const SampleLayout &layout, float *out) {
    const size_t count = size_t(layout.rows) * layout.columns * layout.samplesPerPixel;
    for (size_t i = 0; i < count; ++i) {
        const double bit = (bytes[i >> 3] >> (i & 7)) & 1;
        out[i] = float(bit * layout.slope + layout.intercept);
    }
}

}  // namespace

void convertStoredSamples(const uint8_t *frame, const SampleLayout &layout, float *out) {
    switch (layout.bitsAllocated) {
    case 1: convertBits(frame, layout, out); break;
    case 8: convertTyped(frame, layout, out); break;
    case 16: convertTyped(reinterpret_cast<const uint16_t *>(frame), layout, out); break;
    default: convertTyped(reinterpret_cast<const uint32_t *>(frame), layout, out); break;
    }
}

void convertComponentPlanes(const int32_t *const *planes, const SampleLayout &layout, float *out) {
    const StoredValue stored(layout);
    const size_t pixels = size_t(layout.rows) * layout.columns;
    const uint32_t channels = layout.samplesPerPixel;
    for (uint32_t channel = 0; channel < channels; ++channel) {
        const int32_t *plane = planes[channel];
        for (size_t i = 0; i < pixels; ++i)
            out[i * channels + channel] = float(double(stored(uint32_t(plane[i]))) * layout.slope + layout.intercept);
    }
}

void convertYbrFullToRgb(float *pixels, size_t pixelCount) {
    // The matrix and floor(x + 0.5) rounding of pydicom's convert_color_space, so values agree exactly.
    const float crToR = 1.402f, cbToG = float(-0.114 * 1.772 / 0.587), crToG = float(-0.299 * 1.402 / 0.587), cbToB = 1.772f;
    for (size_t i = 0; i < pixelCount; ++i) {
        float *pixel = pixels + i * 3;
        const float y = pixel[0], cb = pixel[1] - 128.0f, cr = pixel[2] - 128.0f;
        const float rgb[3] = {y + crToR * cr, y + cbToG * cb + crToG * cr, y + cbToB * cb};
        for (int c = 0; c < 3; ++c) {
            const float rounded = std::floor(rgb[c] + 0.5f);
            pixel[c] = rounded < 0.0f ? 0.0f : (rounded > 255.0f ? 255.0f : rounded);
        }
    }
}

void expandYbr422(const uint8_t *frame, uint32_t rows, uint32_t columns, float *out) {
    const size_t pixels = size_t(rows) * columns;
    for (size_t pair = 0; pair * 2 < pixels; ++pair) {
        const uint8_t *group = frame + pair * 4;
        for (size_t k = 0; k < 2 && pair * 2 + k < pixels; ++k) {
            float *pixel = out + (pair * 2 + k) * 3;
            pixel[0] = group[k];
            pixel[1] = group[2];
            pixel[2] = group[3];
        }
    }
}
