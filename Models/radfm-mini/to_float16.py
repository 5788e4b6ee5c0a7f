#!/usr/bin/env python3
"""Casts a float32 safetensors file to float16 (numpy only): the shipped default model at half the size.
Values beyond float16's range would become infinite; the script refuses them instead.

Usage: to_float16.py IN.safetensors OUT.safetensors"""
import json
import struct
import sys

import numpy as np


def main(source, target):
    with open(source, "rb") as file:
        (header_size,) = struct.unpack("<Q", file.read(8))
        header = json.loads(file.read(header_size))
        payload = file.read()
    metadata = header.pop("__metadata__", None)
    out_header, chunks, offset = {}, [], 0
    for key in sorted(header):
        entry = header[key]
        if entry["dtype"] != "F32":
            sys.exit(f"{source}: {key} is {entry['dtype']}, expected F32")
        begin, end = entry["data_offsets"]
        values = np.frombuffer(payload[begin:end], dtype="<f4")
        if values.size and np.abs(values).max() > np.finfo(np.float16).max:
            sys.exit(f"{source}: {key} holds values beyond float16's range")
        data = values.astype("<f2").tobytes()
        out_header[key] = {"dtype": "F16", "shape": entry["shape"], "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata is not None:
        out_header["__metadata__"] = metadata
    encoded = json.dumps(out_header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(target, "wb") as file:
        file.write(struct.pack("<Q", len(encoded)) + encoded)
        for chunk in chunks:
            file.write(chunk)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
