//! What decoding a file gives: its pixels ([`Content`]) and what the file said about itself
//! ([`FileInfo`]), shared by every format's decoder and the dispatcher in `medical`.

use crate::dicom::reference::DicomReference;
use crate::error::ImagingError;
use crate::{Image, Volume};

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
    pub dicom: Option<Box<DicomReference>>,
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

/// One result of decoding files dropped together: a file on its own, or a DICOM series.
#[derive(Debug)]
pub struct DecodedGroup {
    /// What its outputs are named by: the file's stem, or the series' folder.
    pub name: String,
    /// The names of the files it was made from, as given, in order.
    pub sources: Vec<String>,
    /// The pixels, or why there are none.
    pub result: Result<Decoded, ImagingError>,
}

impl DecodedGroup {
    /// The one file it came from, when it came from exactly one.
    pub fn single_source(&self) -> Option<&str> {
        match self.sources.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
