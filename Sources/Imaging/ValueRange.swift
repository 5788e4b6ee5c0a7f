/// Minimum and maximum of a buffer, ignoring NaN.
struct ValueRange {
    let minimum: Float
    let maximum: Float

    init?(_ values: UnsafeMutableBufferPointer<Float>) {
        self.init(UnsafeBufferPointer(values))
    }

    init?(_ values: UnsafeBufferPointer<Float>) {
        var low = Float.infinity, high = -Float.infinity
        for value in values {
            low = min(low, value)
            high = max(high, value)
        }
        guard low <= high else { return nil }
        minimum = low
        maximum = high
    }
}
