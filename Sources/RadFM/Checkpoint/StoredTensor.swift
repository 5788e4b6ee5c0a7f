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

    /// Whether every element the view can reach lies inside its storage; checked once when the checkpoint is
    /// opened so that reads never run off a storage.
    func fitsStorage() -> Bool {
        guard shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), offset >= 0 else { return false }
        let storageElements = storage.count / dtype.byteSize
        if elementCount == 0 { return offset <= storageElements }
        var last = offset
        for axis in shape.indices { last += (shape[axis] - 1) * strides[axis] }
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
            forEachRow { source, target, count, stride in
                for i in 0..<count {
                    let bits = base.loadUnaligned(fromByteOffset: (source + i * stride) * 2, as: UInt16.self)
                    destination[target + i] = Float(Float16(bitPattern: UInt16(littleEndian: bits)))
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
        let base = storage.baseAddress!
        let size = dtype.byteSize
        forEachRow { source, target, count, stride in
            if stride == 1 {
                (destination + target * size).copyMemory(from: base + source * size, byteCount: count * size)
            } else {
                for i in 0..<count {
                    (destination + (target + i) * size).copyMemory(
                        from: base + (source + i * stride) * size, byteCount: size)
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
