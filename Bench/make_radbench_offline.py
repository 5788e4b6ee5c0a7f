#!/usr/bin/env python3
"""Builds RadBench-offline: RadBench's tasks over real scans that install offline, split from training data.

Sources (DESIGN section 8): the DICOM files of PyPI `pydicom` (its test files) and `pydicom-data`, and Debian
`mricron-data`'s ch2.nii.gz (a T1 MR). Labels come from the headers only (Modality, BodyPartExamined, Study
Description), so every reference is a fact about the file, never a guess about its content. The manifest
refers to images as `data/<source>/<file>`; the script links `<out>/data/<source>` to where the source is
installed, so the committed manifest is the same on every machine and only the links are local.

Held-out split: many files are one picture in several encodings (693_J2KI/693_UNCR, MR_small/MR_small_RLE,
the bone scan in five syntaxes...). Files are grouped by picture (CONTENT_GROUPS and the stem rules below),
groups are sorted within each modality and alternate test, train, test...; the benchmark holds only test
groups, and `training_scans()` hands the train groups to the default model's recipe (Models/radfm-mini), so
no picture is in both. A modality with one group (NM: a single bone scan) is test-only: the model has never
seen it, which the model card says.

Tasks (RadBench's five, as far as header facts allow):
- modality: "Which imaging modality was used to acquire this image?", closed over CHOICES, one sample per SOP
  Instance UID (several encodings of a test picture test the reader as well as the model);
- diagnosis: RadFM's own yes/no modality prompt ("Is this image a CT scan?"), once with the true modality
  (yes) and once with the next one in CHOICES (no), per test group;
- vqa: "Which part of the body is shown in this image?" where the header names it, per test group;
- report: "Please caption this medical scan." with the caption built from the header facts, per test group;
- rationale: no offline data gives a disease with its radiological features; not exercised.

Rules, so that the set is deterministic and honest:
- files sorted by name within a source, sources in a fixed order;
- only modalities with a label (CT, MR, CR/DX as X-ray, US, NM, PT as PET); OT (secondary capture) and SEG
  carry no scan modality and are left out;
- a file pydicom reads only with a warning (truncated, malformed) or without pixel data is left out;
- files the project's reader cannot decode are listed in READER_EXCLUSIONS with the reader's error.

Usage: make_radbench_offline.py --out Bench/radbench-offline [--check]
  --check: exit 1 if the manifest on disk differs from the one the sources give (used in CI).
"""
import argparse
import json
import os
import re
import sys
import warnings

import pydicom

MODALITY_LABELS = {"CT": "CT", "MR": "MR", "CR": "X-ray", "DX": "X-ray", "US": "US", "NM": "NM", "PT": "PET"}
MODALITY_NAMES = {"CT": "CT", "MR": "MR", "X-ray": "X-ray", "US": "ultrasound", "NM": "nuclear medicine",
                  "PET": "PET"}
CHOICES = ["CT", "MR", "X-ray", "US", "NM", "PET"]
MODALITY_QUESTION = "Which imaging modality was used to acquire this image?"
BODY_PART_QUESTION = "Which part of the body is shown in this image?"
CAPTION_QUESTION = "Please caption this medical scan."
# Files the project's own reader cannot decode today; listed with its error so that the benchmark measures
# the model, not the reader. Remove an entry once Sources/Imaging reads the file.
READER_EXCLUSIONS = {
    "JPEG2000-embedded-sequence-delimiter.dcm": "JPEG 2000 frame 0: Invalid number of tiles (openjp2)",
    "MR_truncated.dcm": "cannot parse DICOM: I/O suspension or premature end of stream (the file is cut short)",
    "gdcm-US-ALOKA-16.dcm": "PALETTE COLOR with segmented palettes is not supported",
    "gdcm-US-ALOKA-16_big.dcm": "PALETTE COLOR with segmented palettes is not supported",
}
# One picture under different names: checked by eye and by header (same study, size and description).
CONTENT_GROUPS = {
    "JPEG-lossy": "bone-scan", "JPEG2000": "bone-scan", "JPGExtended": "bone-scan", "JPEG-LL": "bone-scan",
    "JPEG2000_UNC": "bone-scan",
    "examples_overlay": "liver-mr", "MR-SIEMENS-DICOM-WithOverlays": "liver-mr",
    "color-pl": "echo-color", "color-px": "echo-color",
}
# Encodings of one picture share a stem: 693_J2KI, MR_small_RLE, OBXXXX1A_expb_2frame, emri_small_big_endian.
STEM_GROUP = re.compile(r"^(693|MR2|RG1|RG3|US1|MR_small|emri_small|OBXXXX1A)(_.*)?$")
NIFTI_SCANS = [("mricron", "/usr/share/mricron/templates", "ch2.nii.gz",
                {"modality": "MR", "body_part": "head", "group": "ch2"})]


