import Tensor

/// The ViT's input side: cutting a [C, H, W, D] image into patch rows, and the strided learned 3D position
/// embedding added to the patch embeddings (`pos_embedding.{row,col,dep}_embed`).
public struct PatchGrid: Equatable, Sendable {
    public var h: Int
    public var w: Int
    public var d: Int

    public init(h: Int, w: Int, d: Int) {
        self.h = h; self.w = w; self.d = d
    }

    public var tokens: Int { h * w * d }
}

public enum PatchifyOp {
    /// Rows [h*w*d, p*p*pf*C] in (h w d) token order, each flattened (p1 p2 pf c) as RadFM's Rearrange.
    /// Images are inputs, never trained, so this permutation has no backward.
    public static func forward(
        _ image: UnsafePointer<Float>, channels: Int, height: Int, width: Int, depth: Int, patch: Int,
        framePatch: Int, into patches: UnsafeMutablePointer<Float>
    ) {
        let grid = PatchGrid(h: height / patch, w: width / patch, d: depth / framePatch)
        let patchDim = patch * patch * framePatch * channels
        Parallel.forEach(grid.tokens) { token in
            let hi = token / (grid.w * grid.d), wi = (token / grid.d) % grid.w, di = token % grid.d
            var out = patches + token * patchDim
            for a in 0..<patch {
                for b in 0..<patch {
                    let column = ((hi * patch + a) * width + wi * patch + b) * depth + di * framePatch
                    for e in 0..<framePatch {
                        for c in 0..<channels {
                            out.pointee = image[c * height * width * depth + column + e]
                            out += 1
                        }
                    }
                }
            }
        }
    }
}

/// Table row for patch i of n along an axis whose table has N rows: (i + 1) * (N / n) - 1.
public enum PositionEmbeddingOp {
    public static func tableIndex(_ i: Int, patches: Int, tableSize: Int) -> Int { (i + 1) * (tableSize / patches) - 1 }

    public struct Tables {
        public var rows: Int
        public var columns: Int
        public var depths: Int
        /// Width of each table: dim / 3.
        public var width: Int

        public init(rows: Int, columns: Int, depths: Int, width: Int) {
            self.rows = rows; self.columns = columns; self.depths = depths; self.width = width
        }
    }

    /// `tokens[t] += concat(row[ih], col[iw], dep[id])` for every token of the grid.
    public static func forward(
        _ tables: Tables, rowTable: UnsafePointer<Float>, columnTable: UnsafePointer<Float>,
        depthTable: UnsafePointer<Float>, grid: PatchGrid, tokens: UnsafeMutablePointer<Float>
    ) {
        forEachToken(tables, grid: grid) { token, r, c, d in
            let out = tokens + token * 3 * tables.width
            VectorMath.addScaled(rowTable + r * tables.width, 1, into: out, tables.width)
            VectorMath.addScaled(columnTable + c * tables.width, 1, into: out + tables.width, tables.width)
            VectorMath.addScaled(depthTable + d * tables.width, 1, into: out + 2 * tables.width, tables.width)
        }
    }

    /// Scatters each token's gradient slices into the table rows it read.
    public static func backward(
        _ tables: Tables, dTokens: UnsafePointer<Float>, grid: PatchGrid,
        dRowTable: UnsafeMutablePointer<Float>?, dColumnTable: UnsafeMutablePointer<Float>?,
        dDepthTable: UnsafeMutablePointer<Float>?
    ) {
        forEachToken(tables, grid: grid) { token, r, c, d in
            let gradient = dTokens + token * 3 * tables.width
            if let dRowTable { VectorMath.addScaled(gradient, 1, into: dRowTable + r * tables.width, tables.width) }
            if let dColumnTable {
                VectorMath.addScaled(gradient + tables.width, 1, into: dColumnTable + c * tables.width, tables.width)
            }
            if let dDepthTable {
                VectorMath.addScaled(gradient + 2 * tables.width, 1, into: dDepthTable + d * tables.width, tables.width)
            }
        }
    }

    private static func forEachToken(_ tables: Tables, grid: PatchGrid, _ body: (Int, Int, Int, Int) -> Void) {
        for token in 0..<grid.tokens {
            let hi = token / (grid.w * grid.d), wi = (token / grid.d) % grid.w, di = token % grid.d
            body(token, tableIndex(hi, patches: grid.h, tableSize: tables.rows),
                 tableIndex(wi, patches: grid.w, tableSize: tables.columns),
                 tableIndex(di, patches: grid.d, tableSize: tables.depths))
        }
    }
}
