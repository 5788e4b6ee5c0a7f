#!/usr/bin/env python3
"""Training manifests of radfm-mini, the default model, from real data that installs offline.

Scans: the train groups of RadBench-offline (Bench/make_radbench_offline.py decides the split, so no picture
is both trained on and benchmarked), plus scans RadBench-offline does not use at all: PyPI `deid-data`
(CT head, ultrasound, a DX radiograph) and PyPI `nibabel`'s 3D test NIfTI brains. Every answer is a header
fact (modality, body part) or a sentence built from them; nothing is guessed from pixels.

Language: PyPI `radlabels`' 1,000 synthetic chest X-ray reports (MIT licence), as text-only samples, so the
language model learns report prose. The real NLM reports in torchxrayvision are CC BY-NC-ND: they are not
used for weights that ship.

Questions follow RadFM's own templates (shared/radfm/prompts) plus RadBench-offline's wording. Manifests
(DESIGN section 6 format, absolute image paths):
  modality-<modality>.jsonl  stage 1: only the modality questions of each scan file
  scans-<modality>.jsonl  modality, yes/no modality, body part and caption questions per scan file, one
                          manifest per modality so the recipe can balance them with mixing weights
  reports.jsonl           "Write a chest X-ray report." -> a synthetic report, cut at a sentence near 400 characters
  heldout.jsonl           the evaluation loss set: RadBench-offline's samples (test groups only) and the last 50
                          synthetic reports, none of which are in the training manifests

Usage: make_training_data.py --out DIR [--prompts shared/radfm/prompts]
"""
import argparse
import glob
import importlib.util
import json
import os
import re
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Bench"))
import make_radbench_offline as radbench  # noqa: E402  (the split and the header facts live there)

REPORT_QUESTION = "Write a chest X-ray report."
REPORT_CHARACTERS = 400
HELD_OUT_REPORTS = 50


def package_folder(name):
    spec = importlib.util.find_spec(name)
    if spec is None:
        sys.exit(f"PyPI package {name} is not installed (see Models/radfm-mini/recipe.sh)")
    return os.path.dirname(spec.origin)


def extra_scans():
    """(path, facts) of scans outside RadBench-offline: deid-data DICOM and nibabel's 3D NIfTI brains."""
    scans = []
    root = os.path.join(package_folder("deid_data"), "data")
    for path in sorted(glob.glob(os.path.join(root, "**", "*.dcm"), recursive=True)):
        facts = radbench.read_facts(path)
        if facts is not None:
            if facts["body_part"] is None:
                facts["body_part"] = deid_body_part(path)
            scans.append((path, facts))
    nifti = os.path.join(package_folder("nibabel"), "tests", "data")
    # The single-volume brain MR images; 4D series and CIFTI files are not scans of one moment.
    for name in ("anatomical.nii", "reoriented_anat_moved.nii"):
        scans.append((os.path.join(nifti, name), {"modality": "MR", "body_part": "head", "uid": name}))
    return scans


def deid_body_part(path):
    """deid-data's ultrasound headers name the organ only in Study Description."""
    import pydicom
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        description = str(pydicom.dcmread(path, stop_before_pixels=True).get("StudyDescription", "")).lower()
    for word, part in (("kidney", "abdomen"), ("chest", "chest"), ("echo", "heart")):
        if word in description:
            return part
    return None


def scan_samples(path, facts, prompts):
    label, part = facts["modality"], facts["body_part"]
    image = [{"path": path, "position": 0}]
    samples = [{"images": image, "question": q, "answer": label}
               for q in prompts["modality"] + [radbench.MODALITY_QUESTION]]
    others = [choice for choice in radbench.CHOICES if choice != label]
    for index, template in enumerate(prompts["yes_no"] + ["Is this image a modality scan?"]):
        wrong = others[index % len(others)]
        samples.append({"images": image, "question": template.replace("modality", label), "answer": "yes"})
        samples.append({"images": image, "question": template.replace("modality", wrong), "answer": "no"})
    if part is not None:
        samples.append({"images": image, "question": radbench.BODY_PART_QUESTION, "answer": part})
    text = radbench.caption(label, part)
    samples += [{"images": image, "question": q, "answer": text}
                for q in prompts["caption"] + [radbench.CAPTION_QUESTION]]
    return samples


