import RadBench
import XCTest

final class SacreBLEUParityTests: XCTestCase {
    func testTokensEqualSacreBLEU13aTokensOnEveryPair() throws {
        let reference = try MetricReference.load()
        for pair in reference.pairs {
            let expected = pair.expected["bleu_tokens"] as! [[String]]
            XCTAssertEqual(SacreBLEUTokenizer.tokenize(pair.prediction), expected[0], "\(pair.id) prediction")
            XCTAssertEqual(SacreBLEUTokenizer.tokenize(pair.reference), expected[1], "\(pair.id) reference")
        }
    }

    func testBLEU1To4OfEachPairAsItsOwnCorpusEqualSacreBLEU() throws {
        let reference = try MetricReference.load()
        var largestDifference = 0.0
        for pair in reference.pairs {
            var bleu = CorpusBLEU()
            bleu.add(hypothesis: pair.prediction, reference: pair.reference)
            for (index, expected) in exactValues(pair.expected["bleu"]).enumerated() {
                let actual = bleu.score(maxOrder: index + 1).score
                largestDifference = max(largestDifference, abs(actual - expected))
                assertSameMetric(actual, expected, "\(pair.id) BLEU-\(index + 1)")
            }
        }
        XCTAssertEqual(largestDifference, 0, "BLEU differs from sacrebleu in the last bits somewhere")
    }

    func testCorpusBLEU1To4OverAllPairsAndEachKindOfPairEqualSacreBLEU() throws {
        let reference = try MetricReference.load()
        var corpora: [String: [MetricReference.Pair]] = ["all": reference.pairs]
        for pair in reference.pairs { corpora[String(pair.id.split(separator: "-")[0]), default: []].append(pair) }
        var expectations = (reference.output["group_bleu"] as! [String: Any]).mapValues(exactValues)
        expectations["all"] = exactValues(reference.output["corpus_bleu"])
        XCTAssertEqual(Set(expectations.keys), Set(corpora.keys))

        for (name, pairs) in corpora {
            var bleu = CorpusBLEU()
            for pair in pairs { bleu.add(hypothesis: pair.prediction, reference: pair.reference) }
            for (index, expected) in expectations[name]!.enumerated() {
                XCTAssertEqual(bleu.score(maxOrder: index + 1).score, expected, "\(name) corpus BLEU-\(index + 1)")
            }
        }
    }

    func testTokensEqualSacreBLEUOnGeneratedStringsOfEveryCharacterTheRulesTouch() throws {
        let reference = try MetricReference.load()
        let generated = reference.output["generated_texts"] as! [[String: Any]]
        XCTAssertEqual(generated.count, 3000)
        for row in generated {
            let text = row["text"] as! String
            XCTAssertEqual(SacreBLEUTokenizer.tokenize(text), row["bleu_tokens"] as! [String], text.debugDescription)
        }
    }
}
