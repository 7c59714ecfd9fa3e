//! Any dropped file or folder to one typed result: a 2-D [`crate::Image`] or a [`crate::Volume`], with what the
//! file said about itself ([`FileInfo`]: format, modality, display window, ...).
//!
//! The app's drop zone and the CLI both go through [`decode_files`], so a DICOM series dropped in
//! the browser and the same folder given to `unet predict` are grouped, sorted and oriented the
//! same way.

use std::collections::BTreeMap;

use crate::decoded::{Content, Decoded, DecodedGroup, FileInfo};
use crate::dicom;
use crate::error::ImagingError;
use crate::{decode_image, decode_nifti, is_nifti, MAX_VOXELS};

/// Decodes one file of any supported format, sniffed from its bytes: NIfTI, DICOM (with or
/// without the 128-byte preamble), or PNG/JPEG/BMP/TIFF/WebP.
///
/// # Errors
/// The format's own [`ImagingError`]; bytes that match no format give
/// [`ImagingError::UnknownFormat`].
pub fn decode_file(bytes: &[u8]) -> Result<Decoded, ImagingError> {
    if dicom::is_dicom(bytes) {
        return dicom::decode_dicom(bytes);
    }
    if is_nifti(bytes) && !is_raster(bytes) {
        let volume = decode_nifti(bytes)?;
        let info = FileInfo {
            format: format!("NIfTI-{}", volume.version),
            files: 1,
            ..FileInfo::default()
        };
        return Ok(Decoded {
            content: Content::Volume(volume),
            info,
        });
    }
    let image = decode_image(bytes)?;
    let info = FileInfo {
        format: image.format.to_string(),
        files: 1,
        ..FileInfo::default()
    };
    Ok(Decoded {
        content: Content::Image(image),
        info,
    })
}

/// Decodes several files dropped or named together. DICOM files are grouped into series (by
/// Series Instance UID, then by slice size and orientation, so a mixed drop splits), each
/// series sorted along its slice normal and stacked into one volume; every other file stands
/// alone. Each result is named by [`file_stem`] of its file, or for a series by the folder its
/// files share (else the first file's stem). Order: as given, a series where its first file was;
/// files of a series that does not stack (the same instance or position twice) come last.
pub fn decode_files(files: Vec<(String, Vec<u8>)>) -> Vec<DecodedGroup> {
    // Every DICOM header is read first, so that a series too large to hold is refused before
    // any of its slices is decoded.
    let parsed: Vec<(String, Parsed)> = files
        .into_iter()
        .map(|(name, bytes)| {
            let parsed = if dicom::is_dicom(&bytes) {
                Parsed::Dicom(dicom::read_header(&bytes).map(Box::new))
            } else {
                Parsed::Other(bytes)
            };
            (name, parsed)
        })
        .collect();
    let mut sizes: BTreeMap<dicom::SeriesKey, (u64, Vec<&str>)> = BTreeMap::new();
    for (name, parsed) in &parsed {
        if let Parsed::Dicom(Ok(h)) = parsed {
            if !h.stackable() {
                continue;
            }
            let entry = sizes.entry(h.series_key()).or_default();
            entry.0 += h.samples();
            entry.1.push(name);
        }
    }
    let too_large: BTreeMap<dicom::SeriesKey, (Vec<String>, u64)> = sizes
        .into_iter()
        .filter(|(_, (total, _))| *total > MAX_VOXELS)
        .map(|(key, (total, names))| (key, (names.into_iter().map(String::from).collect(), total)))
        .collect();

    let alone = |name: String, result| DecodedGroup {
        name: file_stem(&name),
        sources: vec![name],
        result,
    };
    let mut out: Vec<DecodedGroup> = Vec::new();
    let mut refused = std::collections::BTreeSet::new();
    let mut series: BTreeMap<dicom::SeriesKey, (usize, Vec<(String, dicom::Slice)>)> =
        BTreeMap::new();
    for (name, parsed) in parsed {
        let header = match parsed {
            Parsed::Other(bytes) => {
                out.push(alone(name, decode_file(&bytes)));
                continue;
            }
            Parsed::Dicom(Ok(h)) => h,
            Parsed::Dicom(Err(e)) => {
                out.push(alone(name, Err(e)));
                continue;
            }
        };
        if header.stackable() {
            let key = header.series_key();
            if let Some((names, total)) = too_large.get(&key) {
                if refused.insert(key) {
                    out.push(DecodedGroup {
                        name: series_name(names.iter().map(String::as_str)),
                        sources: names.clone(),
                        result: Err(ImagingError::Dicom(format!(
                            "the series has {total} voxels, more than the limit of {MAX_VOXELS}: load fewer slices or a cropped series"
                        ))),
                    });
                }
                continue;
            }
        }
        match header.decode() {
            Ok(slice) if slice.stackable() => {
                let key = slice.series_key();
                let slot = out.len();
                let entry = series.entry(key).or_insert_with(|| (slot, Vec::new()));
                if entry.1.is_empty() {
                    // Placeholder, replaced once the whole series is known.
                    out.push(DecodedGroup {
                        name: String::new(),
                        sources: Vec::new(),
                        result: Err(ImagingError::Empty),
                    });
                }
                entry.1.push((name, slice));
            }
            Ok(slice) => out.push(alone(name, slice.decode())),
            Err(e) => out.push(alone(name, Err(e))),
        }
    }
    let mut apart = Vec::new();
    for (_, (slot, mut named)) in series {
        let slices: Vec<&dicom::Slice> = named.iter().map(|(_, s)| s).collect();
        if named.len() == 1 || !dicom::is_stack(&slices) {
            // Not a volume (one file, or the same place twice): each file is its own image.
            let (first_name, first) = named.remove(0);
            out[slot] = alone(first_name, first.into_decoded());
            apart.extend(named.into_iter().map(|(n, s)| alone(n, s.into_decoded())));
            continue;
        }
        let name = series_name(named.iter().map(|(n, _)| n.as_str()));
        let (sources, slices): (Vec<String>, Vec<dicom::Slice>) = named.into_iter().unzip();
        out[slot] = DecodedGroup {
            name,
            sources,
            result: dicom::stack(slices),
        };
    }
    out.extend(apart);
    out
}

