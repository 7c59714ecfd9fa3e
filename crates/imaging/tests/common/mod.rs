//! Fixture access shared by the imaging crate's test files.
#![allow(dead_code)] // each test file uses its own subset

use std::path::PathBuf;

/// `data/fixtures/KIND`, fetched by `scripts/data/fetch_fixtures.sh`.
pub fn fixtures(kind: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/fixtures")
        .join(kind);
    assert!(
        dir.is_dir(),
        "{} is missing: run scripts/data/fetch_fixtures.sh",
        dir.display()
    );
    dir
}

/// The bytes of fixture `file` of `kind` (pydicom or nibabel).
pub fn read(kind: &str, file: &str) -> Vec<u8> {
    std::fs::read(fixtures(kind).join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}
