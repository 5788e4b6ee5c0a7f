// Opening a DICOM file, reading attributes by tag, and validating what the header claims about pixels.
#include "dicom_file.hpp"
#include "header_scan.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// Element values longer than this stay on disk until decoded: opening a file reads the header only.
static const Uint32 lazyValueThreshold = 4096;

extern "C" cdicom_limits cdicom_default_limits(void) {
    cdicom_limits limits;
    limits.max_rows = 16384;
    limits.max_columns = 16384;
    limits.max_frames = 16384;
    limits.max_total_bytes = 8ull << 30;
    return limits;
}

static cdicom_limits resolvedLimits(const cdicom_limits *requested) {
    cdicom_limits limits = cdicom_default_limits();
    if (requested == nullptr) return limits;
    if (requested->max_rows) limits.max_rows = requested->max_rows;
    if (requested->max_columns) limits.max_columns = requested->max_columns;
    if (requested->max_frames) limits.max_frames = requested->max_frames;
    if (requested->max_total_bytes) limits.max_total_bytes = requested->max_total_bytes;
    return limits;
}

// A file is DICOM when it has the "DICM" preamble marker, or (older, meta-less files) when it starts
// with a little-endian group 0002 or 0008 tag. DCMTK alone would parse arbitrary bytes as a data set.
static cdicom_status sniffDicom(const std::string &path, char *error, size_t capacity) {
    struct stat info;
    if (stat(path.c_str(), &info) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return cdicom_fail(path, CDICOM_NOT_FOUND, error, capacity, "no such file");
        return cdicom_fail(path, CDICOM_IO, error, capacity, "cannot stat: %s", std::strerror(errno));
    }
    if (!S_ISREG(info.st_mode)) return cdicom_fail(path, CDICOM_NOT_DICOM, error, capacity, "not a regular file");
    FILE *stream = std::fopen(path.c_str(), "rb");
    if (stream == nullptr) return cdicom_fail(path, CDICOM_IO, error, capacity, "cannot open: %s", std::strerror(errno));
    unsigned char head[132];
    size_t got = std::fread(head, 1, sizeof head, stream);
    std::fclose(stream);
    if (got == sizeof head && std::memcmp(head + 128, "DICM", 4) == 0) return CDICOM_OK;
    if (got >= 8 && head[1] == 0x00 && (head[0] == 0x02 || head[0] == 0x08)) return CDICOM_OK;
    if (got < sizeof head && got >= 4 && std::memcmp(head, "\0\0\0\0", 4) == 0)
        return cdicom_fail(path, CDICOM_TRUNCATED, error, capacity, "file ends inside the DICOM preamble (%zu bytes)", got);
    return cdicom_fail(path, CDICOM_NOT_DICOM, error, capacity, "no DICM marker and no DICOM tag at the start");
}

static bool isTruncation(const OFCondition &condition) {
    return condition == EC_StreamNotifyClient || condition == EC_EndOfStream ||
           condition == EC_PrematureSequDelimitationItem || condition == EC_SequEnd ||
           condition == EC_ItemEnd;
}

// Reads what DCMTK made of the meta information once the data set is parsed.
static void recordTransferSyntax(cdicom_file *file) {
    DcmDataset *dataset = file->format.getDataset();
    file->transferSyntax = dataset->getOriginalXfer();
    OFString metaSyntax;
    if (file->format.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, metaSyntax).good() && !metaSyntax.empty()) {
        file->transferSyntaxUID = metaSyntax.c_str();
    } else {
        const char *uid = DcmXfer(file->transferSyntax).getXferID();
        file->transferSyntaxUID = uid ? uid : "";
    }
}

static cdicom_status parsed(cdicom_file *file, const OFCondition &loaded, cdicom_file **out_file, char *error, size_t capacity) {
    if (loaded.bad()) {
        cdicom_status status = isTruncation(loaded) ? CDICOM_TRUNCATED : CDICOM_CORRUPT;
        std::string path = file->path;
        delete file;
        return cdicom_fail(path, status, error, capacity, "cannot parse DICOM: %s", loaded.text());
    }
    recordTransferSyntax(file);
    *out_file = file;
    return CDICOM_OK;
}

