#!/usr/bin/env python3
"""Averages the weights of several unet-web checkpoints of one run (stochastic weight averaging).

    python3 scripts/data/average_checkpoints.py runs/brain/epochs/epoch-1[2-6].unet.safetensors \
        -o runs/brain/swa.unet.safetensors

The brain model's epochs differ a lot on a real head they never saw (the last epochs of one run
moved the held-out Dice by several hundredths from one epoch to the next), while the average of
the last epochs lies in the same basin and is steadier (Izmailov et al., "Averaging Weights Leads
to Wider Optima", UAI 2018). Every tensor, BatchNorm's running statistics included, is the mean
over the inputs in float64, stored as float32; the model card and the other metadata of the LAST
input are kept, with the averaged files named in its provenance. Standard library only: the
files are safetensors (an 8-byte little-endian header length, a JSON header, raw data).
"""
import argparse
import json
import struct
from array import array
from pathlib import Path


def read(path: Path):
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: {key} is {info['dtype']}; only float32 checkpoints average")
        start, end = info["data_offsets"]
        values = array("f")
        values.frombytes(body[start:end])
        tensors[key] = (info["shape"], values)
    return header.get("__metadata__", {}), tensors


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("inputs", nargs="+", type=Path)
    p.add_argument("-o", "--out", type=Path, required=True)
    args = p.parse_args()
    runs = [read(path) for path in args.inputs]
    metadata, first = runs[-1][0], runs[0][1]
    for path, (_, tensors) in zip(args.inputs, runs):
        if {k: s for k, (s, _) in tensors.items()} != {k: s for k, (s, _) in first.items()}:
            raise SystemExit(f"{path}: other tensors or shapes than {args.inputs[0]}")
    header, chunks, offset = {}, [], 0
    for key in sorted(first):
        shape = first[key][0]
        sums = [0.0] * len(first[key][1])
        for _, tensors in runs:
            for i, v in enumerate(tensors[key][1]):
                sums[i] += v
        mean = array("f", (s / len(runs) for s in sums)).tobytes()
        header[key] = dict(dtype="F32", shape=shape, data_offsets=[offset, offset + len(mean)])
        chunks.append(mean)
        offset += len(mean)
    card_key = "unet_web.model_card"
    if card_key in metadata:
        card = json.loads(metadata[card_key])
        names = ", ".join(p.name for p in args.inputs)
        card["provenance"] = f"{card.get('provenance', '')}; shipped weights: the average of {names}"
        metadata = dict(metadata, **{card_key: json.dumps(card)})
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    args.out.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    print(f"averaged {len(runs)} checkpoints into {args.out}")


if __name__ == "__main__":
    main()
