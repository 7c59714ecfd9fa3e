#!/usr/bin/env python3
"""Adds the page's Content-Security-Policy to the built index.html (Trunk's post_build hook).

The policy is what "no pixel leaves the machine" means to the browser: the page may connect to
its own origin only (`connect-src 'self'`: the wasm, models and samples), so no script on it
could send an image anywhere else. Scripts run only from the page's origin or as the exact
inline scripts of the build, named by their SHA-256 (Trunk's module loader and index.html's
trap listener); WebAssembly may be compiled ('wasm-unsafe-eval'); styles may be inline because
Leptos sets style attributes. A static host needs no header for this: it is a <meta> tag.

Usage: scripts/csp.py [INDEX.html]   (default: $TRUNK_STAGING_DIR/index.html)
"""

import base64
import hashlib
import os
import re
import sys

INLINE_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script>", re.S)
META = '<meta http-equiv="Content-Security-Policy" content="{}">'


def policy(html):
    hashes = []
    for script in INLINE_SCRIPT.finditer(html):
        if re.search(r"\ssrc\s*=", script["attrs"]):
            continue
        digest = hashlib.sha256(script["body"].encode("utf-8")).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return "; ".join([
        "default-src 'none'",
        " ".join(["script-src 'self' 'wasm-unsafe-eval'"] + hashes),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
    ])


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.environ["TRUNK_STAGING_DIR"], "index.html")
    with open(path, encoding="utf-8") as f:
        html = f.read()
    html = re.sub(r'\s*<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    # Right after <meta charset>: a policy applies only to what follows it.
    charset = re.search(r"<meta charset=[^>]*>", html, re.I)
    if charset is None:
        sys.exit(f"{path}: no <meta charset> to put the policy after")
    tag = META.format(policy(html))
    html = html[: charset.end()] + "\n  " + tag + html[charset.end():]
    with open(path, "w", encoding="utf-8") as f:
        f.write(html)
    print(f"csp.py: {path}: {tag.count('sha256-')} inline scripts allowed by hash")


if __name__ == "__main__":
    main()
