//! Turning a decoded [`Image`] into the model's input planes.
//!
//! The default path reproduces milesial/Pytorch-UNet's
//! `BasicDataset.preprocess` (scale 1) bit for bit, because the published
//! weights were trained on exactly those numbers; every deviation from a
//! plain copy is recorded in [`Planes::notes`] so the user can see it.

use crate::error::ImagingError;
use crate::normalize::{normalise, validate, Normalization};
use crate::raster::{BitDepth, Channels, Image};

/// Model input: channel-major planes plus what was done to get them.
#[derive(Debug, Clone, PartialEq)]
pub struct Planes {
    /// Number of planes (the model's input channels).
    pub channels: usize,
    /// Rows per plane.
    pub height: usize,
    /// Columns per plane.
    pub width: usize,
    /// Samples in channel, row, column order (CHW).
    pub data: Vec<f32>,
    /// One sentence per conversion applied, for display to the user.
    pub notes: Vec<String>,
}

impl Planes {
    /// Number of samples (channels × height × width).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The samples of one channel, row-major; `None` past the last channel.
    pub fn plane(&self, channel: usize) -> Option<&[f32]> {
        let size = self.height * self.width;
        self.data.get(channel * size..(channel + 1) * size)
    }
}

/// Converts `image` into `n_channels` normalised planes for the model.
///
/// Channel matching: an image whose channel count (alpha included) already
/// equals `n_channels` is used as is, as milesial's code would. Otherwise
/// alpha is dropped, then greyscale is replicated for a 3-channel model and
/// RGB is converted to greyscale for a 1-channel model with Pillow's
/// `convert('L')` arithmetic. Each step adds a note.
///
/// # Errors
///
/// [`ImagingError::ChannelMismatch`] when no rule above applies,
/// [`ImagingError::InvalidNormalization`] for percentiles outside 0–100 or
/// `low >= high`, and [`ImagingError::Corrupt`] if `image.pixels` does not
/// hold width × height × channels samples.
pub fn to_planes(
    image: &Image,
    n_channels: usize,
    norm: &Normalization,
) -> Result<Planes, ImagingError> {
    validate(norm)?;
    let height = image.height as usize;
    let width = image.width as usize;
    let expected = height * width * image.channel_count();
    if image.pixels.len() != expected {
        return Err(ImagingError::Corrupt(format!(
            "image holds {} samples, expected {expected} for {width}×{height} {}",
            image.pixels.len(),
            image.channels.name()
        )));
    }

    let mut notes = Vec::new();
    let mut data = match_channels(image, n_channels, &mut notes)?;
    normalise(&mut data, image.bit_depth, norm, &mut notes);
    Ok(Planes {
        channels: n_channels,
        height,
        width,
        data,
        notes,
    })
}

/// Builds CHW planes in the file's value range with the model's channel count.
fn match_channels(
    image: &Image,
    n_channels: usize,
    notes: &mut Vec<String>,
) -> Result<Vec<f32>, ImagingError> {
    let src_channels = image.channel_count();
    let pixels = image.pixel_count();
    let px = &image.pixels;
    if src_channels == n_channels {
        return Ok(gather(
            px,
            src_channels,
            &(0..n_channels).collect::<Vec<_>>(),
        ));
    }

    let colour = image.channels.without_alpha();
    if image.channels.has_alpha() {
        notes.push(format!(
            "alpha channel dropped from the {} image",
            image.channels.name()
        ));
    }
    match (colour, n_channels) {
        (Channels::Gray, 1) => Ok(gather(px, src_channels, &[0])),
        (Channels::Rgb, 3) => Ok(gather(px, src_channels, &[0, 1, 2])),
        (Channels::Gray, 3) => {
            notes.push("greyscale image replicated to 3 channels for a 3-channel model".into());
            Ok(gather(px, src_channels, &[0, 0, 0]))
        }
        (Channels::Rgb, 1) => {
            notes.push("RGB image converted to greyscale for a 1-channel model".into());
            let luma = (0..pixels).map(|p| {
                let s = &px[p * src_channels..p * src_channels + 3];
                luma(s[0], s[1], s[2], image.bit_depth)
            });
            Ok(luma.collect())
        }
        _ => Err(ImagingError::ChannelMismatch {
            image_channels: src_channels,
            model_channels: n_channels,
        }),
    }
}

/// Copies the listed source channels of interleaved pixels into CHW order.
fn gather(px: &[f32], src_channels: usize, take: &[usize]) -> Vec<f32> {
    let pixels = px.len() / src_channels.max(1);
    let mut out = Vec::with_capacity(pixels * take.len());
    for &c in take {
        out.extend(px.iter().skip(c).step_by(src_channels).take(pixels));
    }
    out
}

