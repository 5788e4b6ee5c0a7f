import Tensor

/// RadFM's learned 3D position embedding (`pos_embedding.{row,col,dep}_embed`): three tables of width
/// dim/3, each sampled with stride so a smaller grid spreads over the whole table:
/// index_i = (i + 1) * (N / n) - 1 for n patches along an axis whose table has N rows.
struct PositionEmbedding3D {
    let rows: Tensor
    let columns: Tensor
    let depths: Tensor
    let width: Int

    init(_ registry: ParameterRegistry, config: RadFMConfig.Vision) {
        let scope = registry.scope("pos_embedding")
        width = config.dim / 3
        rows = scope.tensor("row_embed.weight", shape: [config.spatialPositions, width])
        columns = scope.tensor("col_embed.weight", shape: [config.spatialPositions, width])
        depths = scope.tensor("dep_embed.weight", shape: [config.depthPositions, width])
    }

    static func tableIndex(_ i: Int, patches: Int, tableSize: Int) -> Int { (i + 1) * (tableSize / patches) - 1 }

    /// Adds the embedding of each token's (h, w, d) cell to `tokens` [h*w*d, 3*width].
    func add(to tokens: Tensor, grid: (h: Int, w: Int, d: Int)) {
        let width = self.width
        let (rowTable, columnTable, depthTable) = (rows.data, columns.data, depths.data)
        let (rowCount, columnCount, depthCount) = (rows.shape[0], columns.shape[0], depths.shape[0])
        Parallel.forEach(tokens.rows) { token in
            let hi = token / (grid.w * grid.d), wi = (token / grid.d) % grid.w, di = token % grid.d
            let out = tokens.row(token)
            VectorMath.addScaled(rowTable + Self.tableIndex(hi, patches: grid.h, tableSize: rowCount) * width,
                                 1, into: out, width)
            VectorMath.addScaled(columnTable + Self.tableIndex(wi, patches: grid.w, tableSize: columnCount) * width,
                                 1, into: out + width, width)
            VectorMath.addScaled(depthTable + Self.tableIndex(di, patches: grid.d, tableSize: depthCount) * width,
                                 1, into: out + 2 * width, width)
        }
    }
}