def report_samples():
    """All synthetic reports in name order; the recipe trains on all but the last HELD_OUT_REPORTS."""
    folder = os.path.join(package_folder("radlabels"), "samples", "synthetic_reports")
    samples = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as file:
            text = re.sub(r"\s+", " ", file.read()).strip()
        text = re.sub(r"^FINAL REPORT ", "", text)
        if len(text) > REPORT_CHARACTERS:
            cut = text.rfind(". ", 0, REPORT_CHARACTERS)
            text = text[:cut + 1] if cut > 0 else text[:REPORT_CHARACTERS]
        samples.append({"question": REPORT_QUESTION, "answer": text})
    return samples


def heldout_scan_samples():
    """RadBench-offline's samples as training-manifest lines, image links resolved to absolute paths."""
    samples, links = radbench.build()
    def absolute(image):
        _, source, name = image.split("/", 2)
        return {"path": os.path.join(links[source], name), "position": 0}
    return [{"images": [absolute(image) for image in sample["images"]], "question": sample["question"],
             "answer": sample["answer"]} for sample in samples]


def load_prompts(folder):
    def read(name, key):
        with open(os.path.join(folder, name)) as file:
            return json.load(file)[key]
    return {"modality": read("modality_prompt.json", "caption_prompt"),
            "yes_no": read("modality_prompt.json", "modality_prompt"),
            # RadFM's report questions too ("Can you provide a radiology report for this medical image?" is the
            # service's report prompt): without them the model reads it as a yes/no question and says "no".
            "caption": [q.replace(" with finding and impression", "").replace(" consists of finding and impression", "")
                        for q in read("caption_prompt.json", "caption_prompt")][:4]
                       + read("report_prompt.json", "caption_prompt")[:4]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--prompts", default=os.path.join(HERE, "..", "..", "..", "shared", "radfm", "prompts"))
    arguments = parser.parse_args()
    prompts = load_prompts(arguments.prompts)
    scans = radbench.training_scans() + extra_scans()
    os.makedirs(arguments.out, exist_ok=True)
    written = {}
    manifests = [(f"scans-{label}.jsonl", [s for path, facts in scans if facts["modality"] == label
                                           for s in scan_samples(path, facts, prompts)])
                 for label in sorted({facts["modality"] for _, facts in scans})]
    # Stage 1 grounds the vision path on the one question whose answer only the pixels give; with every
    # question type from the start, a model this small learns the text priors and ignores its images.
    modality_questions = set(prompts["modality"] + [radbench.MODALITY_QUESTION])
    manifests += [(f"modality-{label}.jsonl", [s for path, facts in scans if facts["modality"] == label
                                               for s in scan_samples(path, facts, prompts)
                                               if s["question"] in modality_questions])
                  for label in sorted({facts["modality"] for _, facts in scans})]
    reports = report_samples()
    held_out = heldout_scan_samples() + reports[-HELD_OUT_REPORTS:]
    for name, samples in manifests + [("reports.jsonl", reports[:-HELD_OUT_REPORTS]), ("heldout.jsonl", held_out)]:
        with open(os.path.join(arguments.out, name), "w") as file:
            file.writelines(json.dumps(sample, sort_keys=True) + "\n" for sample in samples)
        written[name] = len(samples)
    counts = {}
    for _, facts in scans:
        counts[facts["modality"]] = counts.get(facts["modality"], 0) + 1
    print(f"{arguments.out}: {len(scans)} scan files (" + ", ".join(f"{label} {count}" for label, count in sorted(counts.items()))
          + "); " + ", ".join(f"{name} {count} samples" for name, count in written.items()))


if __name__ == "__main__":
    main()
