#include "palette_color.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <algorithm>

namespace {

cdicom_status loadTable(cdicom_file *file, const DcmTagKey &descriptorTag, const DcmTagKey &dataTag, const char *colour,
                        PaletteTable &table, char *error, size_t capacity) {
    DcmDataset *dataset = file->format.getDataset();
    DcmElement *descriptor = nullptr;
    if (dataset->findAndGetElement(descriptorTag, descriptor).bad() || descriptor == nullptr || descriptor->getVM() < 3)
        return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "PALETTE COLOR without a %s table descriptor", colour);
    Uint16 entries = 0, first = 0;
    descriptor->getUint16(entries, 0);
    descriptor->getUint16(first, 1);
    // The first mapped value may be written as SS; its bit pattern is read as the VR says.
    Sint16 signedFirst = 0;
    if (descriptor->getVR() == EVR_SS && descriptor->getSint16(signedFirst, 1).good()) table.firstMapped = signedFirst;
    else table.firstMapped = first;
    const size_t count = entries == 0 ? 65536 : entries;

    DcmElement *data = nullptr;
    const Uint8 *bytes = nullptr;
    if (dataset->findAndGetElement(dataTag, data).good() && data != nullptr) {
        // OW (the usual VR) is held as words in local byte order, OB as bytes.
        Uint16 *words = nullptr;
        Uint8 *octets = nullptr;
        if (data->getVR() == EVR_OB) {
            if (data->getUint8Array(octets).good()) bytes = octets;
        } else if (data->getUint16Array(words).good()) {
            bytes = reinterpret_cast<const Uint8 *>(words);
        }
    }
    if (bytes == nullptr)
        return cdicom_fail(file->path, CDICOM_UNSUPPORTED_TRANSFER_SYNTAX, error, capacity,
                           "PALETTE COLOR without %s table data (segmented palettes are not supported)", colour);
    const Uint32 length = data->getLength();
    // Entries are 8 or 16 bits wide; the data length tells which, as pydicom decides it.
    const size_t width = length >= count * 2 ? 2 : 1;
    if (length < count * width)
        return cdicom_fail(file->path, CDICOM_CORRUPT, error, capacity, "%s table holds %u bytes for %zu entries", colour, length, count);
    table.values.resize(count);
    // Words of OW data are already in local byte order in DCMTK's buffer.
    if (width == 2) {
        const Uint16 *words = reinterpret_cast<const Uint16 *>(bytes);
        for (size_t i = 0; i < count; ++i) table.values[i] = words[i];
    } else {
        for (size_t i = 0; i < count; ++i) table.values[i] = bytes[i];
    }
    return CDICOM_OK;
}

}  // namespace

cdicom_status applyPalette(cdicom_file *file, const float *indices, size_t count, float *out, char *error, size_t capacity) {
    if (file->palette[0].values.empty()) {
        const DcmTagKey descriptors[3] = {DCM_RedPaletteColorLookupTableDescriptor, DCM_GreenPaletteColorLookupTableDescriptor,
                                          DCM_BluePaletteColorLookupTableDescriptor};
        const DcmTagKey data[3] = {DCM_RedPaletteColorLookupTableData, DCM_GreenPaletteColorLookupTableData,
                                   DCM_BluePaletteColorLookupTableData};
        const char *names[3] = {"red", "green", "blue"};
        for (int channel = 0; channel < 3; ++channel) {
            cdicom_status loaded = loadTable(file, descriptors[channel], data[channel], names[channel], file->palette[channel], error, capacity);
            if (loaded != CDICOM_OK) {
                for (PaletteTable &table : file->palette) table.values.clear();
                return loaded;
            }
        }
    }
    for (int channel = 0; channel < 3; ++channel) {
        const PaletteTable &table = file->palette[channel];
        const long last = long(table.values.size()) - 1;
        for (size_t i = 0; i < count; ++i) {
            // Indices below the first mapped value take the first entry, above the table the last.
            const long index = std::clamp(long(indices[i]) - table.firstMapped, 0L, last);
            out[i * 3 + channel] = float(table.values[size_t(index)]);
        }
    }
    return CDICOM_OK;
}
