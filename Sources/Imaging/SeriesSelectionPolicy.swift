/// Which images of a study feed the model.
public struct SeriesSelectionPolicy: Sendable {
    /// At most this many images (the model's image limit).
    public var maxImages: Int
    /// Only these modalities, when set.
    public var modalities: Set<String>?

    public init(maxImages: Int, modalities: Set<String>? = nil) {
        self.maxImages = maxImages
        self.modalities = modalities
    }

    /// Every image, up to `maxImages`, largest (most voxels) first; ties keep the series UID order.
    public func select(_ stacks: [DicomImageStack]) -> [DicomImageStack] {
        let eligible = stacks.enumerated().filter { modalities?.contains($0.element.modality.uppercased()) ?? true }
        let ordered = eligible.sorted {
            $0.element.voxelCount != $1.element.voxelCount ? $0.element.voxelCount > $1.element.voxelCount : $0.offset < $1.offset
        }
        return ordered.prefix(max(0, maxImages)).map(\.element)
    }
}
