#!/usr/bin/env bash
# Sets up (idempotently), builds the app for release and serves it on http://127.0.0.1:${PORT:-8080}/.
# The built site is plain files in dist/: copy them to any static host, under any path.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh serve
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Trunk runs cargo --offline (Trunk.toml): fetch every crate first.
cargo fetch >/dev/null
trunk build --release
# With COOP and COEP headers (scripts/serve.py says why).
exec python3 scripts/serve.py "${PORT:-8080}" dist
