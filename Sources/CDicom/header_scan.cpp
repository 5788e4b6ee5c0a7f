// A bounds-checked walk over element headers (tags and lengths only, values skipped) that cuts a
// file down to what a header read needs. See header_scan.hpp.
#include "header_scan.hpp"

#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace {

const Uint32 undefinedLength = 0xFFFFFFFFu;
// Deeper nesting than this is not a real header; DCMTK's reader gets the file instead.
const int maxDepth = 32;

struct Walker {
    const uint8_t *bytes;
    size_t size;

    uint16_t u16(size_t at) const { return static_cast<uint16_t>(bytes[at] | (bytes[at + 1] << 8)); }
    uint32_t u32(size_t at) const {
        return static_cast<uint32_t>(bytes[at]) | (static_cast<uint32_t>(bytes[at + 1]) << 8) |
               (static_cast<uint32_t>(bytes[at + 2]) << 16) | (static_cast<uint32_t>(bytes[at + 3]) << 24);
    }
    bool has(size_t at, size_t count) const { return at <= size && count <= size - at; }

    // One element's header: where its value starts, its length field and, with explicit VR, its VR.
    struct Element {
        uint16_t group = 0, element = 0;
        char vr[2] = {0, 0};
        size_t valueAt = 0;
        Uint32 length = 0;
    };

    static bool hasLongLength(const char *vr) {
        static const char *const longForms[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
        for (const char *form : longForms)
            if (vr[0] == form[0] && vr[1] == form[1]) return true;
        return false;
    }
    static bool hasShortLength(const char *vr) {
        static const char *const shortForms[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS",
                                                 "LO", "LT", "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"};
        for (const char *form : shortForms)
            if (vr[0] == form[0] && vr[1] == form[1]) return true;
        return false;
    }
    static bool isVR(const Element &element, const char *vr) { return element.vr[0] == vr[0] && element.vr[1] == vr[1]; }

    bool readElement(size_t at, bool explicitVR, Element &out) const {
        if (!has(at, 8)) return false;
        out.group = u16(at);
        out.element = u16(at + 2);
        if (out.group == 0xFFFE || !explicitVR) {
            // Items and delimiters have no VR in either encoding.
            out.vr[0] = out.vr[1] = 0;
            out.length = u32(at + 4);
            out.valueAt = at + 8;
            return true;
        }
        out.vr[0] = static_cast<char>(bytes[at + 4]);
        out.vr[1] = static_cast<char>(bytes[at + 5]);
        if (hasLongLength(out.vr)) {
            if (!has(at, 12)) return false;
            out.length = u32(at + 8);
            out.valueAt = at + 12;
            return true;
        }
        if (!hasShortLength(out.vr)) return false;
        out.length = u16(at + 6);
        out.valueAt = at + 8;
        return true;
    }

    // The end of a defined-length value, or 0 when it runs past the end of the file.
    size_t valueEnd(const Element &element) const {
        return has(element.valueAt, element.length) ? element.valueAt + element.length : 0;
    }

    // Skips the items of an undefined-length sequence that starts at `at`; returns the offset after its
    // delimiter, or 0.
    size_t skipSequence(size_t at, bool explicitVR, int depth) const {
        if (depth > maxDepth) return 0;
        while (true) {
            Element item;
            if (!readElement(at, false, item) || item.group != 0xFFFE) return 0;
            if (item.element == 0xE0DD) return item.valueAt;
            if (item.element != 0xE000) return 0;
            if (item.length == undefinedLength) {
                at = skipItemContent(item.valueAt, explicitVR, depth + 1);
            } else {
                at = valueEnd(item);
            }
            if (at == 0) return 0;
        }
    }

    // Skips the elements of an undefined-length item up to and including its delimiter.
    size_t skipItemContent(size_t at, bool explicitVR, int depth) const {
        while (true) {
            Element element;
            if (!readElement(at, explicitVR, element)) return 0;
            if (element.group == 0xFFFE) return element.element == 0xE00D ? element.valueAt : 0;
            at = skipElement(element, explicitVR, depth);
            if (at == 0) return 0;
        }
    }

    // The offset after a data element (not an item), or 0.
    size_t skipElement(const Element &element, bool explicitVR, int depth) const {
        if (element.length != undefinedLength) return valueEnd(element);
        // Undefined length is a sequence, except that VR UN holds implicit VR content (PS3.5 6.2.2).
        if (!explicitVR) return skipSequence(element.valueAt, false, depth);
        if (isVR(element, "SQ")) return skipSequence(element.valueAt, true, depth);
        if (isVR(element, "UN")) return skipSequence(element.valueAt, false, depth);
        return 0;
    }

    // Encapsulated pixel data: defined-length fragments up to the sequence delimiter.
    size_t skipFragments(size_t at) const {
        while (true) {
            Element item;
            if (!readElement(at, false, item) || item.group != 0xFFFE) return 0;
            if (item.element == 0xE0DD) return item.valueAt;
            if (item.element != 0xE000 || item.length == undefinedLength) return 0;
            at = valueEnd(item);
            if (at == 0) return 0;
        }
    }
};

bool keeps(const Walker::Element &element, bool explicitVR, const std::vector<Uint32> &wanted) {
    if (!explicitVR || element.length == undefinedLength || Walker::isVR(element, "SQ") || Walker::isVR(element, "UN")) return true;
    Uint32 tag = (static_cast<Uint32>(element.group) << 16) | element.element;
    return std::binary_search(wanted.begin(), wanted.end(), tag);
}

std::string trimmedUID(const uint8_t *value, size_t length) {
    std::string uid(reinterpret_cast<const char *>(value), length);
    while (!uid.empty() && (uid.back() == '\0' || uid.back() == ' ')) uid.pop_back();
    return uid;
}

}  // namespace

