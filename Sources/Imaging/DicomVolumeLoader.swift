import Foundation

/// Decodes the instances of a stack into one ImageVolume, slices in parallel.
public enum DicomVolumeLoader {
    public static func load(_ stack: DicomImageStack, limits: DicomLimits = .default) throws -> ImageVolume {
        let rows = stack.rows, columns = stack.columns, channels = stack.channels, depth = stack.depth
        let sliceCount = rows * columns * channels
        let total = sliceCount * depth
        guard total * MemoryLayout<Float>.size <= limits.maxTotalBytes else {
            throw DicomError(kind: .limitExceeded, path: stack.instances[0].path,
                             message: "series \(stack.seriesInstanceUID) decodes to \(total * 4) bytes, limit \(limits.maxTotalBytes)")
        }
        var data: [Float]
        if stack.instances.count == 1 {
            data = try DicomReader.decode(path: stack.instances[0].path, limits: limits).data
        } else {
            var failures = [DicomError?](repeating: nil, count: depth)
            data = [Float](unsafeUninitializedCapacity: total) { buffer, initialized in
                let base = buffer.baseAddress!
                failures.withUnsafeMutableBufferPointer { failureSlots in
                    let failureBase = failureSlots.baseAddress!
                    DispatchQueue.concurrentPerform(iterations: depth) { slice in
                        let instance = stack.instances[slice]
                        do {
                            let pixels = try DicomReader.decode(path: instance.path, limits: limits)
                            guard pixels.data.count == sliceCount else {
                                throw DicomError(kind: .corrupt, path: instance.path,
                                                 message: "decodes to \(pixels.data.count) values, series slices hold \(sliceCount)")
                            }
                            pixels.data.withUnsafeBufferPointer { source in
                                (base + slice * sliceCount).update(from: source.baseAddress!, count: sliceCount)
                            }
                        } catch let error as DicomError {
                            failureBase[slice] = error
                            (base + slice * sliceCount).update(repeating: 0, count: sliceCount)
                        } catch {
                            failureBase[slice] = DicomError(kind: .io, path: instance.path, message: "\(error)")
                            (base + slice * sliceCount).update(repeating: 0, count: sliceCount)
                        }
                    }
                }
                initialized = total
            }
            if let failure = failures.compactMap({ $0 }).first { throw failure }
        }
        if stack.instances[0].photometricInterpretation == "MONOCHROME1" { invert(&data) }
        return ImageVolume(depth: depth, rows: rows, columns: columns, channels: channels, data: data, isVolume: depth > 1,
                           scaling: .minMax, spacing: stack.spacing,
                           source: stack.instances.count == 1 ? stack.instances[0].path : "series \(stack.seriesInstanceUID)")
    }

    /// MONOCHROME1 shows low values bright: mirror within the value range so min-max scaling yields 1 - x.
    static func invert(_ data: inout [Float]) {
        data.withUnsafeMutableBufferPointer { values in
            guard let range = ValueRange(values) else { return }
            let sum = range.minimum + range.maximum
            for index in values.indices { values[index] = sum - values[index] }
        }
    }
}
