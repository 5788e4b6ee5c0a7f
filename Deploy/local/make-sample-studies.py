#!/usr/bin/env python3
"""Builds sample DICOM studies from the real test files that pydicom and pydicom-data install.

  make-sample-studies.py real OUT
      Copies a set of real clinical images (CT, MR, multi-frame MR, CR, US) into OUT, one folder per
      file, as an archive that `radfm backfill` can walk.
  make-sample-studies.py synthetic OUT --count N [--instances K] [--source CT_small.dcm]
      Writes N studies of one series with K instances each, made from a real file with fresh study,
      series and instance UIDs (pixels unchanged), and OUT/manifest.json describing them. Tests use it
      to build many distinct studies.
"""
import argparse
import json
import os
import shutil
import sys

import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

REAL_FILES = [
    "CT_small.dcm", "MR_small.dcm", "emri_small.dcm", "693_UNCR.dcm", "RG1_UNCR.dcm",
    "US1_UNCR.dcm", "MR2_UNCR.dcm", "OBXXXX1A.dcm", "JPEG2000.dcm", "MR_small_RLE.dcm",
]


def real(out):
    os.makedirs(out, exist_ok=True)
    copied = 0
    for name in REAL_FILES:
        path = get_testdata_file(name)
        if path is None:
            print(f"make-sample-studies: {name} not installed; skipped", file=sys.stderr)
            continue
        folder = os.path.join(out, os.path.splitext(name)[0])
        os.makedirs(folder, exist_ok=True)
        shutil.copyfile(path, os.path.join(folder, "IM0001.dcm"))
        copied += 1
    print(f"make-sample-studies: {copied} real DICOM files under {out}")


def synthetic(out, count, instances, source):
    path = get_testdata_file(source)
    if path is None:
        sys.exit(f"make-sample-studies: {source} is not installed (pip install pydicom)")
    template = pydicom.dcmread(path)
    os.makedirs(out, exist_ok=True)
    manifest = []
    for s in range(count):
        study_uid, series_uid = generate_uid(), generate_uid()
        folder = f"S{s:05d}"
        os.makedirs(os.path.join(out, folder), exist_ok=True)
        files = []
        for i in range(instances):
            ds = template.copy()
            ds.StudyInstanceUID = study_uid
            ds.SeriesInstanceUID = series_uid
            ds.SOPInstanceUID = generate_uid()
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.InstanceNumber = i + 1
            ds.AccessionNumber = f"A{s:06d}"
            if "ImagePositionPatient" in ds:
                x, y, z = (float(v) for v in ds.ImagePositionPatient)
                ds.ImagePositionPatient = [x, y, z + i * float(getattr(ds, "SliceThickness", 1) or 1)]
            rel = f"{folder}/IM{i + 1:04d}.dcm"
            ds.save_as(os.path.join(out, rel), enforce_file_format=True)
            files.append(rel)
        manifest.append({"study_instance_uid": study_uid, "accession_number": f"A{s:06d}",
                         "series": [{"series_instance_uid": series_uid, "modality": str(template.Modality),
                                     "instances": files}]})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    print(f"make-sample-studies: {count} synthetic studies under {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("real")
    r.add_argument("out")
    s = sub.add_parser("synthetic")
    s.add_argument("out")
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--instances", type=int, default=1)
    s.add_argument("--source", default="CT_small.dcm")
    args = parser.parse_args()
    if args.mode == "real":
        real(args.out)
    else:
        synthetic(args.out, args.count, args.instances, args.source)


if __name__ == "__main__":
    main()