bool scanHeader(const uint8_t *bytes, size_t size, const std::vector<Uint32> &wanted, HeaderScan &scan) {
    Walker walker{bytes, size};
    if (size < 132 || std::memcmp(bytes + 128, "DICM", 4) != 0) return false;

    // Meta information: explicit VR little endian, group 0002, ending where the group length says.
    size_t at = 132;
    size_t metaEnd = 0;
    std::string syntaxUID;
    while (walker.has(at, 2) && walker.u16(at) == 0x0002) {
        Walker::Element element;
        if (!walker.readElement(at, true, element) || element.length == undefinedLength) return false;
        size_t end = walker.valueEnd(element);
        if (end == 0) return false;
        if (element.element == 0x0000 && element.length == 4) metaEnd = end + walker.u32(element.valueAt);
        if (element.element == 0x0010) syntaxUID = trimmedUID(bytes + element.valueAt, element.length);
        at = end;
    }
    if (metaEnd != 0 && metaEnd != at) return false;
    const size_t datasetStart = at;

    DcmXfer syntax(syntaxUID.c_str());
    if (syntax.getXfer() == EXS_Unknown || !syntax.isLittleEndian() || syntax.getStreamCompression() != ESC_none) return false;
    const bool explicitVR = syntax.isExplicitVR();

    scan.header.clear();
    scan.header.reserve(datasetStart + 4096);
    scan.header.insert(scan.header.end(), bytes, bytes + datasetStart);
    scan.hasPixelData = false;
    scan.pixelDataLength = 0;
    size_t keptElements = 0;
    while (at < size) {
        Walker::Element element;
        if (!walker.readElement(at, explicitVR, element) || element.group == 0xFFFE) return false;
        size_t end;
        bool isPixelData = element.group == 0x7FE0 && element.element == 0x0010;
        if (isPixelData) {
            if (explicitVR && !Walker::isVR(element, "OB") && !Walker::isVR(element, "OW")) return false;
            if (element.length == undefinedLength) {
                if (!explicitVR) return false;
                end = walker.skipFragments(element.valueAt);
            } else {
                end = walker.valueEnd(element);
            }
            scan.hasPixelData = true;
            scan.pixelDataLength = element.length;
        } else {
            end = walker.skipElement(element, explicitVR, 0);
        }
        if (end == 0) return false;
        if (!isPixelData && element.group % 2 == 0 && keeps(element, explicitVR, wanted)) {
            scan.header.insert(scan.header.end(), bytes + at, bytes + end);
            keptElements += 1;
        }
        at = end;
    }
    // DCMTK tells the data set's encoding from its elements; with none left it would not know it.
    return keptElements > 0;
}
