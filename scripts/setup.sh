#!/usr/bin/env bash
# Installs what unet-web needs on a fresh Debian machine, idempotently: a second run only checks.
#   scripts/setup.sh test    - what the tests need (wasm target, Mesa Vulkan, Chromium, Trunk,
#                              the MNI template in data/mni, ...)
#   scripts/setup.sh serve   - what building and serving the app needs
#   scripts/setup.sh python  - .venv with torch & co, only to regenerate fixtures
#   scripts/setup.sh fuzz    - optional: nightly + cargo-fuzz and the fuzz seeds (crates/imaging/fuzz)
# Nothing is downloaded from outside the package registries (crates.io, npm, PyPI, Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-test}"

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132.0.0

log() { printf '[setup] %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

rust_targets() {
  rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  # The threaded module rebuilds std with atomics (scripts/build-threads.sh).
  rustup component list --installed | grep -qx rust-src || rustup component add rust-src
}

# wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock, or the JS glue breaks.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock
}

web_tools() {
  if [ "$(trunk --version 2>/dev/null || true)" != "trunk $TRUNK_VERSION" ]; then
    log "cargo install trunk $TRUNK_VERSION (about 15-20 minutes, once)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
  fi
  local wb; wb="$(wasm_bindgen_version)"
  if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $wb" ]; then
    # Without --locked: wasm-bindgen-cli's own lockfile pins a crate version the registry lacks.
    log "cargo install wasm-bindgen-cli $wb (about 5-10 minutes, once)"
    cargo install wasm-bindgen-cli --version "$wb"
  fi
  # Debian's binaryen 108 writes broken wasm; npm's 132 works. Installed under .tools/.
  if [ ! -x .tools/node_modules/.bin/wasm-opt ]; then
    log "npm install binaryen@$BINARYEN_VERSION"
    mkdir -p .tools
    npm install --silent --prefix .tools "binaryen@$BINARYEN_VERSION" >/dev/null
  fi
}

browser_tools() {
  apt_install chromium chromium-driver
  if [ -f tests/e2e/package.json ] && [ ! -d tests/e2e/node_modules/playwright-core ]; then
    log "npm ci (tests/e2e: playwright-core, used with Debian's Chromium)"
    (cd tests/e2e && npm ci --silent --no-audit --no-fund >/dev/null)
  fi
}

case "$what" in
  test)
    rust_targets
    # cmake builds CharLS, the native JPEG-LS decoder for DICOM.
    apt_install mesa-vulkan-drivers cmake
    web_tools
    browser_tools
    # The MNI template (nilearn wheel, PyPI): the brain model's tests and training read it.
    scripts/data/fetch_mni.sh
    # Real whole heads (pydeface's mean head, PyPI; Colin27, Debian's mricron-data): the brain
    # model's training data and its held-out test head.
    scripts/data/fetch_heads.sh
    # Real DICOM and NIfTI test files (pydicom and nibabel wheels, PyPI) for crates/imaging's tests.
    scripts/data/fetch_fixtures.sh
    # highdicom (PyPI, MIT) reads the DICOM SEG exports back in crates/cli/tests/dicom_seg.rs.
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -c 'import highdicom, nibabel' 2>/dev/null ||
      .venv/bin/pip install -q highdicom==0.28.2 pydicom==3.0.2 nibabel==5.4.2 numpy==2.4.6
    ;;
  serve)
    rust_targets
    # cmake builds CharLS (the native JPEG-LS decoder), so the README's CLI build works too.
    apt_install cmake
    web_tools
    ;;
  python)
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/pip install -q -r scripts/requirements.txt
    ;;
  fuzz)
    # Not part of `test`: only for running crates/imaging/fuzz/ and crates/unet/fuzz/ (see their README.md).
    rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
    if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
      log "cargo +nightly install cargo-fuzz (a few minutes, once)"
      cargo +nightly install cargo-fuzz --locked
    fi
    # cmake builds CharLS, the native JPEG-LS decoder the DICOM target links.
    apt_install cmake
    scripts/data/fetch_fixtures.sh
    python3 crates/imaging/fuzz/seed_corpus.py
    python3 crates/unet/fuzz/seed_corpus.py
    ;;
  *) echo "usage: $0 test|serve|python|fuzz" >&2; exit 2 ;;
esac
log "ok ($what)"
