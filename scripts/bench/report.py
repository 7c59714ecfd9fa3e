#!/usr/bin/env python3
"""Writes the native benchmark's results (from scripts/bench/native.sh) into BENCHMARKS.md.

    report.py RESULTS.tsv MACHINE.json BENCHMARKS.md

RESULTS.tsv has one line per measured process: peer, model label, size, 1-minute load average when
it started, peak RSS in KiB (`/usr/bin/time -v`), and the `key=value` line the process printed.
The table replaces whatever lies between the two markers below; the rest of the file is kept (a
missing file or missing markers get a new section at the end).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

BEGIN = "<!-- native-bench:begin (scripts/bench/native.sh writes this part; edits are lost) -->"
END = "<!-- native-bench:end -->"
PEERS = ["unet", "unet-burn", "pytorch", "onnxruntime", "unet-wgpu", "pytorch-cuda"]
NAMES = {"unet": "unet (folded, gemm)", "unet-burn": "unet on burn's flex backend",
         "unet-wgpu": "unet on burn Wgpu (GPU)", "pytorch-cuda": "PyTorch CUDA (GPU)"}
# Whose time each row is compared with: GPU rows with unet's GPU row, the rest with unet's CPU row.
BASE = {"pytorch-cuda": "unet-wgpu"}


def parse_line(line: str) -> dict:
    return dict(re.findall(r"(\w+)=(\S+)", line))


def load(path: Path) -> dict:
    rows = {}
    for raw in path.read_text().splitlines():
        if not raw.strip():
            continue
        peer, label, size, load1, rss_kb, line = raw.split("\t", 5)
        rows[(label, size, peer)] = dict(load1=float(load1), rss_mb=int(rss_kb) / 1024, **parse_line(line))
    return rows


def fmt_ms(v) -> str:
    return f"{float(v):,.0f}" if float(v) >= 100 else f"{float(v):.1f}"


def table(rows: dict, machine: dict) -> str:
    out = []
    m = machine
    out.append(f"Run of {m['date']} (`scripts/bench/native.sh`, commit `{m['commit']}`"
               f"{', with uncommitted changes' if m['dirty'] else ''}; `unet` {m.get('unet_build', '?')}).\n")
    out.append(f"- Machine: {m['cpu']}, `nproc` = {m['nproc']}, {m['mem_gib']} GiB RAM, {m['kernel']}.")
    for key, text in m["labels"].items():
        out.append(f"- Model `{key}`: {text}.")
    out.append(f"- Threads: {m['threads']} for every runtime (`RAYON_NUM_THREADS` for unet, "
               f"`torch.set_num_threads`, ORT `intra_op_num_threads`).")
    out.append(f"- Spinning: {m['spin_note']}")
    if m.get("gpu") != "1":
        out.append("- GPU: torch saw no CUDA GPU on this machine, so the GPU rows (burn Wgpu against "
                   "PyTorch CUDA) were skipped; on a machine with one, the same command adds them.")
    out.append(f"- Versions: {m['rustc']}; burn {m['burn']} (`flex` CPU backend); Python {m['python']}; "
               f"torch {m['torch']}; onnxruntime {m['ort']}; onnx {m['onnx']}.")
    out.append(f"- Runs: one warm-up, then {m['runs_256']} timed passes at 256×256 and {m['runs_512']} at "
               f"512×512; median (upper middle for an even count), min, max in ms.")
    load_note = ""
    if max(m["load_before"][0], m["load_after"][0], *(r["load1"] for r in rows.values())) > 1:
        load_note = (f" **The machine was not idle: load above 1 means other processes (other "
                     f"builds) shared the {m['nproc']} cores, so the times below can be slower and noisier "
                     f"than on an idle machine. The ratios come from one run, but contention does "
                     f"not slow every runtime alike, so read them as indicative; rerun on an idle "
                     f"machine for the record.**")
    out.append(f"- Load average (1, 5, 15 min): {' '.join(map(str, m['load_before']))} before, "
               f"{' '.join(map(str, m['load_after']))} after.{load_note}")
    out.append("")
    out.append("| model | size | GFLOP | runtime | median ms | min ms | max ms | GFLOP/s | peak RSS MB | load | unet / this |")
    out.append("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    keys = sorted({(label, size) for label, size, _ in rows}, key=lambda k: (k[0] != "classic", k[1]))
    for label, size in keys:
        torch_row = rows.get((label, size, "pytorch"), {})
        gflop = float(torch_row.get("gflop", "nan"))
        for peer in PEERS:
            r = rows.get((label, size, peer))
            if r is None:
                continue
            med = float(r["median_ms"])
            base = BASE.get(peer, "unet")
            base_row = rows.get((label, size, base))
            ratio = ("" if peer in ("unet", "unet-wgpu") or base_row is None
                     else f"**{float(base_row['median_ms']) / med:.2f}**")
            name = NAMES.get(peer, peer)
            if peer == "onnxruntime":
                name += f" (Δ vs torch {r.get('max_rel_diff_vs_torch', '?')})"
            out.append(f"| {label} | {size} | {gflop:.1f} | {name} | {fmt_ms(med)} | "
                       f"{fmt_ms(r['min_ms'])} | {fmt_ms(r['max_ms'])} | {gflop / (med / 1e3):.1f} | "
                       f"{r['rss_mb']:,.0f} | {r['load1']:.1f} | {ratio} |")
    out.append("")
    out.append("`unet / this` = unet's median ÷ that runtime's median (the issue's goal: ≤ 1.0; a GPU row "
               "is compared with unet's GPU row). GFLOP counts "
               "the convolutions only (2 × multiply-adds, from the layer shapes: `peers.py flops`); "
               "`load` is the 1-minute load average when that process started; Δ vs torch is "
               "max |ORT − torch| / max |torch| on the same input (must be ≤ 1e-3). "
               "`unet (folded, gemm)` is what `unet` runs on the CPU (`crates/unet/src/cpu`); "
               "`unet on burn's flex backend` is `--cpu-engine burn`, the same weights in burn's module.")
    large = os.environ.get("LARGE_RESULTS")
    if large and Path(large).exists() and Path(large).read_text().strip():
        out.append("")
        out.append(large_table(Path(large)))
    return "\n".join(out)


def large_table(path: Path) -> str:
    """Tiled against whole-image masks, and time and peak RSS of `unet predict` on large images."""
    import numpy as np
    from PIL import Image

    runs = [line.split("\t") for line in path.read_text().splitlines() if line.strip()]
    masks = {(name, int(side)): Path(mask) for name, side, _, _, _, mask in runs}
    out = ["Large images: `unet predict` with the default model on `t1_head_axial.png` scaled up "
           "(bilinear), default tiling (`--tile 1024 --tile-overlap 128`) unless `--tile 0`.", "",
           "| run | image | wall s | peak RSS MB | load | tiled vs whole mask |",
           "|---|---|---:|---:|---:|---:|"]
    for name, side, load1, rss_kb, ms, mask in runs:
        side = int(side)
        agree = ""
        whole = masks.get(("whole", side))
        if name == "tiled" and whole is not None:
            a = np.asarray(Image.open(whole)) > 0
            b = np.asarray(Image.open(mask)) > 0
            same = float((a == b).mean())
            agree = f"**{same * 100:.3f} %** of {a.size:,} pixels agree ({int((a != b).sum()):,} differ)"
        label = "whole image (`--tile 0`)" if name == "whole" else "tiled"
        out.append(f"| {label} | {side}×{side} | {int(ms) / 1e3:.1f} | {int(rss_kb) / 1024:,.0f} | "
                   f"{float(load1):.1f} | {agree} |")
    return "\n".join(out)


def main() -> int:
    results, machine, bench = map(Path, sys.argv[1:4])
    section = f"{BEGIN}\n{table(load(results), json.loads(machine.read_text()))}\n{END}"
    text = bench.read_text() if bench.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n## Native CPU: latest run\n\n" + section + "\n"
    bench.write_text(text)
    print(f"wrote {bench}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
