import XCTest
@testable import Tensor

final class OpenBLASRuntimeTests: XCTestCase {
    func testAVX512CpuGetsSkylakeXKernel() {
        XCTAssertEqual(OpenBLASRuntime.preferredCore(flags: ["avx2", "avx512f", "avx512vl", "avx512bw", "avx512dq"]),
                       "SkylakeX")
    }

    func testPartialAVX512FallsBackToHaswell() {
        XCTAssertEqual(OpenBLASRuntime.preferredCore(flags: ["avx2", "avx512f"]), "Haswell")
    }

    func testCpuWithoutAVX2IsLeftToOpenBLAS() {
        XCTAssertNil(OpenBLASRuntime.preferredCore(flags: ["sse4_2", "avx"]))
    }

    func testPrescottIsNotAcceptedWhereSkylakeXRuns() {
        XCTAssertFalse(OpenBLASRuntime.acceptable(current: "Prescott", wanted: "SkylakeX"))
        XCTAssertTrue(OpenBLASRuntime.acceptable(current: "Cooperlake", wanted: "SkylakeX"))
        XCTAssertTrue(OpenBLASRuntime.acceptable(current: "SkylakeX", wanted: "Haswell"))
    }

    func testCoreNameIsReported() {
        XCTAssertFalse(OpenBLASRuntime.coreName.isEmpty)
        XCTAssertNotEqual(OpenBLASRuntime.coreName, "unknown")
    }
}
