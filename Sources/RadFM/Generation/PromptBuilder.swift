/// RadFM's prompt text: each image becomes `<image><imageK>...<imageK+31></image>`, with visual token
/// numbers running on across the sample's images, inserted at a character position of the question.
/// The tokenizer then splits these special tokens out (stripping white space around them, as RadFM's).
public enum PromptBuilder {
    public static func imageMarkup(imageCount: Int, tokensPerImage: Int) -> String {
        var markup = ""
        for image in 0..<imageCount {
            markup += "<image>"
            for token in image * tokensPerImage..<(image + 1) * tokensPerImage { markup += "<image\(token)>" }
            markup += "</image>"
        }
        return markup
    }

    /// The question with the markup of all images inserted, first image first, at `position` counted in
    /// Unicode scalars like a Python string index (clamped to the question's length, as slicing is).
    public static func text(question: String, imageCount: Int, tokensPerImage: Int, position: Int = 0) -> String {
        let scalars = question.unicodeScalars
        let split = scalars.index(scalars.startIndex, offsetBy: max(0, min(position, scalars.count)))
        var result = String(String.UnicodeScalarView(scalars[..<split]))
        result += imageMarkup(imageCount: imageCount, tokensPerImage: tokensPerImage)
        result += String(String.UnicodeScalarView(scalars[split...]))
        return result
    }
}
