import CDicom
import Foundation

/// A NIfTI-1 volume (.nii or .nii.gz), values after scl_slope and scl_inter, as float32.
public struct NiftiImage: Sendable {
    /// Voxels along i, j, k (x, y, z).
    public let dimensions: [Int]
    public let spacing: [Double]
    /// Voxel (i, j, k) to scanner millimetres: the sform when set, else the qform, else pixdim scaling.
    public let affine: [[Double]]
    /// Laid out as stored: i fastest, then j, then k.
    public var data: [Float]

    /// The volume as RadFM indexes nibabel's array [x, y, z]: rows along i, columns along j, depth along k.
    public func volume(source: String) -> ImageVolume {
        let nx = dimensions[0], ny = dimensions[1], nz = dimensions[2]
        let transposed = [Float](unsafeUninitializedCapacity: data.count) { out, initialized in
            data.withUnsafeBufferPointer { source in
                for z in 0..<nz {
                    let plane = source.baseAddress! + z * nx * ny
                    let target = out.baseAddress! + z * nx * ny
                    for y in 0..<ny {
                        for x in 0..<nx { target[x * ny + y] = plane[y * nx + x] }
                    }
                }
            }
            initialized = data.count
        }
        return ImageVolume(depth: nz, rows: nx, columns: ny, channels: 1, data: transposed, isVolume: nz > 1,
                           scaling: .minMax, spacing: spacing, source: source)
    }
}

public enum NiftiReader {
    public static let defaultMaxBytes = 4 << 30

