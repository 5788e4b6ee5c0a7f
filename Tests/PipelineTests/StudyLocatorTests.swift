import Foundation
import Pipeline
import XCTest

final class StudyLocatorTests: XCTestCase {
    var root: URL!
    var outside: URL!

    override func setUpWithError() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("locator-\(UUID().uuidString)")
        root = base.appendingPathComponent("root")
        outside = base.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("a"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: root.appendingPathComponent("a/IM1.dcm"))
        try Data("secret".utf8).write(to: outside.appendingPathComponent("secret.dcm"))
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("link"), withDestinationURL: outside)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("inside-link"), withDestinationURL: root.appendingPathComponent("a"))
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: root.deletingLastPathComponent())
    }

    func kind(_ path: String, root name: String = "archive") -> StorageError.Kind? {
        do { _ = try StudyLocator(roots: ["archive": root.path]).resolve(root: name, path: path); return nil } catch {
            return (error as? StorageError)?.kind
        }
    }

    func testFileInsideTheRootResolves() throws {
        let path = try StudyLocator(roots: ["archive": root.path]).resolve(root: "archive", path: "a/IM1.dcm")
        XCTAssertTrue(path.hasSuffix("/root/a/IM1.dcm"))
        XCTAssertNil(kind("inside-link/IM1.dcm"), "a link that stays inside the root is fine")
    }

    func testLinkLeavingTheRootIsRejected() {
        XCTAssertEqual(kind("link/secret.dcm"), .escapesRoot)
    }

    func testAbsoluteAndDotDotPathsAreRejectedBeforeTouchingTheDisk() {
        XCTAssertEqual(kind("/etc/passwd"), .unsafePath)
        XCTAssertEqual(kind("a/../../outside/secret.dcm"), .unsafePath)
    }

    func testMissingFilesDirectoriesAndUnknownRootsAreTyped() {
        XCTAssertEqual(kind("a/IM2.dcm"), .missingFile)
        XCTAssertEqual(kind("a"), .notAFile)
        XCTAssertEqual(kind("a/IM1.dcm", root: "pacs"), .unknownRoot)
    }
}