static cdicom_file *newFile(const std::string &path, const cdicom_limits *limits) {
    cdicom_file *file = new cdicom_file();
    file->path = path;
    file->limits = resolvedLimits(limits);
    return file;
}

static cdicom_status openFull(const std::string &path, const cdicom_limits *limits, cdicom_file **out_file, char *error,
                              size_t capacity) {
    cdicom_file *file = newFile(path, limits);
    OFCondition loaded = file->format.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, lazyValueThreshold, ERM_autoDetect);
    return parsed(file, loaded, out_file, error, capacity);
}

extern "C" cdicom_status cdicom_open(const char *path, const cdicom_limits *limits, cdicom_file **out_file,
                                     char *error, size_t error_capacity) {
    cdicom_initialize_once();
    *out_file = nullptr;
    std::string name = path ? path : "";
    cdicom_status sniffed = sniffDicom(name, error, error_capacity);
    if (sniffed != CDICOM_OK) return sniffed;
    return openFull(name, limits, out_file, error, error_capacity);
}

// Maps the file and cuts it down to its header; false when it cannot be mapped or scanned.
static bool scanFile(const std::string &path, const std::vector<Uint32> &wanted, HeaderScan &scan) {
    int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (descriptor < 0) return false;
    struct stat info;
    bool scanned = false;
    if (fstat(descriptor, &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0) {
        size_t size = static_cast<size_t>(info.st_size);
        void *mapped = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, descriptor, 0);
        if (mapped != MAP_FAILED) {
            scanned = scanHeader(static_cast<const uint8_t *>(mapped), size, wanted, scan);
            munmap(mapped, size);
        }
    }
    ::close(descriptor);
    return scanned;
}

static Uint32 tagNumber(const DcmTagKey &key) { return (static_cast<Uint32>(key.getGroup()) << 16) | key.getElement(); }

// What cdicom_check_pixel_data reads, kept whatever the caller asks for.
static const DcmTagKey pixelCheckAttributes[] = {DCM_SamplesPerPixel, DCM_PhotometricInterpretation, DCM_PlanarConfiguration,
                                                 DCM_NumberOfFrames,  DCM_Rows,                      DCM_Columns,
                                                 DCM_BitsAllocated,   DCM_BitsStored,                DCM_PixelRepresentation};

extern "C" cdicom_status cdicom_open_header(const char *path, const cdicom_limits *limits, const uint32_t *attributes,
                                            size_t attribute_count, cdicom_file **out_file, char *error, size_t error_capacity) {
    cdicom_initialize_once();
    *out_file = nullptr;
    std::string name = path ? path : "";
    cdicom_status sniffed = sniffDicom(name, error, error_capacity);
    if (sniffed != CDICOM_OK) return sniffed;
    std::vector<Uint32> wanted(attributes, attributes + attribute_count);
    for (const DcmTagKey &key : pixelCheckAttributes) wanted.push_back(tagNumber(key));
    std::sort(wanted.begin(), wanted.end());
    HeaderScan scan;
    if (!scanFile(name, wanted, scan)) return openFull(name, limits, out_file, error, error_capacity);

    cdicom_file *file = newFile(name, limits);
    file->headerOnly = true;
    file->scannedPixelData = scan.hasPixelData;
    file->scannedPixelDataLength = scan.pixelDataLength;
    DcmInputBufferStream stream;
    stream.setBuffer(scan.header.data(), static_cast<offile_off_t>(scan.header.size()));
    stream.setEos();
    file->format.transferInit();
    OFCondition loaded = file->format.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
    file->format.transferEnd();
    return parsed(file, loaded, out_file, error, error_capacity);
}

extern "C" void cdicom_close(cdicom_file *file) { delete file; }