/// A file of a drop after its first reading: a DICOM header, or bytes of another format.
enum Parsed {
    Dicom(Result<Box<dicom::Header>, ImagingError>),
    Other(Vec<u8>),
}

/// The name a result is saved under: the file name without folders and without its
/// extensions (`brain.nii.gz` → `brain`, `IM0001.dcm` → `IM0001`).
pub fn file_stem(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    for ext in [".nii.gz", ".nii", ".dcm", ".dicom", ".ima"] {
        if lower.ends_with(ext) && base.len() > ext.len() {
            return base[..base.len() - ext.len()].to_string();
        }
    }
    match base.rfind('.') {
        Some(dot) if dot > 0 => base[..dot].to_string(),
        _ => base.to_string(),
    }
}

/// A series is named by the folder all its files share, else by its first file.
fn series_name<'a>(mut names: impl Iterator<Item = &'a str>) -> String {
    let first = names.next().unwrap_or("series");
    let folder = |n: &'a str| n.rsplit_once(['/', '\\']).map(|(dir, _)| dir);
    let shared = folder(first);
    if shared.is_some() && names.all(|n| folder(n) == shared) {
        let dir = shared.unwrap_or_default();
        let last = dir.rsplit(['/', '\\']).next().unwrap_or(dir);
        if !last.is_empty() {
            return last.to_string();
        }
    }
    file_stem(first)
}

/// Whether the bytes start like one of the raster formats (a gzip wrapper is never one).
fn is_raster(bytes: &[u8]) -> bool {
    image::guess_format(bytes).is_ok() && !bytes.starts_with(&[0x1f, 0x8b])
}

