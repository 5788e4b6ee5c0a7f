/// Readers whose tensors are views into mapped files. Conversion copies from these directly, keeping each
/// tensor's dtype, instead of going through float32.
protocol StoredTensorSource: CheckpointReader {
    func stored(_ key: String) throws -> StoredTensor
    /// Drops the already-copied pages of a tensor from memory (they stay in the page cache if there is room).
    func releasePages(of key: String)
}

extension TorchCheckpointReader: StoredTensorSource {}
extension SafetensorsReader: StoredTensorSource {}
extension ShardedSafetensorsReader: StoredTensorSource {}
