import Foundation
import XCTest

/// pydicom's CT_small.dcm (a real 128x128 CT slice), located through the system Python, with the
/// study and series UIDs its header carries.
enum SampleDicom {
    struct File {
        let path: String
        let studyUID: String
        let seriesUID: String
    }

    static func ctSmall() throws -> File {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import pydicom
            from pydicom.data import get_testdata_file
            path = get_testdata_file("CT_small.dcm")
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            print(path); print(ds.StudyInstanceUID); print(ds.SeriesInstanceUID)
            """]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw XCTSkip("python3 is needed for pydicom's sample files: \(error)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        guard process.terminationStatus == 0, lines.count == 3 else {
            throw XCTSkip("pydicom with its test files is needed (pip install pydicom)")
        }
        return File(path: lines[0], studyUID: lines[1], seriesUID: lines[2])
    }
}
