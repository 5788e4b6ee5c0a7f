#!/usr/bin/env python3
"""Builds RadBench-offline: a modality-recognition manifest over real scans that install offline.

Sources (DESIGN section 8): the DICOM files of PyPI `pydicom` (its test files) and `pydicom-data`, labelled
from their Modality header, and Debian `mricron-data`'s ch2.nii.gz (a T1 MR). The manifest refers to images
as `data/<source>/<file>`; the script links `<out>/data/<source>` to where the source is installed, so the
committed manifest is the same on every machine and only the links are local.

Rules, so that the set is deterministic and honest:
- files sorted by name within a source, sources in a fixed order;
- only modalities with a label (CT, MR, CR/DX as X-ray, US, NM, PT as PET); OT (secondary capture) and SEG
  carry no scan modality and are left out;
- a file pydicom reads only with a warning (truncated, malformed) or without pixel data is left out;
- files the project's reader cannot decode are listed in READER_EXCLUSIONS with the reader's error;
- one sample per SOP Instance UID: the same image in another transfer syntax is the same question.

Usage: make_radbench_offline.py --out Bench/radbench-offline [--check]
  --check: exit 1 if the manifest on disk differs from the one the sources give (used in CI).
"""
import argparse
import json
import os
import sys
import warnings

import pydicom

MODALITY_LABELS = {"CT": "CT", "MR": "MR", "CR": "X-ray", "DX": "X-ray", "US": "US", "NM": "NM", "PT": "PET"}
CHOICES = ["CT", "MR", "X-ray", "US", "NM", "PET"]
QUESTION = "Which imaging modality was used to acquire this image?"
# Files the project's own reader cannot decode today; listed with its error so that the benchmark measures
# the model, not the reader. Remove an entry once Sources/Imaging reads the file.
READER_EXCLUSIONS = {
    "JPEG2000-embedded-sequence-delimiter.dcm": "JPEG 2000 frame 0: Invalid number of tiles (openjp2)",
    "gdcm-US-ALOKA-16.dcm": "PALETTE COLOR with segmented palettes is not supported",
    "gdcm-US-ALOKA-16_big.dcm": "PALETTE COLOR with segmented palettes is not supported",
}
NIFTI_SCANS = [("mricron", "/usr/share/mricron/templates", "ch2.nii.gz", "MR")]


def dicom_sources():
    import pydicom.data
    sources = [("pydicom", os.path.join(os.path.dirname(pydicom.data.__file__), "test_files"))]
    try:
        import data_store  # the module pydicom-data installs
        sources.append(("pydicom-data", os.path.join(os.path.dirname(data_store.__file__), "data")))
    except ImportError:
        sys.exit("pydicom-data is not installed (pip install pydicom-data==1.0.0)")
    return sources


def labelled_dicom(folder):
    """(file name, label, SOP Instance UID) of every usable DICOM file directly in `folder`, by name."""
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not os.path.isfile(path) or name in READER_EXCLUSIONS:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                dataset = pydicom.dcmread(path)
                label = MODALITY_LABELS.get(str(dataset.get("Modality", "")))
                uid = str(dataset.get("SOPInstanceUID", path))
            except Exception:  # not DICOM, or DICOM pydicom reads only with a warning: not a fair sample
                continue
        if label is None or "PixelData" not in dataset:
            continue
        yield name, label, uid


def build(out):
    samples, seen, links = [], set(), {}
    for source, folder in dicom_sources():
        links[source] = folder
        for name, label, uid in labelled_dicom(folder):
            if uid in seen:
                continue
            seen.add(uid)
            samples.append({"id": f"modality/{source}/{name}", "task": "modality", "images": [f"data/{source}/{name}"],
                            "question": QUESTION, "answer": label, "choices": CHOICES, "source": source})
    for source, folder, name, label in NIFTI_SCANS:
        if not os.path.isfile(os.path.join(folder, name)):
            sys.exit(f"{folder}/{name} is missing (apt-get install mricron-data)")
        links[source] = folder
        samples.append({"id": f"modality/{source}/{name}", "task": "modality", "images": [f"data/{source}/{name}"],
                        "question": QUESTION, "answer": label, "choices": CHOICES, "source": source})
    return samples, links


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for manifest.jsonl and the data/ links")
    parser.add_argument("--check", action="store_true", help="fail if the manifest on disk is not what the sources give")
    arguments = parser.parse_args()
    samples, links = build(arguments.out)
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
        counts[sample["answer"]] = counts.get(sample["answer"], 0) + 1
    print(f"{manifest}: {len(samples)} samples " + ", ".join(f"{label} {count}" for label, count in sorted(counts.items())))


if __name__ == "__main__":
    main()
