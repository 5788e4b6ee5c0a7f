#include "jpeg2000.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <openjpeg.h>

#include <cstring>
#include <vector>

namespace {

struct Fragment {
    const uint8_t *bytes;
    Uint32 length;
};

struct MemoryStream {
    const uint8_t *data;
    size_t size;
    size_t position;
};

OPJ_SIZE_T readStream(void *buffer, OPJ_SIZE_T count, void *user) {
    auto *stream = static_cast<MemoryStream *>(user);
    if (stream->position >= stream->size) return OPJ_SIZE_T(-1);
    size_t available = stream->size - stream->position;
    size_t copied = count < available ? count : available;
    std::memcpy(buffer, stream->data + stream->position, copied);
    stream->position += copied;
    return copied;
}

OPJ_OFF_T skipStream(OPJ_OFF_T count, void *user) {
    auto *stream = static_cast<MemoryStream *>(user);
    if (count < 0) {
        if (size_t(-count) > stream->position) return -1;
        stream->position -= size_t(-count);
        return count;
    }
    size_t available = stream->size - stream->position;
    size_t skipped = size_t(count) < available ? size_t(count) : available;
    stream->position += skipped;
    return OPJ_OFF_T(skipped);
}

OPJ_BOOL seekStream(OPJ_OFF_T position, void *user) {
    auto *stream = static_cast<MemoryStream *>(user);
    if (position < 0 || size_t(position) > stream->size) return OPJ_FALSE;
    stream->position = size_t(position);
    return OPJ_TRUE;
}

void keepMessage(const char *message, void *user) {
    auto *text = static_cast<std::string *>(user);
    if (text->empty()) *text = message;
    while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
}

void ignoreMessage(const char *, void *) {}

bool startsCodestream(const Fragment &fragment) {
    static const uint8_t soc[2] = {0xFF, 0x4F};
    static const uint8_t jp2[8] = {0x00, 0x00, 0x00, 0x0C, 'j', 'P', ' ', ' '};
    return (fragment.length >= 2 && std::memcmp(fragment.bytes, soc, 2) == 0) ||
           (fragment.length >= 8 && std::memcmp(fragment.bytes, jp2, 8) == 0);
}

// Collects the fragments of every frame: one fragment per frame when the counts match, otherwise a
// new frame starts at each fragment beginning with a codestream marker (the offset table is optional
// and often wrong in the wild, while the markers are mandatory).
cdicom_status frameBytes(cdicom_file *file, uint32_t frame, std::vector<uint8_t> &bytes, char *error, size_t capacity) {
    DcmElement *element = nullptr;
    file->format.getDataset()->findAndGetElement(DCM_PixelData, element);
    if (element == nullptr || element->ident() != EVR_PixelData)
        return cdicom_fail(file->path, CDICOM_NO_PIXEL_DATA, error, capacity, "no (7FE0,0010) Pixel Data");
    DcmPixelSequence *sequence = nullptr;
    OFCondition found = static_cast<DcmPixelData *>(element)->getEncapsulatedRepresentation(file->transferSyntax, nullptr, sequence);
    if (found.bad() || sequence == nullptr)
        return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "no encapsulated pixel data: %s", found.text());
    const unsigned long items = sequence->card();
    if (items < 2) return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "encapsulated pixel data has no fragments");

    std::vector<Fragment> fragments;
    fragments.reserve(items - 1);
    for (unsigned long index = 1; index < items; ++index) {
        DcmPixelItem *item = nullptr;
        Uint8 *data = nullptr;
        if (sequence->getItem(item, index).bad() || item == nullptr)
            return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "fragment %lu missing", index);
        Uint32 length = item->getLengthField();
        if (length == 0) continue;
        OFCondition loaded = item->getUint8Array(data);
        if (loaded.bad() || data == nullptr)
            return cdicom_fail(file->path, CDICOM_TRUNCATED, error, capacity, "cannot read fragment %lu: %s", index, loaded.text());
        fragments.push_back({data, length});
    }

    size_t first = 0, end = 0;
    if (file->frames == 1) {
        first = 0;
        end = fragments.size();
    } else if (fragments.size() == file->frames) {
        first = frame;
        end = frame + 1;
    } else {
        uint32_t current = 0;
        bool found = false;
        for (size_t index = 0; index < fragments.size(); ++index) {
            if (index > 0 && startsCodestream(fragments[index])) {
                if (current == frame) { end = index; break; }
                ++current;
            }
            if (current == frame && !found) { first = index; found = true; }
            end = index + 1;
        }
        if (!found || current != frame)
            return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "frame %u has no JPEG 2000 codestream", frame);
    }
    if (first >= end) return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "frame %u has no fragments", frame);
    size_t total = 0;
    for (size_t index = first; index < end; ++index) total += fragments[index].length;
    bytes.resize(total);
    size_t position = 0;
    for (size_t index = first; index < end; ++index) {
        std::memcpy(bytes.data() + position, fragments[index].bytes, fragments[index].length);
        position += fragments[index].length;
    }
    return CDICOM_OK;
}

