import Glibc
import Tensor
import XCTest

/// Large weight tensors are anonymous mappings (zero until written, huge-page aligned), and writers can give
/// a stored tensor's pages back.
final class TensorStorageTests: XCTestCase {
    func testHugePageTensorsStartZeroedOnAHugePageBoundaryAndHoldWrites() {
        let tensor = Tensor(zeros: [1_000, 1_500], hugePages: true)
        XCTAssertEqual(Int(bitPattern: tensor.data) % (2 << 20), 0)
        XCTAssertTrue(tensor.buffer.allSatisfy { $0 == 0 })
        for i in stride(from: 0, to: tensor.count, by: 997) { tensor.data[i] = Float(i) }
        for i in stride(from: 0, to: tensor.count, by: 997) { XCTAssertEqual(tensor.data[i], Float(i)) }
        XCTAssertEqual(tensor.data[tensor.count - 1], 0)
    }

    func testReleasedPagesReadAsZerosAndPartialPagesAtTheEndsKeepTheirValues() {
        let pageBytes = Int(sysconf(Int32(_SC_PAGESIZE))), page = pageBytes / MemoryLayout<Float>.stride
        // A mapped tensor starts on a page boundary; an allocated one need not.
        for tensor in [Tensor(zeros: [1_500_000], hugePages: true), Tensor(zeros: [40 * page])] {
            tensor.buffer.update(repeating: 1)
            let start = 3 * page + 5, count = 20 * page
            tensor.releasePages(from: tensor.data + start, count: count)
            // Whole pages from the first page boundary at or after `start` to the last one at or before its end.
            let base = Int(bitPattern: tensor.data)
            func index(_ address: Int) -> Int { (address - base) / MemoryLayout<Float>.stride }
            let firstReleased = index((base + start * 4 + pageBytes - 1) / pageBytes * pageBytes)
            let endReleased = index((base + (start + count) * 4) / pageBytes * pageBytes)
            XCTAssertGreaterThan(endReleased - firstReleased, 15 * page)
            for i in 0..<tensor.count {
                let expected: Float = i >= firstReleased && i < endReleased ? 0 : 1
                if tensor.data[i] != expected {
                    XCTFail("element \(i) is \(tensor.data[i]), expected \(expected)")
                    break
                }
            }
        }
    }
}