/// ITU-R 601 luma as Pillow's `convert('L')` computes it.
///
/// For 8-bit samples this is Pillow's fixed-point form
/// `(r*19595 + g*38470 + b*7471 + 0x8000) >> 16` (weights 0.299/0.587/0.114
/// scaled by 2^16, rounded), which differs from the truncating
/// `(r*299 + g*587 + b*114) / 1000` for many colours; only this form matches
/// Pillow bit for bit. Deeper samples have no Pillow counterpart, so they use
/// the exact weights in floating point.
fn luma(r: f32, g: f32, b: f32, depth: BitDepth) -> f32 {
    match depth {
        BitDepth::U8 => {
            // 8-bit samples are exact small integers; clamp guards hand-built images.
            let q = |v: f32| v.clamp(0.0, 255.0) as u32;
            ((q(r) * 19595 + q(g) * 38470 + q(b) * 7471 + 0x8000) >> 16) as f32
        }
        BitDepth::U16 | BitDepth::F32 => {
            let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
            ((r * 299.0 + g * 587.0 + b * 114.0) / 1000.0) as f32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::image;
    use BitDepth::{U16, U8};

    #[test]
    fn rgb_to_grey_matches_pillow_convert_l() {
        // Pillow 13: Image.fromarray(rgb, 'RGB').convert('L')
        let triples = [
            (0, 0, 0, 0),
            (255, 255, 255, 255),
            (255, 0, 0, 76),
            (0, 255, 0, 150),
            (0, 0, 255, 29),
            (1, 2, 3, 2),
            (10, 20, 30, 18),
            (100, 150, 200, 141),
            (200, 100, 50, 124),
            (127, 128, 129, 128),
            (254, 1, 254, 105),
            (33, 77, 250, 84),
            (128, 128, 127, 128),
            (3, 0, 0, 1),
        ];
        let px: Vec<f32> = triples
            .iter()
            .flat_map(|&(r, g, b, _)| [r as f32, g as f32, b as f32])
            .collect();
        let img = image(triples.len() as u32, 1, Channels::Rgb, U8, px);
        // MinMax would rescale; check the luma stage through Milesial's exact /255.
        let p = to_planes(&img, 1, &Normalization::Milesial).unwrap();
        let luma: Vec<f32> = p.data.iter().map(|v| (v * 255.0).round()).collect();
        let pillow: Vec<f32> = triples.iter().map(|t| t.3 as f32).collect();
        assert_eq!(luma, pillow);
        assert_eq!(
            p.notes,
            vec!["RGB image converted to greyscale for a 1-channel model".to_string()]
        );
    }

    #[test]
    fn sixteen_bit_rgb_to_grey_uses_float_weights() {
        let img = image(1, 1, Channels::Rgb, U16, vec![1000., 2000., 3000.]);
        let p = to_planes(&img, 1, &Normalization::MinMax).unwrap();
        assert_eq!(p.data, vec![0.0], "a single pixel is flat");
        assert_eq!(luma(1000., 2000., 3000., U16), 1815.0);
    }

    #[test]
    fn channels_are_matched_and_noted() {
        let grey = image(2, 1, Channels::Gray, U8, vec![10., 20.]);
        let p = to_planes(&grey, 3, &Normalization::Milesial).unwrap();
        assert_eq!(p.data.len(), 6);
        assert_eq!(p.plane(0), p.plane(2));
        assert_eq!(p.plane(3), None);
        assert!(p.notes[0].contains("replicated to 3 channels"));

        let rgba = image(
            2,
            1,
            Channels::Rgba,
            U8,
            vec![1., 2., 3., 255., 4., 5., 6., 0.],
        );
        let p = to_planes(&rgba, 3, &Normalization::MinMax).unwrap();
        // CHW: R plane [1,4], G [2,5], B [3,6], alpha gone; min 1, max 6.
        assert_eq!(p.data, vec![0.0, 0.6, 0.2, 0.8, 0.4, 1.0]);
        assert_eq!(
            p.notes,
            vec!["alpha channel dropped from the RGBA image".to_string()]
        );

        // A model that takes 4 channels gets RGBA as milesial would feed it.
        let p = to_planes(&rgba, 4, &Normalization::MinMax).unwrap();
        assert_eq!(p.plane(3).unwrap(), &[1.0, 0.0]);
        assert!(p.notes.is_empty());

        let ga = image(1, 1, Channels::GrayAlpha, U8, vec![7., 255.]);
        let p = to_planes(&ga, 1, &Normalization::Milesial).unwrap();
        assert_eq!(p.data, vec![(7.0f64 / 255.0) as f32]);

        let err = to_planes(&rgba, 2, &Normalization::Milesial).unwrap_err();
        assert_eq!(
            err,
            ImagingError::ChannelMismatch {
                image_channels: 4,
                model_channels: 2
            }
        );
    }

    /// 2×4 RGB test image; numpy values below come from
    /// `np.percentile(x, q)` on this array as uint8.
    #[test]
    fn inconsistent_images_are_errors_not_panics() {
        let mut img = image(2, 1, Channels::Gray, U8, vec![1., 2.]);
        img.pixels.pop();
        assert!(matches!(
            to_planes(&img, 1, &Normalization::Milesial),
            Err(ImagingError::Corrupt(_))
        ));
    }
}