    public static func read(path: String, maxBytes: Int = defaultMaxBytes) throws -> NiftiImage {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ImageFileError(kind: .notFound, path: path, message: "no such file")
        }
        var buffer: UnsafeMutablePointer<UInt8>?
        var length = 0
        var message = [CChar](repeating: 0, count: 1024)
        let status = cgzip_read_file(path, UInt64(maxBytes), &buffer, &length, &message, message.count)
        guard status == 0, let buffer else {
            let kind: ImageFileError.Kind = status == 2 ? .truncated : (status == 3 ? .limitExceeded : .io)
            throw ImageFileError(kind: kind, path: path, message: String(cString: message))
        }
        defer { cgzip_free(buffer) }
        return try parse(UnsafeRawBufferPointer(start: buffer, count: length), path: path)
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> NiftiImage {
        func fail(_ kind: ImageFileError.Kind, _ message: String) -> ImageFileError {
            ImageFileError(kind: kind, path: path, message: message)
        }
        guard bytes.count >= 348 else { throw fail(.truncated, "\(bytes.count) bytes, a NIfTI-1 header has 348") }
        let sizeField = bytes.loadUnaligned(fromByteOffset: 0, as: Int32.self)
        let swapped: Bool
        if sizeField == 348 { swapped = false } else if sizeField.byteSwapped == 348 { swapped = true } else {
            throw fail(.unsupportedFormat, "not a NIfTI-1 header (sizeof_hdr \(sizeField))")
        }
        let magic = [UInt8](bytes[344..<348])
        guard magic == Array("n+1\0".utf8) else {
            throw fail(.unsupportedFormat, magic == Array("ni1\0".utf8) ? "separate .hdr/.img pairs are not supported" : "bad NIfTI magic")
        }
        func int16(_ offset: Int) -> Int {
            let value = bytes.loadUnaligned(fromByteOffset: offset, as: Int16.self)
            return Int(swapped ? value.byteSwapped : value)
        }
        func float32(_ offset: Int) -> Double {
            let bits = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
            return Double(Float(bitPattern: swapped ? bits.byteSwapped : bits))
        }
        let rank = int16(40)
        guard (1...7).contains(rank) else { throw fail(.corrupt, "dim[0] = \(rank)") }
        var dimensions = (1...3).map { $0 <= rank ? int16(40 + 2 * $0) : 1 }
        guard dimensions.allSatisfy({ $0 >= 1 }) else { throw fail(.corrupt, "dimensions \(dimensions)") }
        // Only the first volume of a time series is read: RadFM's inputs are single 3D volumes.
        dimensions = dimensions.map { max($0, 1) }
        let voxels = dimensions.reduce(1, *)
        let datatype = int16(70)
        guard let type = NiftiDataType(rawValue: datatype) else { throw fail(.unsupportedFormat, "NIfTI datatype \(datatype)") }
        let offset = Int(float32(108))
        guard offset >= 348, offset <= bytes.count else { throw fail(.corrupt, "vox_offset \(offset)") }
        guard bytes.count - offset >= voxels * type.size else {
            throw fail(.truncated, "\(bytes.count - offset) bytes of voxels, dimensions \(dimensions) need \(voxels * type.size)")
        }
        var slope = float32(112)
        let intercept = float32(116)
        if slope == 0 || !slope.isFinite { slope = 1 }
        let spacing = (1...3).map { abs(float32(76 + 4 * $0)) }
        let data = type.convert(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + voxels * type.size)]), count: voxels,
                                swapped: swapped, slope: slope, intercept: intercept.isFinite ? intercept : 0)
        return NiftiImage(dimensions: dimensions, spacing: spacing, affine: affine(int16: int16, float32: float32, spacing: spacing),
                          data: data)
    }

    /// sform rows when sform_code > 0, else the quaternion qform when qform_code > 0, else pixdim scaling.
    private static func affine(int16: (Int) -> Int, float32: (Int) -> Double, spacing: [Double]) -> [[Double]] {
        if int16(254) > 0 { return (0..<3).map { row in (0..<4).map { float32(280 + 16 * row + 4 * $0) } } }
        if int16(252) > 0 {
            let b = float32(256), c = float32(260), d = float32(264)
            let a = sqrt(max(0, 1 - (b * b + c * c + d * d)))
            let qfac = float32(76) < 0 ? -1.0 : 1.0
            let rotation = [[a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
                            [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
                            [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b]]
            let scale = [spacing[0], spacing[1], spacing[2] * qfac]
            let offsets = [float32(268), float32(272), float32(276)]
            return (0..<3).map { row in (0..<3).map { rotation[row][$0] * scale[$0] } + [offsets[row]] }
        }
        return (0..<3).map { row in (0..<4).map { $0 == row ? spacing[row] : 0 } }
    }
}

/// NIfTI-1 voxel types (RGB types are not supported).
private enum NiftiDataType: Int {
    case uint8 = 2, int16 = 4, int32 = 8, float32 = 16, float64 = 64, int8 = 256, uint16 = 512, uint32 = 768, int64 = 1024, uint64 = 1280

    var size: Int {
        switch self {
        case .uint8, .int8: 1
        case .int16, .uint16: 2
        case .int32, .uint32, .float32: 4
        case .float64, .int64, .uint64: 8
        }
    }

    func convert(_ raw: UnsafeRawBufferPointer, count: Int, swapped: Bool, slope: Double, intercept: Double) -> [Float] {
        func map<T: FixedWidthInteger>(_: T.Type) -> [Float] {
            [Float](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count {
                    let value = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
                    out[i] = Float(Double(swapped ? value.byteSwapped : value) * slope + intercept)
                }
                initialized = count
            }
        }
        switch self {
        case .uint8: return map(UInt8.self)
        case .int8: return map(Int8.self)
        case .int16: return map(Int16.self)
        case .uint16: return map(UInt16.self)
        case .int32: return map(Int32.self)
        case .uint32: return map(UInt32.self)
        case .int64: return map(Int64.self)
        case .uint64: return map(UInt64.self)
        case .float32:
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count {
                    let bits = raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
                    out[i] = Float(Double(Float(bitPattern: swapped ? bits.byteSwapped : bits)) * slope + intercept)
                }
                initialized = count
            }
        case .float64:
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count {
                    let bits = raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                    out[i] = Float(Double(bitPattern: swapped ? bits.byteSwapped : bits) * slope + intercept)
                }
                initialized = count
            }
        }
    }
}
