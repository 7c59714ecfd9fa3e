#!/usr/bin/env python3
"""Serves a built site (default dist/) on 127.0.0.1 with the headers a good host would send.

- Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, so the
  page is cross-origin isolated from the first visit (SharedArrayBuffer, wasm threads). Hosts
  that cannot set headers get the same from the app's service worker from the second visit on.
- `no-cache` on the page and the service worker, so a new build is seen at once; the other files
  have content hashes in their names or are checked against the manifest.

Usage: scripts/serve.py [PORT] [DIR]
"""

import functools
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".webmanifest": "application/manifest+json",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
    }

    def end_headers(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        path = self.path.split("?", 1)[0]
        if path.endswith(("/", ".html", "sw.js")):
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    root = sys.argv[2] if len(sys.argv) > 2 else "dist"
    handler = functools.partial(Handler, directory=root)
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"serving {root}/ on http://127.0.0.1:{port}/ (cross-origin isolated; Ctrl-C to stop)")
        server.serve_forever()


if __name__ == "__main__":
    main()
