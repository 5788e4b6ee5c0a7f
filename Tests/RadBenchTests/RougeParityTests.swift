import RadBench
import XCTest

final class RougeParityTests: XCTestCase {
    private let settings = [("plain", false), ("stemmed", true)]

    func testTokensEqualRougeScoreTokensWithAndWithoutStemmer() throws {
        let reference = try MetricReference.load()
        for (name, stemming) in settings {
            var tokenizer = RougeTokenizer(usesStemmer: stemming)
            for pair in reference.pairs {
                let expected = pair.expected["rouge_tokens_" + name] as! [[String]]
                XCTAssertEqual(tokenizer.tokenize(pair.prediction), expected[0], "\(pair.id) prediction (\(name))")
                XCTAssertEqual(tokenizer.tokenize(pair.reference), expected[1], "\(pair.id) reference (\(name))")
            }
        }
    }

    func testRouge1And2AndLOfEveryPairEqualRougeScore() throws {
        let reference = try MetricReference.load()
        for (name, stemming) in settings {
            var scorer = RougeScorer(usesStemmer: stemming)
            for pair in reference.pairs {
                let scores = scorer.score(prediction: pair.prediction, reference: pair.reference)
                let expected = (pair.expected["rouge_" + name] as! [String: Any]).mapValues(exactValues)
                for (key, score) in [("rouge1", scores.rouge1), ("rouge2", scores.rouge2), ("rougeL", scores.rougeL)] {
                    let values = expected[key]!
                    XCTAssertEqual(score.precision, values[0], "\(pair.id) \(key) precision (\(name))")
                    XCTAssertEqual(score.recall, values[1], "\(pair.id) \(key) recall (\(name))")
                    XCTAssertEqual(score.fMeasure, values[2], "\(pair.id) \(key) F (\(name))")
                }
            }
        }
    }

    func testMeanRougeOverAllPairsEqualsTheMeanOfRougeScoreResults() throws {
        let reference = try MetricReference.load()
        let expectedMeans = (reference.output["rouge_means"] as! [String: [String: Any]]).mapValues { $0.mapValues(exactValues) }
        for (name, stemming) in settings {
            var scorer = RougeScorer(usesStemmer: stemming)
            let means = RougeMeans(reference.pairs.map { scorer.score(prediction: $0.prediction, reference: $0.reference) })
            for (key, score) in [("rouge1", means.rouge1), ("rouge2", means.rouge2), ("rougeL", means.rougeL)] {
                let values = expectedMeans[name]![key]!
                assertSameMetric(score.precision, values[0], "mean \(key) precision (\(name))")
                assertSameMetric(score.recall, values[1], "mean \(key) recall (\(name))")
                assertSameMetric(score.fMeasure, values[2], "mean \(key) F (\(name))")
            }
        }
    }

    func testPorterStemOfEveryWordInThePairsEqualsNLTK() throws {
        let reference = try MetricReference.load()
        let stems = reference.output["stems"] as! [String: String]
        XCTAssertGreaterThan(stems.count, 1000)
        for (word, expected) in stems.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(PorterStemmer.stem(word), expected, "stem of \(word)")
        }
    }

    func testStemmedTokensEqualRougeScoreOnGeneratedStrings() throws {
        let reference = try MetricReference.load()
        let generated = reference.output["generated_texts"] as! [[String: Any]]
        var tokenizer = RougeTokenizer(usesStemmer: true)
        for row in generated {
            let text = row["text"] as! String
            XCTAssertEqual(tokenizer.tokenize(text), row["rouge_tokens_stemmed"] as! [String], text.debugDescription)
        }
    }

    func testPorterStemOfGeneratedWordsEqualsNLTK() throws {
        let reference = try MetricReference.load()
        let stems = reference.output["generated_stems"] as! [String: String]
        XCTAssertEqual(stems.count, 20000)
        for (word, expected) in stems where PorterStemmer.stem(word) != expected {
            XCTFail("stem of \(word): \(PorterStemmer.stem(word)), NLTK \(expected)")
        }
    }
}
