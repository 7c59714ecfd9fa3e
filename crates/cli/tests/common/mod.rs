//! Helpers shared by the `unet` binary's test files.
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the model crate's PyTorch parity fixtures (small U-Nets, their inputs and logits).
pub fn parity_fixture(name: &str) -> PathBuf {
    root().join("crates/unet/tests/fixtures/parity").join(name)
}

/// Runs the `unet` binary built for these tests.
pub fn unet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_unet"))
        .args(args)
        .output()
        .expect("unet runs")
}

/// A fresh, empty folder for one test.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("unet-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Lossy UTF-8 of a process output stream.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(run: &Output) -> String {
    assert!(
        run.status.success(),
        "{}{}",
        text(&run.stdout),
        text(&run.stderr)
    );
    text(&run.stdout)
}
