import Tensor

/// ViT patch embedding: cut the [C, H, W, D] image into patch x patch x framePatch blocks, flatten each in
/// (p1 p2 pf c) order, then LayerNorm -> Linear -> LayerNorm (`to_patch_embedding.1/.2/.3`).
struct PatchEmbedding {
    let config: RadFMConfig.Vision
    let inputNorm: LayerNorm
    let projection: Linear
    let outputNorm: LayerNorm

    init(_ registry: ParameterRegistry, config: RadFMConfig.Vision) {
        self.config = config
        let scope = registry.scope("to_patch_embedding")
        inputNorm = LayerNorm(scope, "1", dim: config.patchDim)
        projection = Linear(scope, "2", in: config.patchDim, out: config.dim, bias: true)
        outputNorm = LayerNorm(scope, "3", dim: config.dim)
    }

    /// Patch grid (h, w, d) of an image, after checking it tiles exactly and fits the position tables.
    func grid(of image: Tensor, index: Int) throws -> (h: Int, w: Int, d: Int) {
        let shape = image.shape
        guard shape.count == 4, shape[0] == config.channels else {
            throw RadFMModelError.imageShape(image: index, shape: shape, reason: "expected [\(config.channels), H, W, D]")
        }
        let (p, pf) = (config.patchSize, config.framePatchSize)
        guard shape[1] % p == 0, shape[2] % p == 0, shape[3] % pf == 0, shape[1] > 0, shape[2] > 0, shape[3] > 0 else {
            throw RadFMModelError.imageShape(
                image: index, shape: shape,
                reason: "H and W must be multiples of \(p) and D a multiple of \(pf)")
        }
        let grid = (h: shape[1] / p, w: shape[2] / p, d: shape[3] / pf)
        guard grid.h <= config.spatialPositions, grid.w <= config.spatialPositions,
              grid.d <= config.depthPositions
        else {
            throw RadFMModelError.imageShape(
                image: index, shape: shape,
                reason: "larger than the position tables (\(config.imageSize)x\(config.imageSize)x\(config.frames))")
        }
        return grid
    }

    /// Token embeddings [h*w*d, dim], tokens in (h w d) order.
    func callAsFunction(_ image: Tensor, grid: (h: Int, w: Int, d: Int)) -> Tensor {
        let patches = Tensor(zeros: [grid.h * grid.w * grid.d, config.patchDim])
        let (p, pf, channels) = (config.patchSize, config.framePatchSize, config.channels)
        let (height, width, depth) = (image.shape[1], image.shape[2], image.shape[3])
        let source = image.data, destination = patches.data, patchDim = config.patchDim
        Parallel.forEach(patches.rows) { token in
            let hi = token / (grid.w * grid.d), wi = (token / grid.d) % grid.w, di = token % grid.d
            var out = destination + token * patchDim
            for a in 0..<p {
                for b in 0..<p {
                    let column = ((hi * p + a) * width + wi * p + b) * depth + di * pf
                    for e in 0..<pf {
                        for c in 0..<channels {
                            out.pointee = source[c * height * width * depth + column + e]
                            out += 1
                        }
                    }
                }
            }
        }
        inputNorm(patches.data, rows: patches.rows, into: patches.data)
        let embedded = projection(patches)
        outputNorm(embedded.data, rows: embedded.rows, into: embedded.data)
        return embedded
    }
}
