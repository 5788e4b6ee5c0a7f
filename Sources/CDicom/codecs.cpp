// One-time process setup: DCMTK's decoder registry is global and must not be registered twice.
#include "dicom_file.hpp"

#include <dcmtk/dcmdata/dcvr.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cstdio>
#include <mutex>

static std::once_flag initializeFlag;

void cdicom_initialize_once() {
    std::call_once(initializeFlag, [] {
        // Parsing problems are reported through cdicom_status; DCMTK's own console warnings would leak
        // tag values of odd files into service logs.
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        // Attributes some archives write with VR UN are read with their dictionary VR, as pydicom does.
        dcmEnableUnknownVRConversion.set(OFTrue);
        // YBR stays YBR out of the JPEG decoder and is converted with the same arithmetic as native YBR,
        // so lossy colour differs from other decoders only by the IDCT.
        DJDecoderRegistration::registerCodecs(EDC_never);
        DJLSDecoderRegistration::registerCodecs();
    });
}

extern "C" void cdicom_register_codecs(void) { cdicom_initialize_once(); }

cdicom_status cdicom_fail(const std::string &path, cdicom_status status, char *error, size_t capacity,
                          const char *format, ...) {
    if (error == nullptr || capacity == 0) return status;
    int used = std::snprintf(error, capacity, "%s: ", path.c_str());
    if (used < 0 || static_cast<size_t>(used) >= capacity) return status;
    va_list arguments;
    va_start(arguments, format);
    std::vsnprintf(error + used, capacity - static_cast<size_t>(used), format, arguments);
    va_end(arguments);
    return status;
}