/// The anatomical direction each voxel axis points to, as three letters (nibabel's
/// `aff2axcodes`: `RAS` means i → Right, j → Anterior, k → Superior).
pub fn orientation_codes(affine: &[[f64; 4]; 4]) -> String {
    const LETTERS: [(char, char); 3] = [('R', 'L'), ('A', 'P'), ('S', 'I')];
    let mut used = [false; 3];
    let mut codes = ['?'; 3];
    // Strongest pairs first, as the slicer does, so the result is a permutation.
    let mut pairs: Vec<(f64, usize, usize)> = (0..3)
        .flat_map(|v| (0..3).map(move |w| (affine[w][v].abs(), v, w)))
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut done = [false; 3];
    for (size, v, w) in pairs {
        if done[v] || used[w] || size == 0.0 {
            continue;
        }
        done[v] = true;
        used[w] = true;
        codes[v] = if affine[w][v] > 0.0 {
            LETTERS[w].0
        } else {
            LETTERS[w].1
        };
    }
    codes.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{deflated_mr_slice, largest_allocation};

    #[test]
    fn a_series_is_sized_before_any_slice_is_decoded() {
        // Three small slices stack: the files are real DICOM.
        let small: Vec<_> = (0..3)
            .map(|i| {
                (
                    format!("small/{i}.dcm"),
                    deflated_mr_slice(8, 6, "1.2.3.1", i),
                )
            })
            .collect();
        let decoded = decode_files(small);
        assert_eq!(decoded.len(), 1);
        let Ok(Decoded {
            content: Content::Volume(volume),
            ..
        }) = &decoded[0].result
        else {
            panic!("{:?}", decoded[0].result);
        };
        assert_eq!(volume.dims, [6, 8, 3]);

        // 33 slices of 2048 × 2060 are 139 M voxels, over MAX_VOXELS (134 M), in a few MB of
        // files. Each decoded slice alone would take 16.9 MB (f32); nothing that large is
        // allocated.
        let big: Vec<_> = (0..33)
            .map(|i| {
                (
                    format!("big/{i}.dcm"),
                    deflated_mr_slice(2060, 2048, "1.2.3.2", i),
                )
            })
            .collect();
        let (decoded, largest) = largest_allocation(|| decode_files(big));
        assert_eq!(decoded.len(), 1, "one error for the series");
        assert_eq!(decoded[0].name, "big");
        assert_eq!(decoded[0].sources.len(), 33);
        let err = decoded[0].result.as_ref().unwrap_err().to_string();
        assert!(
            err.contains("139223040 voxels") && err.contains("load fewer slices"),
            "{err}"
        );
        assert!(largest < 16 << 20, "{largest} bytes at once");
    }

    #[test]
    fn stems_drop_folders_and_every_known_extension() {
        assert_eq!(file_stem("a/b/brain.nii.gz"), "brain");
        assert_eq!(file_stem("IM0001.DCM"), "IM0001");
        assert_eq!(file_stem("scan.v2.png"), "scan.v2");
        assert_eq!(file_stem("IM0001"), "IM0001");
        assert_eq!(file_stem(".hidden"), ".hidden");
    }

    #[test]
    fn series_are_named_by_their_shared_folder() {
        assert_eq!(
            series_name(["ct/head/1.dcm", "ct/head/2.dcm"].into_iter()),
            "head"
        );
        assert_eq!(series_name(["a/1.dcm", "b/2.dcm"].into_iter()), "1");
        assert_eq!(series_name(["1.dcm", "2.dcm"].into_iter()), "1");
    }

    #[test]
    fn orientation_codes_follow_the_affine() {
        let mut a = [[0.0; 4]; 4];
        a[0][0] = 1.0;
        a[1][1] = 1.0;
        a[2][2] = 1.0;
        assert_eq!(orientation_codes(&a), "RAS");
        // DICOM axial in RAS: i → L, j → P, k → S.
        a[0][0] = -0.9;
        a[1][1] = -1.0;
        assert_eq!(orientation_codes(&a), "LPS");
        // Sagittal acquisition: i → P, j → I, k → L.
        let mut s = [[0.0; 4]; 4];
        s[1][0] = -1.0;
        s[2][1] = -1.0;
        s[0][2] = -1.0;
        assert_eq!(orientation_codes(&s), "PIL");
    }
}
