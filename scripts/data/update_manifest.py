#!/usr/bin/env python3
"""Writes each bundled model's size and SHA-256 into assets/models/manifest.json.

The page checks every downloaded model against these (src/manifest.rs, ModelEntry::verify), and
`cargo test` fails while they differ from the files, so run this after changing a bundled model
(scripts/data/ship_brain_model.sh does). Standard library only.

    python3 scripts/data/update_manifest.py
"""
import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = ROOT / "assets" / "models"


def main() -> None:
    path = MODELS / "manifest.json"
    manifest = json.loads(path.read_text())
    for entry in manifest["models"]:
        data = (MODELS / entry["file"]).read_bytes()
        entry["bytes"] = len(data)
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        print(f"{entry['file']}: {len(data)} bytes, sha256 {entry['sha256'][:12]}…")
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
