#!/usr/bin/env python3
"""Writes the built site's service worker (Trunk's post_build hook, after csp.py).

src/web/pwa/sw.js is the template: this fills in the list of every file of the build (so the
worker can store the whole app for offline use) and a version made from their contents (so a
new build replaces the old store). Paths are relative, like the rest of the build: the site
works from any subpath.

Usage: scripts/pwa.py [SITE_DIR]   (default: $TRUNK_STAGING_DIR)
"""

import hashlib
import json
import os
import sys

TEMPLATE = os.path.join(os.path.dirname(__file__), "..", "src", "web", "pwa", "sw.js")
WORKER = "sw.js"


def site_files(root):
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if path != WORKER:
                yield path


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.environ["TRUNK_STAGING_DIR"]
    files = sorted(site_files(root))
    version = hashlib.sha256()
    for path in files:
        with open(os.path.join(root, path), "rb") as f:
            version.update(path.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    with open(TEMPLATE, encoding="utf-8") as f:
        worker = f.read()
    worker = worker.replace("'__VERSION__'", json.dumps(version.hexdigest()[:16]))
    worker = worker.replace("__FILES__", json.dumps(["./" + p for p in files], indent=2))
    with open(os.path.join(root, WORKER), "w", encoding="utf-8") as f:
        f.write(worker)
    print(f"pwa.py: {root}/{WORKER}: {len(files)} files for offline use")


if __name__ == "__main__":
    main()
