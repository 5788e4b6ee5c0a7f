// Internal state behind the opaque cdicom_file handle, shared by the C++ files of this target.
#ifndef CDICOM_DICOM_FILE_HPP
#define CDICOM_DICOM_FILE_HPP

#include "cdicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcfcache.h>

#include <cstdarg>
#include <string>
#include <vector>

// How the pixel data of a file is encoded, which decides the decoding path.
enum class PixelEncoding { native, rle, dcmtkCodec, jpeg2000, unsupported };

// One PALETTE COLOR lookup table: entries for stored values firstMapped, firstMapped + 1, ...
struct PaletteTable {
    long firstMapped = 0;
    std::vector<uint16_t> values;
};

struct cdicom_file {
    DcmFileFormat format;
    std::string path;
    std::string transferSyntaxUID;
    E_TransferSyntax transferSyntax = EXS_Unknown;
    cdicom_limits limits{};

    // Opened by cdicom_open_header from the scanned header alone: the data set holds only the
    // attributes asked for and the public sequences, and no Pixel Data element, whose length field the
    // scan recorded; frames cannot be decoded.
    bool headerOnly = false;
    bool scannedPixelData = false;
    Uint32 scannedPixelDataLength = 0;

    // The data set's top-level elements by tag, built on the first lookup: DCMTK's own search walks
    // its element list from the start, and a header read asks for some thirty attributes of files
    // that often carry hundreds of private elements.
    bool topLevelIndexed = false;
    std::vector<std::pair<Uint32, DcmElement *>> topLevel;

    // Geometry, valid once cdicom_check_pixel_data succeeded.
    bool pixelDataChecked = false;
    PixelEncoding encoding = PixelEncoding::unsupported;
    Uint32 rows = 0, columns = 0, frames = 0, samplesPerPixel = 0;
    Uint32 bitsAllocated = 0, bitsStored = 0, pixelRepresentation = 0, planarConfiguration = 0;
    std::string photometric;
    PaletteTable palette[3];

    // DCMTK finds the fragments of frame n+1 fastest when told where frame n ended.
    DcmFileCache fileCache;
    Uint32 nextFrame = 0;
    Uint32 nextFragment = 0;
};

// Writes "<path>: <message>" into the caller's buffer and returns status, so every error names the file.
cdicom_status cdicom_fail(const std::string &path, cdicom_status status, char *error, size_t capacity,
                          const char *format, ...) __attribute__((format(printf, 5, 6)));

void cdicom_initialize_once();

#endif
