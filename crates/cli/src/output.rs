//! Where outputs go and what they are called.

use anyhow::{anyhow, bail, Context};
use std::collections::HashSet;
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
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))
}

/// Writes a file atomically: into a temporary file beside it, then renamed over it, so an
/// interrupted run never leaves a half-written mask or model under the real name.
pub fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let temp = path.with_file_name(format!(
        ".{}.{}.partial",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let fail = |e: std::io::Error| anyhow!("{}: cannot write: {e}", path.display());
    std::fs::write(&temp, bytes).map_err(fail)?;
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        fail(e)
    })
}

/// Where a run may write: never over one of its inputs, never over a file that was there
/// before the run (unless `--force`), and never twice to one name, compared case-folded since
/// macOS and Windows file systems treat `Scan` and `scan` as one file.
pub struct Outputs {
    force: bool,
    inputs: HashSet<PathBuf>,
    written: HashSet<String>,
}

impl Outputs {
    /// Guards the outputs of a run that reads `inputs` (files or folders).
    pub fn new(inputs: &[PathBuf], force: bool) -> Outputs {
        Outputs {
            force,
            inputs: inputs
                .iter()
                .filter_map(|p| p.canonicalize().ok())
                .collect(),
            written: HashSet::new(),
        }
    }

    /// Checks that `path` may be written by this run, and records it.
    pub fn claim(&mut self, path: &Path) -> anyhow::Result<()> {
        let canonical = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .canonicalize()
            .map(|dir| dir.join(path.file_name().unwrap_or_default()))
            .unwrap_or_else(|_| path.to_path_buf());
        let exists = std::fs::symlink_metadata(path).is_ok();
        // A file inside an input folder is an input too (the folder's walk reads it).
        if self.inputs.iter().any(|input| {
            input == &canonical
                || canonical.canonicalize().is_ok_and(|c| &c == input)
                || (exists && input.is_dir() && canonical.starts_with(input))
        }) {
            bail!(
                "{}: is an input of this run; write the output elsewhere (another --out or -o)",
                path.display()
            );
        }
        let key = canonical.to_string_lossy().to_lowercase();
        if self.written.contains(&key) {
            bail!(
                "{}: this run already wrote a file of that name (names are compared ignoring case)",
                path.display()
            );
        }
        if !self.force && exists {
            bail!(
                "{}: exists and this run did not write it; pass --force to overwrite it, or choose another output",
                path.display()
            );
        }
        self.written.insert(key);
        Ok(())
    }

    /// [`Outputs::claim`], then [`write`].
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
        self.claim(path)?;
        write(path, bytes)
    }
}

/// Reads and checks a model file.
pub fn load_model(path: &Path) -> anyhow::Result<unet::Checkpoint> {
    let bytes = read(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    unet::Checkpoint::from_bytes(&bytes, &name).with_context(|| format!("{}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_never_replace_inputs_old_files_or_their_own() {
        let dir = std::env::temp_dir().join(format!("unet-outputs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("scan.png");
        let old = dir.join("old.mask.png");
        std::fs::write(&input, b"input").unwrap();
        std::fs::write(&old, b"old").unwrap();

        let mut outputs = Outputs::new(std::slice::from_ref(&input), false);
        let err = outputs.write(&dir.join("./scan.png"), b"x").unwrap_err();
        assert!(err.to_string().contains("is an input"), "{err}");
        let err = outputs.write(&old, b"x").unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        outputs.write(&dir.join("new.mask.png"), b"1").unwrap();
        let err = outputs.write(&dir.join("NEW.mask.png"), b"2").unwrap_err();
        assert!(err.to_string().contains("ignoring case"), "{err}");
        assert_eq!(std::fs::read(&input).unwrap(), b"input");
        assert_eq!(std::fs::read(&old).unwrap(), b"old");

        let mut forced = Outputs::new(std::slice::from_ref(&input), true);
        forced.write(&old, b"new").unwrap();
        assert_eq!(std::fs::read(&old).unwrap(), b"new");
        assert!(
            forced.write(&input, b"x").is_err(),
            "--force never replaces an input"
        );
        let leftovers = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".partial")
            })
            .count();
        assert_eq!(leftovers, 0, "no temporary files left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn stems_drop_every_extension_layer_we_write_over() {
        assert_eq!(stem(Path::new("a/b/scan.png")), "scan");
        assert_eq!(stem(Path::new("brain.nii.gz")), "brain");
        assert_eq!(stem(Path::new("v1.2.tiff")), "v1.2");
        assert_eq!(stem(Path::new("README")), "README");
        assert_eq!(stem(Path::new(".hidden")), ".hidden");
    }
}
