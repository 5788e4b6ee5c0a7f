#include "jpeg2000.hpp"
#include "encapsulated_frames.hpp"

#include <openjpeg.h>

#include <cstring>
#include <vector>

namespace {

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

bool startsCodestream(const uint8_t *bytes, size_t length) {
    static const uint8_t soc[2] = {0xFF, 0x4F};
    static const uint8_t jp2[8] = {0x00, 0x00, 0x00, 0x0C, 'j', 'P', ' ', ' '};
    return (length >= 2 && std::memcmp(bytes, soc, 2) == 0) || (length >= 8 && std::memcmp(bytes, jp2, 8) == 0);
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
    cdicom_status collected = collectFrameBytes(file, frame, startsCodestream, bytes, error, capacity);
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
        !opj_read_header(resources.stream, resources.codec, &resources.image))
        return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "JPEG 2000 frame %u: %s", frame,
                           message.empty() ? "OpenJPEG cannot read the header" : message.c_str());
    // The codestream's own size is checked against the (limited) DICOM header before OpenJPEG allocates
    // anything for it: a hostile codestream may claim gigapixels.
    const opj_image_t *header = resources.image;
    if (header->x1 <= header->x0 || header->y1 <= header->y0 || header->x1 - header->x0 != layout.columns ||
        header->y1 - header->y0 != layout.rows || header->numcomps < layout.samplesPerPixel)
        return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity,
                           "JPEG 2000 frame %u is %ux%u with %u components, header claims %ux%u with %u", frame,
                           header->y1 - header->y0, header->x1 - header->x0, header->numcomps, layout.rows, layout.columns,
                           layout.samplesPerPixel);
    if (!opj_decode(resources.codec, resources.stream, resources.image) ||
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
