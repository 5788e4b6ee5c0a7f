/// Where one tensor's elements lie in mapped memory: a storage, an element offset into it and per-dimension
/// strides in elements, as torch describes views. Safetensors tensors are the contiguous special case.
struct StoredTensor {
    let dtype: TensorDType
    let shape: [Int]
    let strides: [Int]
    let offset: Int
    /// The bytes of the whole storage the tensor views (several tensors may share one).
    let storage: UnsafeRawBufferPointer

    var elementCount: Int { shape.reduce(1, *) }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in shape.indices.reversed() {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// The number of elements of `shape`, or nil when a dimension is negative or the product overflows (only
    /// a corrupt file gets there, and it must fail with an error rather than trap).
    static func checkedElementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    static func checkedByteCount(_ shape: [Int], _ dtype: TensorDType) -> Int? {
        guard let count = checkedElementCount(shape) else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        return overflow ? nil : bytes
    }

    /// Whether every element the view can reach lies inside its storage; checked once when the checkpoint is
    /// opened so that reads never run off a storage, and written to survive absurd values from corrupt files.
    func fitsStorage() -> Bool {
        guard shape.count == strides.count, offset >= 0, strides.allSatisfy({ $0 >= 0 }),
            let count = Self.checkedElementCount(shape)
        else { return false }
        let storageElements = storage.count / dtype.byteSize
        if count == 0 { return offset <= storageElements }
        var last = offset
        for axis in shape.indices {
            let (reach, overflow) = (shape[axis] - 1).multipliedReportingOverflow(by: strides[axis])
            guard !overflow else { return false }
            let (sum, sumOverflow) = last.addingReportingOverflow(reach)
            guard !sumOverflow else { return false }
            last = sum
        }
        return last < storageElements
    }

    /// Calls `body(sourceElement, destinationElement, count, sourceStride)` for each run along the innermost
    /// axis, walking the outer axes like an odometer. Rows are long for the weights of a model, so the per-row
    /// call is negligible next to the element loop inside it.
    private func forEachRow(_ body: (Int, Int, Int, Int) -> Void) {
        guard elementCount > 0 else { return }
        guard let lastAxis = shape.indices.last else {
            body(offset, 0, 1, 1)
            return
        }
        let rowLength = shape[lastAxis]
        let rowStride = strides[lastAxis]
        let outerAxes = lastAxis
        var index = [Int](repeating: 0, count: outerAxes)
        var source = offset
        var destination = 0
        while true {
            body(source, destination, rowLength, rowStride)
            destination += rowLength
            var axis = outerAxes - 1
            while axis >= 0 {
                index[axis] += 1
                source += strides[axis]
                if index[axis] < shape[axis] { break }
                source -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }

    /// Copies the view to contiguous row-major float32. `destination` holds exactly `elementCount` floats.
    func copyAsFloat(into destination: UnsafeMutablePointer<Float>) {
        let base = storage.baseAddress!
        switch dtype {
        case .float32:
            forEachRow { source, target, count, stride in
                if stride == 1 {
                    (destination + target).withMemoryRebound(to: UInt8.self, capacity: count * 4) {
                        $0.update(from: (base + source * 4).assumingMemoryBound(to: UInt8.self), count: count * 4)
                    }
                } else {
                    for i in 0..<count {
                        destination[target + i] = base.loadUnaligned(
                            fromByteOffset: (source + i * stride) * 4, as: Float.self)
                    }
                }
            }
        case .float16:
            HalfPrecision.table.withUnsafeBufferPointer { table in
                forEachRow { source, target, count, stride in
                    for i in 0..<count {
                        let bits = base.loadUnaligned(fromByteOffset: (source + i * stride) * 2, as: UInt16.self)
                        destination[target + i] = table[Int(UInt16(littleEndian: bits))]
                    }
                }
            }
        case .bfloat16:
            forEachRow { source, target, count, stride in
                for i in 0..<count {
                    let bits = base.loadUnaligned(fromByteOffset: (source + i * stride) * 2, as: UInt16.self)
                    // bfloat16 is the top half of a float32: widen by shifting the bits into place.
                    destination[target + i] = Float(bitPattern: UInt32(UInt16(littleEndian: bits)) << 16)
                }
            }
        case .float64:
            forEachRow { source, target, count, stride in
                for i in 0..<count {
                    destination[target + i] = Float(
                        base.loadUnaligned(fromByteOffset: (source + i * stride) * 8, as: Double.self))
                }
            }
        default:
            preconditionFailure("copyAsFloat called for \(dtype); callers check isFloatingPoint first")
        }
    }

    /// Copies the view's raw elements, in its own element type, to contiguous row-major order. Used by
    /// conversion, which keeps every tensor's dtype.
    func copyRaw(into destination: UnsafeMutableRawPointer) {
        switch dtype.byteSize {
        case 8: copyRaw(into: destination, as: UInt64.self)
        case 4: copyRaw(into: destination, as: UInt32.self)
        case 2: copyRaw(into: destination, as: UInt16.self)
        default: copyRaw(into: destination, as: UInt8.self)
        }
    }

    /// Strided rows move element by element as integers of the element's width, not byte by byte.
    private func copyRaw<Element: FixedWidthInteger>(into destination: UnsafeMutableRawPointer, as: Element.Type) {
        let base = storage.baseAddress!
        let size = MemoryLayout<Element>.size
        forEachRow { source, target, count, stride in
            if stride == 1 {
                (destination + target * size).copyMemory(from: base + source * size, byteCount: count * size)
            } else {
                for i in 0..<count {
                    (destination + (target + i) * size).storeBytes(
                        of: base.loadUnaligned(fromByteOffset: (source + i * stride) * size, as: Element.self),
                        as: Element.self)
                }
            }
        }
    }
}

extension StoredTensor {
    /// The checks every reader makes before converting a tensor into a caller's float32 buffer.
    func readFloat(into destination: UnsafeMutableBufferPointer<Float>, key: String, file: String) throws {
        guard dtype.isFloatingPoint else {
            throw CheckpointError(
                .unsupported, file: file, key: key,
                detail: "element type \(dtype.rawValue) cannot be read as float32")
        }
        guard destination.count == elementCount else {
            throw CheckpointError.shapeMismatch(key, file: file, expected: [destination.count], actual: shape)
        }
        guard let base = destination.baseAddress else { return }
        copyAsFloat(into: base)
    }
}

/// float16 -> float32 by lookup: all 65,536 values fit in 256 KB, and a load beats the software conversion
/// Swift falls back to on x86-64 CPUs without F16C-enabled builds, over billions of weights.
enum HalfPrecision {
    static let table: [Float] = (0...UInt16.max).map { Float(Float16(bitPattern: $0)) }
}
