#!/usr/bin/env bash
# Builds the CPU path's threaded module (crates/engine-threads) into SITE_DIR/threads/: Trunk's
# post_build hook runs it, so every build of the site has it (src/engine/threads/ says why it is
# a module of its own).
#
# wasm threads need atomics and a shared memory in the module and in the standard library, so
# std is rebuilt with them (-Z build-std, from the toolchain's rust-src component, which
# rust-toolchain.toml names). RUSTC_BOOTSTRAP lets the project's stable compiler take the -Z
# flag: no other toolchain is needed. The memory may grow to 4 GiB, wasm32's limit (a 1024²
# tile of the classic U-Net needs about 1.5 GiB).
#
# Usage: scripts/build-threads.sh SITE_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
site="${1:?usage: scripts/build-threads.sh SITE_DIR}"
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/threads"
link=(--shared-memory --import-memory --max-memory=4294967296
  --export=__wasm_init_tls --export=__tls_size --export=__tls_align --export=__tls_base)
rustflags="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128"
for arg in "${link[@]}"; do rustflags+=" -C link-arg=$arg"; done
# Not linted through clippy's wrapper (scripts/test.sh sets it): rustc warns that `atomics` is
# an unstable target feature in every crate, which -D warnings would turn into an error.
env -u RUSTC_WORKSPACE_WRAPPER RUSTC_BOOTSTRAP=1 RUSTFLAGS="$rustflags" \
  cargo build --quiet -p unet-engine-threads --target wasm32-unknown-unknown \
  --profile wasm-release -Z build-std=panic_abort,std --target-dir "$target_dir" 2>&1 |
  { grep -vE "unstable feature specified for .-Ctarget-feature.: .atomics.|this feature is not stably supported|^ *\|? *$|^ *= note: |generated 1 warning" || true; }
rm -rf "$site/threads"
wasm-bindgen --target web --no-typescript --out-dir "$site/threads" \
  "$target_dir/wasm32-unknown-unknown/wasm-release/unet_engine_threads.wasm"
echo "build-threads.sh: $site/threads ($(du -sh "$site/threads" | cut -f1))"