def content_group(name):
    stem = name[:-4] if name.endswith(".dcm") else name
    if stem in CONTENT_GROUPS:
        return CONTENT_GROUPS[stem]
    match = STEM_GROUP.match(stem)
    return match.group(1) if match else stem


def body_part(dataset):
    """The body part a header names (lower case), from BodyPartExamined or a plain Study Description."""
    part = str(dataset.get("BodyPartExamined", "")).strip().lower()
    if part:
        return {"extremity": "extremity", "whole body": "whole body"}.get(part, part)
    description = str(dataset.get("StudyDescription", "")).strip().lower()
    for word, named in (("shoulder", "shoulder"), ("liver", "abdomen"), ("echocardiogram", "heart"),
                        ("thorax", "chest"), ("brain", "head"), ("kidney", "abdomen"), ("chest", "chest")):
        if word in description:
            return named
    return None


def caption(modality, part):
    """The header facts as one sentence, e.g. "CT of the head." or "Ultrasound image."."""
    name = MODALITY_NAMES[modality]
    if part is None:
        return f"{name[0].upper()}{name[1:]} image."
    return f"{name[0].upper()}{name[1:]} of the {part}." if part != "whole body" else f"Whole-body {name} scan."


def dicom_sources():
    import pydicom.data
    sources = [("pydicom", os.path.join(os.path.dirname(pydicom.data.__file__), "test_files"))]
    try:
        import data_store  # the module pydicom-data installs
        sources.append(("pydicom-data", os.path.join(os.path.dirname(data_store.__file__), "data")))
    except ImportError:
        sys.exit("pydicom-data is not installed (pip install pydicom-data==1.0.0)")
    return sources


def read_facts(path):
    """Header facts of a usable scan, or None (not DICOM, read only with a warning, no pixels, no modality)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            dataset = pydicom.dcmread(path)
        except Exception:  # not DICOM, or DICOM pydicom reads only with a warning: not a fair sample
            return None
    label = MODALITY_LABELS.get(str(dataset.get("Modality", "")))
    if label is None or "PixelData" not in dataset:
        return None
    return {"modality": label, "body_part": body_part(dataset), "uid": str(dataset.get("SOPInstanceUID", path))}


def all_scans(sources=None):
    """Every usable scan as (source, folder, name, facts with "group"), in a fixed order. Files that share a
    SOP Instance UID are one picture whatever their names (MR_truncated is MR_small cut short), so their
    groups merge into the first one by name."""
    scans = []
    for source, folder in sources or dicom_sources():
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not os.path.isfile(path) or name in READER_EXCLUSIONS:
                continue
            facts = read_facts(path)
            if facts is not None:
                scans.append((source, folder, name, dict(facts, group=content_group(name))))
    for source, folder, name, facts in NIFTI_SCANS:
        if not os.path.isfile(os.path.join(folder, name)):
            sys.exit(f"{folder}/{name} is missing (apt-get install mricron-data)")
        scans.append((source, folder, name, dict(facts, uid=name)))
    group_of_uid = {}
    for _, _, _, facts in scans:
        group_of_uid[facts["uid"]] = min(group_of_uid.get(facts["uid"], facts["group"]), facts["group"])
    merged = {facts["group"]: group_of_uid[facts["uid"]] for _, _, _, facts in scans}
    for _, _, _, facts in scans:
        while merged.get(facts["group"], facts["group"]) != facts["group"]:
            facts["group"] = merged[facts["group"]]
    return scans


def test_groups(scans):
    """Per modality, sorted groups alternate test, train, test..."""
    by_modality = {}
    for _, _, _, facts in scans:
        by_modality.setdefault(facts["modality"], set()).add(facts["group"])
    return {group for groups in by_modality.values() for index, group in enumerate(sorted(groups)) if index % 2 == 0}


def training_scans():
    """(path, facts) of the scans in train groups: the default model's recipe trains on these only."""
    scans = all_scans()
    held_out = test_groups(scans)
    return [(os.path.join(folder, name), facts) for _, folder, name, facts in scans if facts["group"] not in held_out]


