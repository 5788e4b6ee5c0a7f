#!/usr/bin/env python3
"""Writes metric_pairs.jsonl, the prediction/reference pairs of the metric parity tests.

Report text comes from the synthetic chest reports of PyPI `radlabels` 0.2.0 (MIT licence,
Copyright (c) 2026 Jean-Benoit Delbrouck), read from its wheel:

    pip download --no-deps radlabels==0.2.0 -d /tmp/radlabels
    python3 make_metric_pairs.py /tmp/radlabels/radlabels-0.2.0-py3-none-any.whl > metric_pairs.jsonl

The pairs mix whole reports against other reports, reports against edited copies of themselves (the
overlaps BLEU and ROUGE are meant to grade), single sentences, and hand-written edge cases for the
tokenizers and the stemmer. The output is deterministic (fixed seed, sorted inputs).
"""
import json
import random
import re
import sys
import zipfile

MAX_REPORT_CHARS = 700


def reports_from_wheel(path):
    with zipfile.ZipFile(path) as wheel:
        names = sorted(n for n in wheel.namelist() if "/synthetic_reports/" in n and n.endswith(".txt"))
        return [wheel.read(n).decode("utf-8") for n in names]


def body(report):
    """The findings/impression text, cut at a sentence end to keep the fixture small."""
    match = re.search(r"(FINDINGS|IMPRESSION)\s*:", report)
    text = report[match.end():] if match else report
    text = text.strip()
    if len(text) > MAX_REPORT_CHARS:
        cut = text.rfind(". ", 0, MAX_REPORT_CHARS)
        text = text[: cut + 1] if cut > 0 else text[:MAX_REPORT_CHARS]
    return text


def sentences(text):
    return [s for s in re.split(r"(?<=\.)\s+", text) if s.strip()]


SYNONYMS = {
    "no": "without", "small": "tiny", "large": "big", "right": "left", "left": "right",
    "effusion": "effusions", "opacity": "opacities", "unchanged": "stable", "mild": "slight",
    "pneumothorax": "PTX", "heart": "cardiac silhouette", "lungs": "lung", "is": "appears",
}


