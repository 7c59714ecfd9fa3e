//! What the export buttons save: file names and the "everything" zip. Pure functions, so the
//! bytes are tested natively.

use std::collections::BTreeSet;
use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// `scan.tiff` → `scan.mask.png` (the same name `unet predict` writes).
pub fn mask_name(file_name: &str) -> String {
    format!("{}.mask.png", unet_imaging::file_stem(file_name))
}

/// `scan.dcm` → `scan.stats.csv`, `brain.nii.gz` → `brain.stats.csv` (as `unet predict --stats`).
pub fn stats_name(file_name: &str) -> String {
    format!("{}.stats.csv", unet_imaging::file_stem(file_name))
}

/// `scan.tiff` → `scan.overlay.png`.
pub fn overlay_name(file_name: &str) -> String {
    format!("{}.overlay.png", unet_imaging::file_stem(file_name))
}

/// Builds a zip of `(path, bytes)` entries, STORED (PNGs are compressed already, and storing
/// keeps the wasm free of a deflate encoder). Repeated paths get ` (2)`, ` (3)`, … before
/// the extension so no entry hides another.
pub fn zip(entries: &[(String, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    // A fixed timestamp: wasm has no clock the zip crate could read, and fixed bytes are testable.
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(DateTime::default());
    let mut used = BTreeSet::new();
    for (path, bytes) in entries {
        let path = unique(path, &mut used);
        writer
            .start_file(path, options)
            .map_err(|e| e.to_string())?;
        writer.write_all(bytes).map_err(|e| e.to_string())?;
    }
    let cursor = writer.finish().map_err(|e| e.to_string())?;
    Ok(cursor.into_inner())
}

fn unique(path: &str, used: &mut BTreeSet<String>) -> String {
    let mut candidate = path.to_string();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = match path.split_once('.') {
            Some((head, tail)) => format!("{head} ({n}).{tail}"),
            None => format!("{path} ({n})"),
        };
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_cli() {
        assert_eq!(mask_name("brain_01.png"), "brain_01.mask.png");
        assert_eq!(mask_name("dir/a.b.tiff"), "a.b.mask.png");
        assert_eq!(overlay_name("noext"), "noext.overlay.png");
        assert_eq!(stats_name("dir/brain.nii.gz"), "brain.stats.csv");
        assert_eq!(mask_name("dir/brain.nii.gz"), "brain.mask.png");
        assert_eq!(overlay_name(".hidden"), ".hidden.overlay.png");
    }

    #[test]
    fn zip_stores_every_entry_under_a_unique_name() {
        let entries = vec![
            ("masks/a.mask.png".to_string(), vec![1, 2, 3]),
            ("masks/a.mask.png".to_string(), vec![4]),
        ];
        let bytes = zip(&entries).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 2);
        assert_eq!(archive.by_name("masks/a.mask.png").unwrap().size(), 3);
        let entry = archive.by_name("masks/a (2).mask.png").unwrap();
        assert_eq!(entry.compression(), CompressionMethod::Stored);
        assert_eq!(entry.size(), 1);
    }
}
