//! What crosses between the page and the engine's worker, apart from the large buffers (model
//! bytes, pixels, masks, logits), which travel as typed arrays beside these small records.
//!
//! Plain serde records so that the encoding is checked natively; `worker::js` puts them and the
//! buffers into the objects `postMessage` carries.

use serde::{Deserialize, Serialize};
use unet_imaging::{BitDepth, Channels, Image, Normalization};

use super::Timings;

/// The shape of an image sent to the worker; its samples travel as a `Float32Array`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageHeader {
    pub width: u32,
    pub height: u32,
    /// Interleaved channels per pixel (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA).
    pub channels: usize,
    /// Bits per sample of the file (8, 16, 32).
    pub bits: u32,
    pub format: String,
}

/// How to segment an image: everything of `Engine::segment_image` but the samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentHeader {
    pub image: ImageHeader,
    pub scaling: Option<Normalization>,
    pub keep_logits: bool,
}

/// What comes back with a mask (`u8` per pixel) and, when asked for, the logits (`f32`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentedHeader {
    pub width: u32,
    pub height: u32,
    pub classes: usize,
    /// `(classes, height, width)` of the logits that come with it, if any.
    pub logits: Option<(usize, usize, usize)>,
    pub notes: Vec<String>,
    pub timings: Timings,
}

impl ImageHeader {
    /// The header of `image`.
    pub fn of(image: &Image) -> Self {
        Self {
            width: image.width,
            height: image.height,
            channels: image.channel_count(),
            bits: image.bit_depth.bits(),
            format: image.format.to_string(),
        }
    }

    /// The image this header describes, with `pixels` as its samples; an error names what does
    /// not fit (it would be a bug in the page, not the user's doing).
    pub fn image(self, pixels: Vec<f32>) -> Result<Image, String> {
        let channels = match self.channels {
            1 => Channels::Gray,
            2 => Channels::GrayAlpha,
            3 => Channels::Rgb,
            4 => Channels::Rgba,
            n => return Err(format!("an image with {n} channels cannot be segmented")),
        };
        let bit_depth = match self.bits {
            8 => BitDepth::U8,
            16 => BitDepth::U16,
            32 => BitDepth::F32,
            n => return Err(format!("{n}-bit samples cannot be segmented")),
        };
        let expected = self.width as usize * self.height as usize * self.channels;
        if pixels.len() != expected {
            return Err(format!(
                "{} samples for a {}×{}×{} image",
                pixels.len(),
                self.width,
                self.height,
                self.channels
            ));
        }
        Ok(Image {
            width: self.width,
            height: self.height,
            channels,
            bit_depth,
            format: static_format(&self.format),
            pixels,
        })
    }
}

/// The container names the decoders use (`Image::format` is a `&'static str`); the engine never
/// reads it, so anything else is simply "image".
fn static_format(name: &str) -> &'static str {
    const KNOWN: [&str; 8] = [
        "PNG", "JPEG", "BMP", "TIFF", "WebP", "DICOM", "NIfTI", "image",
    ];
    KNOWN.into_iter().find(|k| *k == name).unwrap_or("image")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_survives_the_trip() {
        let image = Image {
            width: 3,
            height: 2,
            channels: Channels::Rgb,
            bit_depth: BitDepth::U16,
            format: "TIFF",
            pixels: (0..18).map(|v| v as f32 * 7.5).collect(),
        };
        let header: ImageHeader =
            serde_json::from_str(&serde_json::to_string(&ImageHeader::of(&image)).unwrap())
                .unwrap();
        assert_eq!(header.image(image.pixels.clone()).unwrap(), image);
    }

    #[test]
    fn a_wrong_sample_count_is_refused() {
        let header = ImageHeader {
            width: 4,
            height: 4,
            channels: 1,
            bits: 8,
            format: "PNG".into(),
        };
        let err = header.image(vec![0.0; 15]).unwrap_err();
        assert!(err.contains("15 samples for a 4×4×1 image"), "{err}");
    }

    #[test]
    fn segmented_headers_keep_notes_and_timings() {
        let header = SegmentedHeader {
            width: 245,
            height: 281,
            classes: 1,
            logits: Some((1, 281, 245)),
            notes: vec!["RGB converted to grey".into()],
            timings: Timings {
                decode_ms: 1.25,
                inference_ms: 206.5,
                total_ms: 207.75,
            },
        };
        let json = serde_json::to_string(&header).unwrap();
        assert_eq!(
            serde_json::from_str::<SegmentedHeader>(&json).unwrap(),
            header
        );
    }

    #[test]
    fn segment_headers_keep_the_scaling() {
        let header = SegmentHeader {
            image: ImageHeader {
                width: 16,
                height: 16,
                channels: 1,
                bits: 32,
                format: "NIfTI".into(),
            },
            scaling: Some(Normalization::Window {
                low: -3.5,
                high: 812.25,
            }),
            keep_logits: true,
        };
        let json = serde_json::to_string(&header).unwrap();
        assert_eq!(
            serde_json::from_str::<SegmentHeader>(&json).unwrap(),
            header
        );
    }
}
