// Decoding one frame: native data is read straight from the file, DCMTK's codecs handle JPEG and JPEG-LS,
// RLE is decoded here, and JPEG 2000 goes to OpenJPEG.
#include "dicom_file.hpp"
#include "jpeg2000.hpp"
#include "palette_color.hpp"
#include "rle.hpp"
#include "sample_conversion.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>

#include <vector>

static cdicom_status readNativeFrame(cdicom_file *file, DcmPixelData *pixels, uint32_t frame, std::vector<uint8_t> &buffer,
                                     std::string &colorModel, char *error, size_t capacity) {
    const uint64_t samples = uint64_t(file->rows) * file->columns * file->samplesPerPixel;
    uint64_t bits = samples * file->bitsAllocated;
    if (file->photometric == "YBR_FULL_422") bits = bits * 2 / 3;
    const uint64_t frameBytes = (bits + 7) / 8;
    const uint64_t offset = frameBytes * frame;
    // cdicom_check_pixel_data guaranteed frames * frameBytes <= the element length, a Uint32.
    buffer.resize(frameBytes + 1);
    OFCondition read = pixels->getPartialValue(buffer.data(), Uint32(offset), Uint32(frameBytes), &file->fileCache);
    if (read.bad())
        return cdicom_fail(file->path, CDICOM_TRUNCATED, error, capacity, "cannot read frame %u: %s", frame, read.text());
    colorModel = file->photometric;
    return CDICOM_OK;
}

static cdicom_status readCodecFrame(cdicom_file *file, DcmPixelData *pixels, uint32_t frame, std::vector<uint8_t> &buffer,
                                    std::string &colorModel, char *error, size_t capacity) {
    DcmDataset *dataset = file->format.getDataset();
    Uint32 frameSize = 0;
    OFCondition sized = pixels->getUncompressedFrameSize(dataset, frameSize);
    if (sized.bad()) return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "frame size unknown: %s", sized.text());
    buffer.resize(size_t(frameSize) + (frameSize & 1));
    // DCMTK locates the fragments of a frame fastest when frames are read in order.
    Uint32 startFragment = frame == file->nextFrame ? file->nextFragment : 0;
    OFString model;
    OFCondition decoded = pixels->getUncompressedFrame(dataset, frame, startFragment, buffer.data(), Uint32(buffer.size()), model,
                                                       &file->fileCache);
    if (decoded.bad()) {
        file->nextFrame = 0;
        file->nextFragment = 0;
        return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "cannot decode frame %u (%s): %s", frame,
                           file->transferSyntaxUID.c_str(), decoded.text());
    }
    file->nextFrame = frame + 1;
    file->nextFragment = startFragment;
    colorModel = model.c_str();
    return CDICOM_OK;
}

static cdicom_status decodeStoredFrame(cdicom_file *file, uint32_t frame, const SampleLayout &layout, float *out, char *error,
                                       size_t capacity);

extern "C" cdicom_status cdicom_decode_frame(cdicom_file *file, uint32_t frame, double slope, double intercept, float *out,
                                             size_t out_count, char *error, size_t capacity) {
    // A codec may replace attributes of the data set while decoding; lookups after it index afresh.
    struct ForgetIndex {
        cdicom_file *file;
        ~ForgetIndex() {
            file->topLevelIndexed = false;
            file->topLevel.clear();
        }
    } forgetIndex{file};
    if (file->headerOnly)
        return cdicom_fail(file->path, CDICOM_IO, error, capacity, "opened for its header only; open it in full to decode");
    if (!file->pixelDataChecked) {
        cdicom_status checked = cdicom_check_pixel_data(file, error, capacity);
        if (checked != CDICOM_OK) return checked;
    }
    if (frame >= file->frames)
        return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "frame %u requested, file has %u", frame, file->frames);
    const size_t pixelCount = size_t(file->rows) * file->columns;
    const size_t channels = size_t(cdicom_output_channels(file));
    if (out_count != pixelCount * channels)
        return cdicom_fail(file->path, CDICOM_IO, error, capacity, "output holds %zu values, frame has %zu", out_count,
                           pixelCount * channels);

    const bool palette = file->samplesPerPixel == 1 && file->photometric == "PALETTE COLOR";
    const bool monochrome = file->samplesPerPixel == 1 && !palette;
    SampleLayout layout{file->rows, file->columns, file->samplesPerPixel, file->bitsAllocated, file->bitsStored,
                        file->pixelRepresentation, file->planarConfiguration == 1, monochrome ? slope : 1.0,
                        monochrome ? intercept : 0.0};

    if (palette) {
        std::vector<float> indices(pixelCount);
        cdicom_status decoded = decodeStoredFrame(file, frame, layout, indices.data(), error, capacity);
        if (decoded != CDICOM_OK) return decoded;
        return applyPalette(file, indices.data(), pixelCount, out, error, capacity);
    }
    return decodeStoredFrame(file, frame, layout, out, error, capacity);
}

static cdicom_status decodeStoredFrame(cdicom_file *file, uint32_t frame, const SampleLayout &layout, float *out, char *error,
                                       size_t capacity) {
    const size_t pixelCount = size_t(file->rows) * file->columns;
    const size_t channels = file->samplesPerPixel;
    if (file->encoding == PixelEncoding::jpeg2000) return decodeJpeg2000Frame(file, frame, layout, out, error, capacity);

    DcmElement *element = nullptr;
    file->format.getDataset()->findAndGetElement(DCM_PixelData, element);
    if (element == nullptr || element->ident() != EVR_PixelData)
        return cdicom_fail(file->path, CDICOM_NO_PIXEL_DATA, error, capacity, "no (7FE0,0010) Pixel Data");
    DcmPixelData *pixels = static_cast<DcmPixelData *>(element);

    std::vector<uint8_t> buffer;
    std::string colorModel = file->photometric;
    SampleLayout effective = layout;
    cdicom_status read;
    if (file->encoding == PixelEncoding::native) {
        read = readNativeFrame(file, pixels, frame, buffer, colorModel, error, capacity);
    } else if (file->encoding == PixelEncoding::rle) {
        read = decodeRleFrame(file, frame, buffer, error, capacity);
        effective.colorByPlane = false;
    } else {
        read = readCodecFrame(file, pixels, frame, buffer, colorModel, error, capacity);
    }
    if (read != CDICOM_OK) return read;

    if (colorModel == "YBR_FULL_422" && file->encoding == PixelEncoding::native) {
        if (file->bitsAllocated != 8)
            return cdicom_fail(file->path, CDICOM_UNSUPPORTED_TRANSFER_SYNTAX, error, capacity, "YBR_FULL_422 with %u bits",
                               file->bitsAllocated);
        expandYbr422(buffer.data(), file->rows, file->columns, out);
        convertYbrFullToRgb(out, pixelCount);
        return CDICOM_OK;
    }
    convertStoredSamples(buffer.data(), effective, out);
    if (channels == 3 && (colorModel == "YBR_FULL" || colorModel == "YBR_FULL_422") && file->bitsAllocated == 8)
        convertYbrFullToRgb(out, pixelCount);
    return CDICOM_OK;
}
