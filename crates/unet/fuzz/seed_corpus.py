#!/usr/bin/env python3
"""Fills corpus/checkpoint_from_bytes/ with seeds, all real files already in the repository:
the tiny torch.save checkpoints of crates/unet/tests/fixtures/pth (pickle variants: float16,
big-endian, nested, deflated, legacy, ...), the parity U-Nets of tests/fixtures/parity (.pth and
.safetensors, 0.3-2 MB) and the bundled models of assets/models (the project's format with its
model card, 1.1 and 4.3 MB, so multi-MB inputs are in the corpus from the start).
Standard library only. Idempotent."""
import shutil
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parents[2]
OUT = FUZZ / "corpus" / "checkpoint_from_bytes"
MAX_LEN = 8 << 20  # README.md's -max_len

SOURCES = [
    ROOT / "crates/unet/tests/fixtures/pth",
    ROOT / "crates/unet/tests/fixtures/parity",
    ROOT / "assets/models",
]

OUT.mkdir(parents=True, exist_ok=True)
count = 0
for folder in SOURCES:
    for path in sorted(folder.iterdir()):
        if path.suffix in (".pth", ".safetensors") and path.stat().st_size <= MAX_LEN:
            shutil.copyfile(path, OUT / f"{folder.name}-{path.name}")
            count += 1
print(f"{count} seeds in {OUT}")
