//! The decoded image types shared by every later step.

use serde::{Deserialize, Serialize};

/// Colour layout of a decoded image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Channels {
    /// One grey channel.
    Gray,
    /// Grey followed by alpha.
    GrayAlpha,
    /// Red, green, blue.
    Rgb,
    /// Red, green, blue, alpha.
    Rgba,
}

impl Channels {
    /// Number of interleaved values per pixel.
    pub fn count(self) -> usize {
        match self {
            Channels::Gray => 1,
            Channels::GrayAlpha => 2,
            Channels::Rgb => 3,
            Channels::Rgba => 4,
        }
    }

    /// Whether the last channel is alpha.
    pub fn has_alpha(self) -> bool {
        matches!(self, Channels::GrayAlpha | Channels::Rgba)
    }

    /// The layout without its alpha channel.
    pub fn without_alpha(self) -> Channels {
        match self {
            Channels::Gray | Channels::GrayAlpha => Channels::Gray,
            Channels::Rgb | Channels::Rgba => Channels::Rgb,
        }
    }

    /// Human-readable name used in notes shown to the user ("RGB", "greyscale", …).
    pub fn name(self) -> &'static str {
        match self {
            Channels::Gray => "greyscale",
            Channels::GrayAlpha => "greyscale+alpha",
            Channels::Rgb => "RGB",
            Channels::Rgba => "RGBA",
        }
    }
}

/// Sample type the file stored, which fixes the range of [`Image::pixels`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BitDepth {
    /// 8-bit integers: values 0..=255.
    U8,
    /// 16-bit integers: values 0..=65535.
    U16,
    /// 32-bit floats (TIFF only): values as stored, no fixed range.
    F32,
}

impl BitDepth {
    /// Largest value an integer sample can hold; `None` for floats, which have no fixed range.
    pub fn max_value(self) -> Option<f32> {
        match self {
            BitDepth::U8 => Some(255.0),
            BitDepth::U16 => Some(65535.0),
            BitDepth::F32 => None,
        }
    }

    /// Bits per sample.
    pub fn bits(self) -> u32 {
        match self {
            BitDepth::U8 => 8,
            BitDepth::U16 => 16,
            BitDepth::F32 => 32,
        }
    }
}

/// A decoded image with its samples widened to `f32`.
///
/// Samples keep the file's own range (0..=255 for 8-bit, 0..=65535 for
/// 16-bit) so that later steps can reproduce exactly what Python tooling would
/// compute from the same file; scaling is the job of [`crate::to_planes`].
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Colour layout of each pixel.
    pub channels: Channels,
    /// Sample type of the file.
    pub bit_depth: BitDepth,
    /// Container format: "PNG", "JPEG", "BMP", "TIFF" or "WebP".
    pub format: &'static str,
    /// Interleaved samples, row-major, height × width × channels (HWC).
    pub pixels: Vec<f32>,
}

impl Image {
    /// Bytes its decoded samples take (32-bit floats).
    pub fn bytes(&self) -> u64 {
        self.pixels.len() as u64 * 4
    }

    /// Number of samples in [`Image::pixels`] (width × height × channels).
    pub fn len(&self) -> usize {
        self.pixels.len()
    }

    /// Whether the image holds no samples.
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// Number of interleaved channels per pixel.
    pub fn channel_count(&self) -> usize {
        self.channels.count()
    }

    /// Number of pixels (width × height).
    pub fn pixel_count(&self) -> usize {
        self.width as usize * self.height as usize
    }
}
