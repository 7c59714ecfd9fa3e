//! What `unet predict` and `unet info` were given, decoded: files of any format, and folders of
//! DICOM files. DICOM files are grouped into series the way the app groups a drop, whether they
//! come as a folder or as separate arguments.

use std::path::{Path, PathBuf};

use unet_imaging::{decode_file, decode_files, file_stem, is_dicom, Decoded, DecodedGroup};

/// One decoded input (a file, or a series of DICOM files).
pub struct Input {
    /// Shown in messages: the path given, or the folder of a series.
    pub label: String,
    /// Output name: the file name without extensions, or the series' folder name.
    pub stem: String,
    /// The pixels, or a one-line message saying why not.
    pub decoded: Result<Decoded, String>,
}

/// Reads and decodes every path. In a folder, files that are not DICOM images (a DICOMDIR,
/// a report, a README) are passed over with a note, unless nothing in it is an image.
pub fn gather(paths: &[PathBuf]) -> Vec<Input> {
    let mut inputs = Vec::new();
    let mut dicom_files: Vec<(String, Vec<u8>)> = Vec::new();
    for path in paths {
        let label = path.display().to_string();
        if path.is_dir() {
            inputs.extend(folder(path));
            continue;
        }
        match std::fs::read(path) {
            Err(e) => inputs.push(Input {
                stem: file_stem(&label),
                label,
                decoded: Err(format!("cannot read: {e}")),
            }),
            Ok(bytes) if is_dicom(&bytes) => dicom_files.push((label, bytes)),
            Ok(bytes) => inputs.push(Input {
                stem: file_stem(&label),
                decoded: decode_file(&bytes).map_err(|e| e.to_string()),
                label,
            }),
        }
    }
    for group in decode_files(dicom_files) {
        // A single file keeps its path in messages; a series is named by its stem.
        let label = group.single_source().unwrap_or(&group.name).to_string();
        inputs.push(Input {
            label,
            stem: group.name,
            decoded: group.result.map_err(|e| e.to_string()),
        });
    }
    inputs
}

/// Every file under `dir` (sorted, recursively), decoded together so series form.
fn folder(dir: &Path) -> Vec<Input> {
    let label = dir.display().to_string();
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "series".into());
    let mut files = Vec::new();
    if let Err(e) = walk(dir, &name, &mut files) {
        return vec![Input {
            label,
            stem: name,
            decoded: Err(format!("cannot read the folder: {e}")),
        }];
    }
    let results = decode_files(files);
    let any_image = results.iter().any(|group| group.result.is_ok());
    let mut inputs = Vec::new();
    for DecodedGroup {
        name: stem, result, ..
    } in results
    {
        match result {
            Err(e) if any_image => eprintln!("note: {label}: skipped {stem}: {e}"),
            result => inputs.push(Input {
                label: label.clone(),
                stem,
                decoded: result.map_err(|e| e.to_string()),
            }),
        }
    }
    if inputs.is_empty() {
        inputs.push(Input {
            label,
            stem: name,
            decoded: Err("the folder holds no files".into()),
        });
    }
    inputs
}

/// Appends `(prefix/relative/path, bytes)` for every file under `dir`, in name order, without
/// following symlinked folders.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = format!("{prefix}/{}", entry.file_name().to_string_lossy());
        let path = entry.path();
        // The entry's own type, not its target's: a symlinked folder is passed over, so a link
        // back up the tree cannot make the walk endless; a symlinked file is read.
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, &name, out)?;
        } else if !(kind.is_symlink() && path.is_dir()) {
            out.push((name, std::fs::read(&path)?));
        }
    }
    Ok(())
}
