// Finds the part of a DICOM file that a header read needs, so DCMTK parses only that.
#ifndef CDICOM_HEADER_SCAN_HPP
#define CDICOM_HEADER_SCAN_HPP

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctypes.h>

#include <cstddef>
#include <cstdint>
#include <vector>

// The bytes DCMTK must parse for a header: preamble, meta information and the public (even group)
// data set elements a header read looks at, in file order; private elements and the Pixel Data value
// are left out. DCMTK's cost is per element parsed (most of all per private tag, which it looks up in
// vain), and typical files carry hundreds of elements of which a header reads some twenty.
struct HeaderScan {
    std::vector<uint8_t> header;
    // The top-level (7FE0,0010) element, which `header` leaves out: whether there is one and its
    // length field as written (DCM_UndefinedLength for encapsulated pixel data).
    bool hasPixelData = false;
    Uint32 pixelDataLength = 0;
};

// Walks the element headers of a little-endian file with meta information (explicit or implicit
// VR). Returns false, leaving `scan` unspecified, for anything it does not walk cleanly from the meta
// information to the last byte: no meta, deflated or big-endian syntax, unknown VRs, lengths past the
// end, nesting deeper than DCMTK would sensibly read. Those files take DCMTK's full reader, which
// also decides how a broken file is reported.
//
// `wanted` holds the tags (group << 16 | element), sorted, of the top-level attributes to keep. With
// explicit VR, those and every public sequence (where a nested search looks) are kept; with implicit
// VR, where a sequence cannot be told from its bytes, every public element is.
bool scanHeader(const uint8_t *bytes, size_t size, const std::vector<Uint32> &wanted, HeaderScan &scan);

#endif