struct OpenJpegResources {
    opj_codec_t *codec = nullptr;
    opj_stream_t *stream = nullptr;
    opj_image_t *image = nullptr;
    ~OpenJpegResources() {
        if (image) opj_image_destroy(image);
        if (stream) opj_stream_destroy(stream);
        if (codec) opj_destroy_codec(codec);
    }
};

}  // namespace

cdicom_status decodeJpeg2000Frame(cdicom_file *file, uint32_t frame, const SampleLayout &layout, float *out, char *error,
                                  size_t capacity) {
    std::vector<uint8_t> bytes;
    cdicom_status collected = frameBytes(file, frame, bytes, error, capacity);
    if (collected != CDICOM_OK) return collected;

    const bool isJp2 = bytes.size() >= 8 && bytes[4] == 'j' && bytes[5] == 'P';
    MemoryStream memory{bytes.data(), bytes.size(), 0};
    OpenJpegResources resources;
    std::string message;
    resources.codec = opj_create_decompress(isJp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
    opj_set_error_handler(resources.codec, keepMessage, &message);
    opj_set_warning_handler(resources.codec, ignoreMessage, nullptr);
    opj_set_info_handler(resources.codec, ignoreMessage, nullptr);
    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    resources.stream = opj_stream_create(1 << 16, OPJ_TRUE);
    opj_stream_set_user_data(resources.stream, &memory, nullptr);
    opj_stream_set_user_data_length(resources.stream, bytes.size());
    opj_stream_set_read_function(resources.stream, readStream);
    opj_stream_set_skip_function(resources.stream, skipStream);
    opj_stream_set_seek_function(resources.stream, seekStream);

    if (!opj_setup_decoder(resources.codec, &parameters) ||
        !opj_read_header(resources.stream, resources.codec, &resources.image) ||
        !opj_decode(resources.codec, resources.stream, resources.image) ||
        !opj_end_decompress(resources.codec, resources.stream))
        return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "JPEG 2000 frame %u: %s", frame,
                           message.empty() ? "OpenJPEG failed" : message.c_str());

    const opj_image_t *image = resources.image;
    if (image->numcomps < layout.samplesPerPixel)
        return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "JPEG 2000 frame %u has %u components, header claims %u",
                           frame, image->numcomps, layout.samplesPerPixel);
    // Some encoders write the codestream's signedness unlike Pixel Representation; the codestream's
    // precision then decides which bits carry the value (pydicom applies the same correction).
    SampleLayout effective = layout;
    if (image->comps[0].sgnd != layout.pixelRepresentation && image->comps[0].prec >= 1 && image->comps[0].prec <= 32)
        effective.bitsStored = image->comps[0].prec;
    const int32_t *planes[3] = {nullptr, nullptr, nullptr};
    for (uint32_t channel = 0; channel < layout.samplesPerPixel; ++channel) {
        const opj_image_comp_t &component = image->comps[channel];
        if (component.w != layout.columns || component.h != layout.rows || component.data == nullptr)
            return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity,
                               "JPEG 2000 frame %u component %u is %ux%u, header claims %ux%u", frame, channel, component.h,
                               component.w, layout.rows, layout.columns);
        planes[channel] = component.data;
    }
    convertComponentPlanes(planes, effective, out);
    return CDICOM_OK;
}