extern "C" const char *cdicom_transfer_syntax_uid(const cdicom_file *file) { return file->transferSyntaxUID.c_str(); }

static DcmItem *itemHolding(const cdicom_file *file, uint16_t group) {
    auto *format = const_cast<DcmFileFormat *>(&file->format);
    if (group == 0x0002) return format->getMetaInfo();
    return format->getDataset();
}

static void indexTopLevel(cdicom_file *file) {
    DcmDataset *dataset = file->format.getDataset();
    file->topLevel.reserve(dataset->card());
    // nextInContainer continues from the list's current position, so one pass is linear.
    for (DcmObject *object = dataset->nextInContainer(nullptr); object != nullptr; object = dataset->nextInContainer(object)) {
        file->topLevel.emplace_back(tagNumber(object->getTag()), static_cast<DcmElement *>(object));
    }
    std::sort(file->topLevel.begin(), file->topLevel.end(),
              [](const std::pair<Uint32, DcmElement *> &a, const std::pair<Uint32, DcmElement *> &b) { return a.first < b.first; });
    file->topLevelIndexed = true;
}

static DcmElement *findElement(const cdicom_file *file, uint16_t group, uint16_t element, int searchNested) {
    DcmElement *found = nullptr;
    if (group != 0x0002 && !searchNested) {
        // The index holds pointers into the data set; decoding a frame, which may replace elements, drops it.
        auto *indexed = const_cast<cdicom_file *>(file);
        if (!indexed->topLevelIndexed) indexTopLevel(indexed);
        Uint32 wanted = (static_cast<Uint32>(group) << 16) | element;
        auto at = std::lower_bound(indexed->topLevel.begin(), indexed->topLevel.end(), wanted,
                                   [](const std::pair<Uint32, DcmElement *> &entry, Uint32 tag) { return entry.first < tag; });
        return at != indexed->topLevel.end() && at->first == wanted ? at->second : nullptr;
    }
    DcmItem *item = itemHolding(file, group);
    if (item->findAndGetElement(DcmTagKey(group, element), found, searchNested ? OFTrue : OFFalse).bad()) return nullptr;
    return found;
}

extern "C" long cdicom_get_string(const cdicom_file *file, uint16_t group, uint16_t element, int search_nested,
                                  char *buffer, size_t capacity) {
    if (capacity > 0) buffer[0] = '\0';
    DcmElement *found = findElement(file, group, element, search_nested);
    if (found == nullptr) return -1;
    OFString value;
    if (found->getOFStringArray(value).bad()) return -1;
    if (capacity > 0) {
        size_t copied = value.length() < capacity - 1 ? value.length() : capacity - 1;
        std::memcpy(buffer, value.c_str(), copied);
        buffer[copied] = '\0';
    }
    return static_cast<long>(value.length());
}

extern "C" int cdicom_get_number(const cdicom_file *file, uint16_t group, uint16_t element, int search_nested,
                                 unsigned long index, double *value) {
    DcmElement *found = findElement(file, group, element, search_nested);
    if (found == nullptr || index >= found->getVM()) return 0;
    OFString text;
    if (found->getOFString(text, index).bad()) return 0;
    const char *start = text.c_str();
    char *end = nullptr;
    double parsed = std::strtod(start, &end);
    if (end == start) return 0;
    *value = parsed;
    return 1;
}

static DcmPixelData *pixelDataOf(const cdicom_file *file) {
    DcmElement *element = findElement(file, 0x7FE0, 0x0010, 0);
    if (element == nullptr || element->ident() != EVR_PixelData) return nullptr;
    return static_cast<DcmPixelData *>(element);
}

// The Pixel Data length field as written, from the element or, for a header-only handle, from the scan.
static bool pixelDataLength(const cdicom_file *file, Uint32 &length) {
    if (file->headerOnly) {
        length = file->scannedPixelDataLength;
        return file->scannedPixelData;
    }
    DcmPixelData *pixels = pixelDataOf(file);
    if (pixels == nullptr) return false;
    length = pixels->getLengthField();
    return true;
}

