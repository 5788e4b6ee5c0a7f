/// Source indices for nearest-neighbour resizing, computed as PyTorch's F.interpolate(mode="nearest")
/// does (float32 scale in/out, floor, clamp), so volumes match RadFM's resizing voxel for voxel.
enum NearestIndex {
    static func table(inputSize: Int, outputSize: Int) -> [Int] {
        if inputSize == outputSize { return Array(0..<outputSize) }
        if outputSize == 2 * inputSize { return (0..<outputSize).map { $0 >> 1 } }
        let scale = Float(inputSize) / Float(outputSize)
        return (0..<outputSize).map { min(Int((Float($0) * scale).rounded(.down)), inputSize - 1) }
    }
}