def build():
    scans = all_scans()
    held_out = test_groups(scans)
    samples, links, seen_uids, seen_groups = [], {}, set(), set()
    for source, folder, name, facts in scans:
        links[source] = folder
        if facts["group"] not in held_out or facts["uid"] in seen_uids:
            continue
        seen_uids.add(facts["uid"])
        image, label, part = [f"data/{source}/{name}"], facts["modality"], facts["body_part"]
        common = {"images": image, "source": source, "group": facts["group"]}
        samples.append(dict(common, id=f"modality/{source}/{name}", task="modality", question=MODALITY_QUESTION,
                            answer=label, choices=CHOICES))
        if facts["group"] in seen_groups:
            continue
        seen_groups.add(facts["group"])
        wrong = CHOICES[(CHOICES.index(label) + 1) % len(CHOICES)]
        for asked, answer in ((label, "yes"), (wrong, "no")):
            samples.append(dict(common, id=f"diagnosis/{source}/{name}/{asked}", task="diagnosis",
                                question=f"Is this image a {asked} scan?", answer=answer, choices=["yes", "no"]))
        if part is not None:
            samples.append(dict(common, id=f"vqa/{source}/{name}", task="vqa", question=BODY_PART_QUESTION,
                                answer=part))
        samples.append(dict(common, id=f"report/{source}/{name}", task="report", question=CAPTION_QUESTION,
                            answer=caption(label, part)))
    return samples, links


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for manifest.jsonl and the data/ links")
    parser.add_argument("--check", action="store_true", help="fail if the manifest on disk is not what the sources give")
    arguments = parser.parse_args()
    samples, links = build()
    text = "".join(json.dumps(sample, sort_keys=True) + "\n" for sample in samples)
    manifest = os.path.join(arguments.out, "manifest.jsonl")
    if arguments.check:
        with open(manifest) as file:
            if file.read() != text:
                sys.exit(f"{manifest} differs from what the installed sources give; rerun without --check")
    else:
        os.makedirs(arguments.out, exist_ok=True)
        with open(manifest, "w") as file:
            file.write(text)
    data = os.path.join(arguments.out, "data")
    os.makedirs(data, exist_ok=True)
    for source, folder in links.items():
        link = os.path.join(data, source)
        if os.path.islink(link):
            os.remove(link)
        os.symlink(folder, link)
    counts = {}
    for sample in samples:
        key = sample["task"] if sample["task"] != "modality" else f"modality {sample['answer']}"
        counts[key] = counts.get(key, 0) + 1
    print(f"{manifest}: {len(samples)} samples: " + ", ".join(f"{key} {count}" for key, count in sorted(counts.items())))


if __name__ == "__main__":
    main()