def edit(text, rng):
    """One of several edits a generated report plausibly makes to a reference."""
    parts = sentences(text)
    kind = rng.randrange(7)
    if kind == 0 and len(parts) > 1:
        del parts[rng.randrange(len(parts))]
        return " ".join(parts)
    if kind == 1:
        rng.shuffle(parts)
        return " ".join(parts)
    if kind == 2:
        return " ".join(SYNONYMS.get(w.lower(), w) if rng.random() < 0.5 else w for w in text.split(" "))
    if kind == 3:
        return text.lower()
    if kind == 4:
        return text[: max(1, len(text) // 2)]
    if kind == 5:
        words = text.split(" ")
        return " ".join(w for w in words if rng.random() > 0.25)
    return text.upper()


EDGE_CASES = [
    ("", ""),
    ("", "No acute cardiopulmonary process."),
    ("No acute cardiopulmonary process.", ""),
    ("   ", "\t\n"),
    (".", "."),
    ("...", "!?"),
    ("a", "a"),
    ("a", "b"),
    ("no no no no no", "no"),
    ("the the the", "the cat the cat on the mat"),
    ("Effusion.", "effusion"),
    ("Heart size is normal.", "Heart size is normal ."),
    ("The lesion measures 3.5 cm.", "The lesion measures 3.5cm."),
    ("1,000 cc of fluid, 2.5 L total.", "1,000cc of fluid,2.5L total."),
    ("A 5-mm nodule at T12-L1.", "A 5 mm nodule at T12 - L1."),
    ("Dated 12/03/2019 at 4:45 p.m.", "dated 12/03/2019 at 4:45 pm"),
    ("e.g. the right lobe; i.e., RLL.", "e.g., the right lower lobe (RLL)."),
    ("Tip at the cavo-atrial junction.", "Tip at the cavoatrial junction."),
    ("x-ray, CT, MRI & US", "X-ray/CT/MRI &amp; US"),
    ("&quot;quoted&quot; &lt;tag&gt; &amp;amp;", "\"quoted\" <tag> &amp;"),
    ("<skipped> text <skip<skipped>ped>", "text"),
    ("hyphen-\nated line\nbreak", "hyphenated line break"),
    ("Windows\r\nline\r\nends ", "Windows line ends"),
    ("trailing spaces   \u00a0\u2003", "trailing spaces"),
    ("no\u00a0break\u2009thin\u3000ideographic", "no break thin ideographic"),
    ("line\u2028separator\u2029paragraph\u0085next", "line separator paragraph next"),
    ("Ödem der Lunge, Erguss rechts.", "Lungenödem; Erguss rechts."),
    ("İstanbul KELVIN \u212a 5\u212a", "istanbul kelvin k 5k"),
    ("Σίγμα λέξεις ΟΔΟΣ", "σίγμα λέξεις οδος"),
    ("肺部清晰，无胸腔积液。", "肺部清晰。"),
    ("emoji 🫁 lungs 🫀 heart", "lungs heart"),
    ("naïve café résumé coöperate", "naive cafe resume cooperate"),
    ("١٢٣ arabic digits ٤٥", "123 arabic digits 45"),
    ("under_score snake_case CamelCase", "under score snake case camel case"),
    ("'quoted' and \"double\" and `tick`", "quoted and double and tick"),
    ("{braces} [brackets] (parens) |pipe| ~tilde^ @at #hash $dollar %pct *star +plus =eq",
     "braces brackets parens pipe tilde at hash dollar pct star plus eq"),
    ("effusions opacities generously relational conditional hopping agreed", "effusion opacity generous relate condition hop agree"),
    ("dying lying tying skies news innings outings cannings howe proceed exceed succeed",
     "die lie tie sky news inning outing canning howe proceeds exceeds succeeds"),
    ("happy enjoy spies flies dies died spied cried", "happi enjoy spy fly die die spy cry"),
    ("controlling rolling probate cease feed bled sing motoring", "control roll probat ceas fee bleed sang motor"),
    ("caresses ponies ties caress cats hopeful goodness formalize electrical", "caress pony tie caress cat hope good formal electric"),
    ("triplicate formative electriciti hesitanci digitizer conformabli radicalli differentli vileli analogousli",
     "triplic form electric hesit digit conform radic differ vile analog"),
    ("vietnamization predication operator feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti",
     "vietnam predic oper feudal decis hope callous formal sensit sensibl"),
    ("revival allowance inference airliner gyroscopic adjustable defensible irritant replacement adjustment dependent adoption",
     "reviv allow infer airlin gyroscop adjust defens irrit replac adjust depend adopt"),
    ("homologou communism activate angulariti homologous effective bowdlerize archaeology geology theology",
     "homolog commun activ angular homolog effect bowdler archaeolog geolog theolog"),
    ("yyyy yy y ylang syzygy toy trouble oats trees ivy troubles private oaten orrery",
     "yyyy yy y ylang syzygi toi troubl oat tree ivi troubl privat oaten orreri"),
    ("fully hopefully carefully beautifully generally usually really", "full hope care beauti gener usual real"),
    ("pneumothoraces atelectases emphysematous cardiomegaly hyperinflated calcified",
     "pneumothorax atelectasis emphysema cardiomegali hyperinfl calcifi"),
    ("abc abcd abcde 1234 12345 a1b2 x2 h/o s/p w/", "abc abcd abcde 1234 12345 a1b2 x2 ho sp w"),
    ("1.", "1 ."),
    ("3.,4,.5-6--7", "3 . , 4 , . 5 - 6 - - 7"),
    ("end with dot .", "end with dot."),
]


def main():
    reports = [body(r) for r in reports_from_wheel(sys.argv[1])]
    reports = [r for r in reports if len(r) > 40]
    rng = random.Random(20261129)
    pairs = []

    def add(kind, prediction, reference):
        pairs.append({"id": f"{kind}-{len(pairs):03d}", "prediction": prediction, "reference": reference})

    for prediction, reference in EDGE_CASES:
        add("edge", prediction, reference)
    picks = rng.sample(range(len(reports)), 240)
    for i in picks[:70]:
        add("other", reports[i], reports[rng.randrange(len(reports))])
    for i in picks[70:170]:
        add("edited", edit(reports[i], rng), reports[i])
    for i in picks[170:210]:
        first = sentences(reports[i])
        second = sentences(reports[rng.randrange(len(reports))])
        add("sentence", rng.choice(first), rng.choice(second + first))
    for i in picks[210:220]:
        add("identical", reports[i], reports[i])
    for start in range(220, 240, 5):
        long_text = " ".join(reports[j] for j in picks[start:start + 5])
        add("long", long_text, edit(long_text, rng))
    for row in pairs:
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
