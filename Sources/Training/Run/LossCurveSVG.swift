import Foundation

/// The loss curve as a self-contained SVG (no plotting dependency): loss against step with axis labels.
public enum LossCurveSVG {
    public static func render(_ points: [(step: Int, loss: Double)], title: String = "training loss") -> String {
        let (width, height, margin) = (640.0, 360.0, 56.0)
        let finite = points.filter { $0.loss.isFinite }
        let steps = finite.map { Double($0.step) }, losses = finite.map(\.loss)
        let (minStep, maxStep) = (steps.min() ?? 0, max(steps.max() ?? 1, (steps.min() ?? 0) + 1))
        let (minLoss, rawMax) = (min(losses.min() ?? 0, 0), losses.max() ?? 1)
        let maxLoss = rawMax > minLoss ? rawMax : minLoss + 1
        func x(_ step: Double) -> Double { margin + (step - minStep) / (maxStep - minStep) * (width - 2 * margin) }
        func y(_ loss: Double) -> Double { height - margin - (loss - minLoss) / (maxLoss - minLoss) * (height - 2 * margin) }
        func format(_ value: Double) -> String { String(format: "%.3g", value) }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="20" text-anchor="middle" font-size="14">\(escape(title))</text>
        <line x1="\(margin)" y1="\(height - margin)" x2="\(width - margin)" y2="\(height - margin)" stroke="black"/>
        <line x1="\(margin)" y1="\(margin)" x2="\(margin)" y2="\(height - margin)" stroke="black"/>

        """
        for tick in 0...4 {
            let loss = minLoss + (maxLoss - minLoss) * Double(tick) / 4
            let step = minStep + (maxStep - minStep) * Double(tick) / 4
            svg += "<text x=\"\(margin - 6)\" y=\"\(y(loss) + 4)\" text-anchor=\"end\">\(format(loss))</text>\n"
            svg += "<text x=\"\(x(step))\" y=\"\(height - margin + 16)\" text-anchor=\"middle\">\(Int(step.rounded()))</text>\n"
        }
        svg += "<text x=\"\(width / 2)\" y=\"\(height - 12)\" text-anchor=\"middle\">step</text>\n"
        svg += "<text x=\"14\" y=\"\(height / 2)\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(height / 2))\">loss</text>\n"
        if !finite.isEmpty {
            let path = zip(steps, losses).map { String(format: "%.2f,%.2f", x($0), y($1)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
        }
        return svg + "</svg>\n"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