extern "C" int cdicom_has_pixel_data(const cdicom_file *file) {
    Uint32 length = 0;
    return pixelDataLength(file, length) && length != 0 ? 1 : 0;
}

static PixelEncoding encodingOf(E_TransferSyntax syntax, const std::string &uid) {
    // JPEG 2000 (Part 1 and High-Throughput): DCMTK 3.6.7 has no decoder, OpenJPEG 2.5 has both.
    if (uid == "1.2.840.10008.1.2.4.90" || uid == "1.2.840.10008.1.2.4.91" || uid == "1.2.840.10008.1.2.4.201" ||
        uid == "1.2.840.10008.1.2.4.202" || uid == "1.2.840.10008.1.2.4.203")
        return PixelEncoding::jpeg2000;
    switch (syntax) {
    case EXS_LittleEndianImplicit:
    case EXS_LittleEndianExplicit:
    case EXS_BigEndianExplicit:
    case EXS_DeflatedLittleEndianExplicit:
        return PixelEncoding::native;
    case EXS_JPEGProcess1:
    case EXS_JPEGProcess2_4:
    case EXS_JPEGProcess14:
    case EXS_JPEGProcess14SV1:
    case EXS_JPEGLSLossless:
    case EXS_JPEGLSLossy:
        return PixelEncoding::dcmtkCodec;
    case EXS_RLELossless:
        return PixelEncoding::rle;
    default:
        return PixelEncoding::unsupported;
    }
}

static bool readUnsigned(DcmDataset *dataset, const DcmTagKey &tag, Uint32 &value) {
    Uint16 small = 0;
    if (dataset->findAndGetUint16(tag, small).good()) {
        value = small;
        return true;
    }
    return false;
}

