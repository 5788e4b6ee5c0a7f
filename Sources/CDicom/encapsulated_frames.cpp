#include "encapsulated_frames.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <cstring>

namespace {

struct Fragment {
    const uint8_t *bytes;
    Uint32 length;
    uint64_t offset;  // from the first fragment's item tag, as the basic offset table counts
};

}  // namespace

cdicom_status collectFrameBytes(cdicom_file *file, uint32_t frame, FrameStartTest startsFrame, std::vector<uint8_t> &bytes,
                                char *error, size_t capacity) {
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
    uint64_t offset = 0;
    for (unsigned long index = 1; index < items; ++index) {
        DcmPixelItem *item = nullptr;
        if (sequence->getItem(item, index).bad() || item == nullptr)
            return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "fragment %lu missing", index);
        const Uint32 length = item->getLengthField();
        Uint8 *data = nullptr;
        if (length > 0) {
            OFCondition loaded = item->getUint8Array(data);
            if (loaded.bad() || data == nullptr)
                return cdicom_fail(file->path, CDICOM_TRUNCATED, error, capacity, "cannot read fragment %lu: %s", index, loaded.text());
        }
        fragments.push_back({data, length, offset});
        offset += 8ull + length;
    }

    size_t first = 0, end = 0;
    if (file->frames == 1) {
        end = fragments.size();
    } else if (fragments.size() == file->frames) {
        first = frame;
        end = frame + 1;
    } else {
        // The basic offset table: one 32-bit little-endian offset per frame.
        DcmPixelItem *table = nullptr;
        Uint8 *tableBytes = nullptr;
        std::vector<uint64_t> starts;
        if (sequence->getItem(table, 0).good() && table != nullptr && table->getLengthField() >= 4ull * file->frames &&
            table->getUint8Array(tableBytes).good() && tableBytes != nullptr) {
            for (uint32_t index = 0; index < file->frames; ++index) {
                const uint8_t *entry = tableBytes + 4 * index;
                starts.push_back(uint64_t(entry[0]) | uint64_t(entry[1]) << 8 | uint64_t(entry[2]) << 16 | uint64_t(entry[3]) << 24);
            }
        }
        if (!starts.empty()) {
            const uint64_t from = starts[frame], to = frame + 1 < starts.size() ? starts[frame + 1] : UINT64_MAX;
            bool found = false;
            for (size_t index = 0; index < fragments.size(); ++index) {
                if (fragments[index].offset == from) { first = index; found = true; }
                if (found && fragments[index].offset < to) end = index + 1;
            }
            if (!found)
                return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "offset table points frame %u at no fragment", frame);
        } else if (startsFrame != nullptr) {
            uint32_t current = 0;
            bool found = false;
            for (size_t index = 0; index < fragments.size(); ++index) {
                if (index > 0 && startsFrame(fragments[index].bytes, fragments[index].length)) {
                    if (current == frame) break;
                    ++current;
                }
                if (current == frame) {
                    if (!found) { first = index; found = true; }
                    end = index + 1;
                }
            }
            if (!found)
                return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "frame %u has no bitstream", frame);
        } else {
            return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity,
                               "%zu fragments for %u frames and no offset table", fragments.size(), file->frames);
        }
    }
    if (first >= end) return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "frame %u has no fragments", frame);
    size_t total = 0;
    for (size_t index = first; index < end; ++index) total += fragments[index].length;
    bytes.resize(total);
    size_t position = 0;
    for (size_t index = first; index < end; ++index) {
        if (fragments[index].length) std::memcpy(bytes.data() + position, fragments[index].bytes, fragments[index].length);
        position += fragments[index].length;
    }
    return CDICOM_OK;
}
