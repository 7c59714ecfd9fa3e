//! Any dropped file or folder to one typed result: a 2-D [`Image`] or a [`Volume`], with what the
//! file said about itself ([`FileInfo`]: format, modality, display window, ...).
//!
//! The app's drop zone and the CLI both go through [`decode_files`], so a DICOM series dropped in
//! the browser and the same folder given to `unet predict` are grouped, sorted and oriented the
//! same way.

use std::collections::BTreeMap;

use crate::dicom;
use crate::error::ImagingError;
use crate::{decode_image, decode_nifti, is_nifti, Image, Volume, MAX_VOXELS};

/// A display window: values from `center - width/2` to `center + width/2` map to black..white.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Centre (level).
    pub center: f32,
    /// Width, > 0.
    pub width: f32,
}

impl Window {
    /// Named CT presets in Hounsfield units (centre, width), as radiology viewers ship them.
    pub const PRESETS: [(&'static str, Window); 4] = [
        ("brain", Window::new(40.0, 80.0)),
        ("bone", Window::new(400.0, 1800.0)),
        ("lung", Window::new(-600.0, 1500.0)),
        ("soft tissue", Window::new(40.0, 400.0)),
    ];

    /// A window with this centre and width (a width below 1 is raised to 1).
    pub const fn new(center: f32, width: f32) -> Window {
        Window {
            center,
            width: if width < 1.0 { 1.0 } else { width },
        }
    }

    /// The window spanning every finite value in `values` ("full range").
    pub fn full_range(values: &[f32]) -> Window {
        let (lo, hi) = values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        if lo > hi {
            return Window::new(0.5, 1.0);
        }
        Window::new((lo + hi) / 2.0, (hi - lo).max(1e-6))
    }

    /// The preset called `name` (as in [`Window::PRESETS`]).
    pub fn preset(name: &str) -> Option<Window> {
        Window::PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, w)| *w)
    }

    /// Grey level of `value` in this window; `inverted` for MONOCHROME1 (high values dark).
    pub fn grey(&self, value: f32, inverted: bool) -> u8 {
        let t = ((value - (self.center - self.width / 2.0)) / self.width).clamp(0.0, 1.0);
        let t = if inverted { 1.0 - t } else { t };
        // NaN clamps to NaN and casts to 0: black, never a panic.
        (t * 255.0).round() as u8
    }
}

/// What a file said about itself, for the viewer's defaults and `unet info`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileInfo {
    /// "PNG", "NIfTI-1", "DICOM", ...
    pub format: String,
    /// DICOM Modality (CT, MR, US, ...).
    pub modality: Option<String>,
    /// DICOM transfer syntax, by name and UID.
    pub transfer_syntax: Option<String>,
    /// DICOM photometric interpretation as stored.
    pub photometric: Option<String>,
    /// The file's own display window (DICOM Window Center/Width), in the values of the data.
    pub window: Option<Window>,
    /// The file stored MONOCHROME1 (high values dark). Its values, and its window, were flipped
    /// within the stored range at decode, so displays and models treat it like any other image
    /// and must not invert it again.
    pub inverted: bool,
    /// Series or study description, when the file has one.
    pub description: Option<String>,
    /// How many files made this result (a DICOM series), 1 otherwise.
    pub files: usize,
    /// mm between rows and between columns (DICOM Pixel Spacing), for areas in mm².
    pub pixel_spacing: Option<[f64; 2]>,
    /// The DICOM files (and frames) each decoded slice came from, for a DICOM SEG of its mask.
    pub dicom: Option<Box<crate::dicom::DicomReference>>,
}

/// The pixels of a decoded file.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// A 2-D image (PNG, JPEG, ..., or a single-frame DICOM).
    Image(Image),
    /// A volume (NIfTI, multi-frame DICOM, or a DICOM series).
    Volume(Volume),
}

/// A decoded file: pixels and what the file said about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The pixels.
    pub content: Content,
    /// The file's own description.
    pub info: FileInfo,
}

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
pub fn decode_files(files: Vec<(String, Vec<u8>)>) -> Vec<(String, Result<Decoded, ImagingError>)> {
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
    let too_large: BTreeMap<dicom::SeriesKey, (String, u64)> = sizes
        .into_iter()
        .filter(|(_, (total, _))| *total > MAX_VOXELS)
        .map(|(key, (total, names))| (key, (series_name(names.into_iter()), total)))
        .collect();

    let mut out: Vec<(String, Result<Decoded, ImagingError>)> = Vec::new();
    let mut refused = std::collections::BTreeSet::new();
    let mut series: BTreeMap<dicom::SeriesKey, (usize, Vec<(String, dicom::Slice)>)> =
        BTreeMap::new();
    for (name, parsed) in parsed {
        let header = match parsed {
            Parsed::Other(bytes) => {
                out.push((file_stem(&name), decode_file(&bytes)));
                continue;
            }
            Parsed::Dicom(Ok(h)) => h,
            Parsed::Dicom(Err(e)) => {
                out.push((file_stem(&name), Err(e)));
                continue;
            }
        };
        if header.stackable() {
            let key = header.series_key();
            if let Some((series_name, total)) = too_large.get(&key) {
                if refused.insert(key) {
                    out.push((
                        series_name.clone(),
                        Err(ImagingError::Dicom(format!(
                            "the series has {total} voxels, more than the limit of {MAX_VOXELS}: load fewer slices or a cropped series"
                        ))),
                    ));
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
                    out.push((String::new(), Err(ImagingError::Empty)));
                }
                entry.1.push((name, slice));
            }
            Ok(slice) => out.push((file_stem(&name), slice.decode())),
            Err(e) => out.push((file_stem(&name), Err(e))),
        }
    }
    let mut apart = Vec::new();
    for (_, (slot, mut named)) in series {
        let slices: Vec<&dicom::Slice> = named.iter().map(|(_, s)| s).collect();
        if named.len() == 1 || !dicom::is_stack(&slices) {
            // Not a volume (one file, or the same place twice): each file is its own image.
            let (first_name, first) = named.remove(0);
            out[slot] = (file_stem(&first_name), first.into_decoded());
            apart.extend(
                named
                    .into_iter()
                    .map(|(n, s)| (file_stem(&n), s.into_decoded())),
            );
            continue;
        }
        let name = series_name(named.iter().map(|(n, _)| n.as_str()));
        out[slot] = (
            name,
            dicom::stack(named.into_iter().map(|(_, s)| s).collect()),
        );
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
        }) = &decoded[0].1
        else {
            panic!("{:?}", decoded[0].1);
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
        assert_eq!(decoded[0].0, "big");
        let err = decoded[0].1.as_ref().unwrap_err().to_string();
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
    fn windows_map_to_grey_levels_and_invert() {
        let w = Window::new(40.0, 80.0);
        assert_eq!(w.grey(0.0, false), 0);
        assert_eq!(w.grey(80.0, false), 255);
        assert_eq!(w.grey(40.0, false), 128);
        assert_eq!(w.grey(0.0, true), 255);
        assert_eq!(w.grey(f32::NAN, false), 0);
        let full = Window::full_range(&[-1000.0, 3000.0, f32::NAN]);
        assert_eq!((full.center, full.width), (1000.0, 4000.0));
        assert_eq!(Window::preset("lung"), Some(Window::new(-600.0, 1500.0)));
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