extern "C" cdicom_status cdicom_check_pixel_data(cdicom_file *file, char *error, size_t capacity) {
    const std::string &path = file->path;
    DcmDataset *dataset = file->format.getDataset();
    Uint32 present = 0;
    if (!pixelDataLength(file, present) || present == 0)
        return cdicom_fail(path, CDICOM_NO_PIXEL_DATA, error, capacity, "no (7FE0,0010) Pixel Data");

    Uint32 rows = 0, columns = 0, samples = 1, allocated = 0, stored = 0, representation = 0, planar = 0;
    if (!readUnsigned(dataset, DCM_Rows, rows) || !readUnsigned(dataset, DCM_Columns, columns))
        return cdicom_fail(path, CDICOM_CORRUPT, error, capacity, "Rows or Columns missing");
    if (!readUnsigned(dataset, DCM_BitsAllocated, allocated))
        return cdicom_fail(path, CDICOM_CORRUPT, error, capacity, "BitsAllocated missing");
    readUnsigned(dataset, DCM_SamplesPerPixel, samples);
    if (!readUnsigned(dataset, DCM_BitsStored, stored)) stored = allocated;
    readUnsigned(dataset, DCM_PixelRepresentation, representation);
    readUnsigned(dataset, DCM_PlanarConfiguration, planar);
    Sint32 frameCount = 1;
    OFString framesText;
    if (dataset->findAndGetOFString(DCM_NumberOfFrames, framesText).good() && !framesText.empty()) {
        char *end = nullptr;
        long parsed = std::strtol(framesText.c_str(), &end, 10);
        if (end == framesText.c_str() || parsed < 1 || parsed > 0x7fffffffL)
            return cdicom_fail(path, CDICOM_CORRUPT, error, capacity, "NumberOfFrames '%s' is not a positive count", framesText.c_str());
        frameCount = static_cast<Sint32>(parsed);
    }
    Uint32 frames = static_cast<Uint32>(frameCount);
    OFString photometric;
    dataset->findAndGetOFString(DCM_PhotometricInterpretation, photometric);

    if (rows == 0 || columns == 0)
        return cdicom_fail(path, CDICOM_CORRUPT, error, capacity, "image is %ux%u", rows, columns);
    if (samples != 1 && samples != 3)
        return cdicom_fail(path, CDICOM_CORRUPT, error, capacity, "SamplesPerPixel %u (expected 1 or 3)", samples);
    if (allocated != 1 && allocated != 8 && allocated != 16 && allocated != 32)
        return cdicom_fail(path, CDICOM_CORRUPT, error, capacity, "BitsAllocated %u (expected 1, 8, 16 or 32)", allocated);
    if (stored == 0 || stored > allocated)
        return cdicom_fail(path, CDICOM_CORRUPT, error, capacity, "BitsStored %u with BitsAllocated %u", stored, allocated);

    const cdicom_limits &limits = file->limits;
    if (rows > limits.max_rows || columns > limits.max_columns)
        return cdicom_fail(path, CDICOM_LIMIT_EXCEEDED, error, capacity, "image is %ux%u, limit %ux%u", rows, columns,
                           limits.max_rows, limits.max_columns);
    if (frames > limits.max_frames)
        return cdicom_fail(path, CDICOM_LIMIT_EXCEEDED, error, capacity, "%u frames, limit %u", frames, limits.max_frames);
    unsigned __int128 decodedBytes = static_cast<unsigned __int128>(rows) * columns * samples * frames * sizeof(float);
    if (decodedBytes > limits.max_total_bytes)
        return cdicom_fail(path, CDICOM_LIMIT_EXCEEDED, error, capacity, "decoded size %llu bytes exceeds limit %llu",
                           static_cast<unsigned long long>(decodedBytes), static_cast<unsigned long long>(limits.max_total_bytes));

    PixelEncoding encoding = encodingOf(file->transferSyntax, file->transferSyntaxUID);
    if (encoding == PixelEncoding::unsupported)
        return cdicom_fail(path, CDICOM_UNSUPPORTED_TRANSFER_SYNTAX, error, capacity, "transfer syntax %s has no decoder",
                           file->transferSyntaxUID.c_str());
    if (encoding == PixelEncoding::native) {
        unsigned __int128 bits = static_cast<unsigned __int128>(rows) * columns * samples * frames * allocated;
        if (photometric == "YBR_FULL_422") bits = bits * 2 / 3;
        unsigned __int128 needed = (bits + 7) / 8;
        if (allocated == 1 && frames > 1 && (static_cast<uint64_t>(rows) * columns * samples) % 8 != 0)
            return cdicom_fail(path, CDICOM_UNSUPPORTED_TRANSFER_SYNTAX, error, capacity,
                               "multi-frame 1-bit pixel data with frames not byte aligned");
        if (present == DCM_UndefinedLength)
            return cdicom_fail(path, CDICOM_CORRUPT, error, capacity, "native pixel data with undefined length");
        if (present < needed)
            return cdicom_fail(path, CDICOM_CORRUPT, error, capacity, "pixel data has %u bytes, header claims %llu", present,
                               static_cast<unsigned long long>(needed));
    } else if (present != DCM_UndefinedLength) {
        return cdicom_fail(path, CDICOM_CORRUPT, error, capacity, "compressed transfer syntax %s but pixel data is not encapsulated",
                           file->transferSyntaxUID.c_str());
    }

    file->rows = rows;
    file->columns = columns;
    file->frames = frames;
    file->samplesPerPixel = samples;
    file->bitsAllocated = allocated;
    file->bitsStored = stored;
    file->pixelRepresentation = representation;
    file->planarConfiguration = planar;
    file->photometric = photometric.c_str();
    file->encoding = encoding;
    file->pixelDataChecked = true;
    return CDICOM_OK;
}

extern "C" int cdicom_output_channels(const cdicom_file *file) {
    return file->samplesPerPixel == 3 || (file->samplesPerPixel == 1 && file->photometric == "PALETTE COLOR") ? 3 : 1;
}
