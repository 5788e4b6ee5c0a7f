/// Optional intensity window (e.g. Hounsfield units for CT) applied before min-max scaling. RadFM itself
/// applies none; with a window, values are clamped to [center - width/2, center + width/2] first.
public struct IntensityWindow: Sendable, Equatable {
    public let center: Float
    public let width: Float

    public init(center: Float, width: Float) {
        precondition(width > 0, "window width must be positive")
        self.center = center
        self.width = width
    }

    var lower: Float { center - width / 2 }
    var upper: Float { center + width / 2 }
}
