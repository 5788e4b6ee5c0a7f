#!/usr/bin/env python3
"""Reference values for the metric parity tests, computed live by the reference libraries.

    python3 reference_metrics.py metric_pairs.jsonl > reference.json

Needs sacrebleu 2.x, rouge-score 0.1.2 and nltk (CI pins: sacrebleu==2.6.0 rouge-score==0.1.2
nltk==3.10.4). Exit status 3 means one of them is missing, so the calling test can skip or fail.

Output (floats as their repr strings): for every pair, its sacrebleu 13a tokens, its BLEU-1..4 as a
one-segment corpus, its rouge-score tokens and Score tuples with and without the stemmer; corpus BLEU-1..4 over all pairs and over each id
prefix; the mean ROUGE precision, recall and F over all pairs; NLTK's Porter stem of every distinct
lowercase word in the pairs; and, for seeded generated inputs, the tokens of 3,000 strings made of the
characters the tokenizers react to and the stems of 20,000 words made of stems and Porter suffixes.
"""
import json
import random
import re
import sys

try:
    import nltk
    import rouge_score
    import sacrebleu
    from nltk.stem import porter
    from rouge_score import rouge_scorer, tokenizers
    from sacrebleu.metrics import BLEU
except ImportError as error:
    print(error, file=sys.stderr)
    sys.exit(3)


def exact(value):
    """A float as Python's shortest round-trip text: JSON number parsers need not round correctly, and the
    tests compare to the last bit."""
    return repr(float(value))


def corpus_bleu(hypotheses, references):
    """BLEU-n for n = 1..4 as BLEU(max_ngram_order=n).corpus_score with every other setting default."""
    return [exact(BLEU(max_ngram_order=n).corpus_score(hypotheses, [references]).score) for n in range(1, 5)]


# Building blocks of the generated tokenizer inputs: characters each rewrite rule of 13a and rouge-score
# reacts to, Python whitespace beyond ASCII, and characters whose lowercase form changes length.
FUZZ_PIECES = list("abcXYZ0123456789 .,-'&;<>\n\r\t/()!?\"") + [
    "&amp;", "&quot;", "&lt;", "&gt;", "<skipped>", "-\n", "\u00a0", "\u2003", "\u0085", "\u2028", "\u001c",
    "é", "İ", "\u212a", "ß", "ﬁ", "Σ", "3.5", "1,000", "e.g.", "...", " . ",
]
SUFFIXES = ("s es ies sses ss ed ied eed ing ingly y ly ily ally alli bli abli ational tional enci anci izer entli "
            "eli ousli ization ation ator alism iveness fulness ousness aliti iviti biliti fulli logi icate ative "
            "alize iciti ical ful ness al ance ence er ic able ible ant ement ment ent ion sion tion ou ism ate iti "
            "ous ive ize e ll at bl iz").split()


def generated_texts(count, rng):
    return ["".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(0, 30))) for _ in range(count)]


def generated_words(count, rng):
    """Random stems with Porter suffixes stacked on, to reach every rule and its conditions."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    weights = [8, 1, 3, 3, 10, 2, 2, 4, 8, 1, 1, 4, 2, 6, 8, 2, 1, 6, 6, 8, 3, 1, 1, 1, 4, 1]
    words = set()
    while len(words) < count:
        word = "".join(rng.choices(letters, weights, k=rng.randint(1, 8)))
        word += "".join(rng.choice(SUFFIXES) for _ in range(rng.randint(0, 2)))
        words.add(word + (rng.choice(["y", "yy", "0", "12"]) if rng.random() < 0.05 else ""))
    return sorted(words)


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        pairs = [json.loads(line) for line in handle if line.strip()]
    tokenizer = BLEU().tokenizer
    scorers = {name: rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=stem)
               for name, stem in (("plain", False), ("stemmed", True))}
    rouge_tokenizers = {name: tokenizers.DefaultTokenizer(use_stemmer=stem)
                        for name, stem in (("plain", False), ("stemmed", True))}

    rows = []
    for pair in pairs:
        prediction, reference = pair["prediction"], pair["reference"]
        row = {
            "id": pair["id"],
            # BLEU's _preprocess_segment: rstrip, then the 13a tokenizer; tokens are its split().
            "bleu_tokens": [tokenizer(prediction.rstrip()).split(), tokenizer(reference.rstrip()).split()],
            "bleu": corpus_bleu([prediction], [reference]),
        }
        for name, scorer in scorers.items():
            scores = scorer.score(reference, prediction)
            row["rouge_" + name] = {key: [exact(s.precision), exact(s.recall), exact(s.fmeasure)] for key, s in scores.items()}
            row["rouge_tokens_" + name] = [rouge_tokenizers[name].tokenize(prediction),
                                           rouge_tokenizers[name].tokenize(reference)]
        rows.append(row)

    groups = {}
    for pair in pairs:
        groups.setdefault(pair["id"].split("-")[0], []).append(pair)
    words = sorted({w for p in pairs for text in (p["prediction"], p["reference"])
                    for w in re.split(r"[^a-z0-9]+", text.lower()) if w})
    stemmer = porter.PorterStemmer()
    print(json.dumps({
        "versions": {"sacrebleu": sacrebleu.__version__, "nltk": nltk.__version__},
        "pairs": rows,
        "corpus_bleu": corpus_bleu([p["prediction"] for p in pairs], [p["reference"] for p in pairs]),
        "group_bleu": {name: corpus_bleu([p["prediction"] for p in group], [p["reference"] for p in group])
                       for name, group in groups.items()},
        # The usual aggregation of rouge-score results: the plain mean of each field over the pairs.
        "rouge_means": {name: {key: [exact(sum(float(r["rouge_" + name][key][i]) for r in rows) / len(rows))
                                     for i in range(3)]
                               for key in ("rouge1", "rouge2", "rougeL")}
                        for name in scorers},
        "stems": {word: stemmer.stem(word) for word in words},
        "generated_texts": [{"text": text, "bleu_tokens": tokenizer(text.rstrip()).split(),
                             "rouge_tokens_stemmed": rouge_tokenizers["stemmed"].tokenize(text)}
                            for text in generated_texts(3000, random.Random(20261129))],
        "generated_stems": {word: stemmer.stem(word) for word in generated_words(20000, random.Random(20261129))},
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
