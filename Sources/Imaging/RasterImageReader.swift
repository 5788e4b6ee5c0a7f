import CDicom
import Foundation

/// PNG and JPEG pictures (8-bit), as RadFM's PIL loading sees them.
public enum RasterImageReader {
    public static let defaultMaxPixels = 1 << 28

    public static func read(path: String, maxPixels: Int = defaultMaxPixels) throws -> ImageVolume {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ImageFileError(kind: .notFound, path: path, message: "no such file")
        }
        var image = craster_image()
        var message = [CChar](repeating: 0, count: 1024)
        let lower = path.lowercased()
        let status = lower.hasSuffix(".png")
            ? craster_read_png(path, UInt64(maxPixels), &image, &message, message.count)
            : craster_read_jpeg(path, UInt64(maxPixels), &image, &message, message.count)
        guard status == CRASTER_OK else {
            let kind: ImageFileError.Kind = status == CRASTER_LIMIT_EXCEEDED ? .limitExceeded : (status == CRASTER_IO ? .io : .corrupt)
            let text = String(cString: message)
            throw ImageFileError(kind: kind, path: path, message: text.hasPrefix(path + ": ") ? String(text.dropFirst(path.count + 2)) : text)
        }
        defer { craster_free(&image) }
        let count = Int(image.width) * Int(image.height) * Int(image.channels)
        let data = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            for i in 0..<count { out[i] = Float(image.pixels[i]) }
            initialized = count
        }
        return ImageVolume(depth: 1, rows: Int(image.height), columns: Int(image.width), channels: Int(image.channels), data: data,
                           isVolume: false, scaling: .divideBy(255), spacing: nil, source: path)
    }
}
