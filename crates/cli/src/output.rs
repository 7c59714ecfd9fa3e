//! Where outputs go and what they are called.

use std::path::{Path, PathBuf};

/// The input's name without its extensions (`scan.png` → `scan`, `brain.nii.gz` → `brain`),
/// as the output files are named (the imaging crate's rule, which the app uses too).
pub fn stem(path: &Path) -> String {
    unet_imaging::file_stem(&path.to_string_lossy())
}

/// `dir/stem.suffix`.
pub fn path_in(dir: &Path, stem: &str, suffix: &str) -> PathBuf {
    dir.join(format!("{stem}.{suffix}"))
}

/// Reads a file, with an error message that names it.
pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))
}

/// Writes a file, with an error message that names it.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// Reads and checks a model file.
pub fn load_model(path: &Path) -> Result<unet::Checkpoint, String> {
    let bytes = read(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    unet::Checkpoint::from_bytes(&bytes, &name).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drop_every_extension_layer_we_write_over() {
        assert_eq!(stem(Path::new("a/b/scan.png")), "scan");
        assert_eq!(stem(Path::new("brain.nii.gz")), "brain");
        assert_eq!(stem(Path::new("v1.2.tiff")), "v1.2");
        assert_eq!(stem(Path::new("README")), "README");
        assert_eq!(stem(Path::new(".hidden")), ".hidden");
    }
}
