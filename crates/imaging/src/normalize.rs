//! Value scaling: milesial's rule, percentile and min–max stretching.
//!
//! Statistics follow numpy's definitions exactly (percentile with linear
//! interpolation, float64 arithmetic) so results can be checked against a
//! Python reference to the last bit.

use serde::{Deserialize, Serialize};

use crate::error::ImagingError;
use crate::raster::BitDepth;

/// How sample values are scaled before they reach the model.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Normalization {
    /// milesial/Pytorch-UNet: 8-bit values divided by 255 only if any value
    /// exceeds 1; 16-bit values divided by 65535.
    #[default]
    Milesial,
    /// Per image, over all channels: the `low` and `high` percentiles (0–100,
    /// numpy's default linear interpolation) map to 0 and 1, clipped.
    Percentile {
        /// Lower percentile, 0–100.
        low: f32,
        /// Upper percentile, 0–100, above `low`.
        high: f32,
    },
    /// Per image, over all channels: the minimum maps to 0, the maximum to 1.
    MinMax,
    /// Fixed values: `low` maps to 0 and `high` to 1, clipped. A CT window in a card; also
    /// what a volume's own percentiles become, so that every slice shares one scale
    /// ([`volume_normalization`]).
    Window {
        /// Value mapped to 0.
        low: f64,
        /// Value mapped to 1, above `low`.
        high: f64,
    },
}

/// The scaling for every slice of one volume frame: `Percentile` and `MinMax` are computed over
/// the whole frame and become a [`Normalization::Window`], so a slice at the vertex or in the
/// neck is scaled like the mid-brain slices instead of being stretched on its own. Other rules
/// already give every slice the same scale and are returned unchanged. `None` when the frame
/// holds no finite value.
pub fn volume_normalization(frame: &[f32], norm: &Normalization) -> Option<Normalization> {
    let window = |low: f64, high: f64| Some(Normalization::Window { low, high });
    match *norm {
        Normalization::Percentile { low, high } => {
            let mut values = finite_samples(frame)?;
            let lo = percentile(&mut values, exact_decimal(low));
            let hi = percentile(&mut values, exact_decimal(high));
            window(lo, hi)
        }
        Normalization::MinMax => {
            let finite = frame.iter().copied().filter(|v| v.is_finite());
            let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(f64::from(v)), hi.max(f64::from(v)))
            });
            (lo <= hi).then_some(())?;
            window(lo, hi)
        }
        Normalization::Milesial | Normalization::Window { .. } => Some(norm.clone()),
    }
}

/// Rejects settings that cannot describe a scaling.
pub(crate) fn validate(norm: &Normalization) -> Result<(), ImagingError> {
    if let Normalization::Percentile { low, high } = *norm {
        let in_range = |p: f32| (0.0..=100.0).contains(&p);
        if !in_range(low) || !in_range(high) || low >= high {
            return Err(ImagingError::InvalidNormalization(format!(
                "percentiles must satisfy 0 ≤ low < high ≤ 100, got low={low}, high={high}"
            )));
        }
    }
    if let Normalization::Window { low, high } = *norm {
        if !low.is_finite() || !high.is_finite() || low > high {
            return Err(ImagingError::InvalidNormalization(format!(
                "a window needs finite low ≤ high, got low={low}, high={high}"
            )));
        }
    }
    Ok(())
}

/// Scales `data` in place; `depth` decides milesial's divisor.
pub(crate) fn normalise(
    data: &mut [f32],
    depth: BitDepth,
    norm: &Normalization,
    notes: &mut Vec<String>,
) {
    match *norm {
        Normalization::Milesial => milesial(data, depth, notes),
        Normalization::Percentile { low, high } => {
            let Some(mut values) = finite_samples(data) else {
                return zero_all(data, notes);
            };
            let lo = percentile(&mut values, exact_decimal(low));
            let hi = percentile(&mut values, exact_decimal(high));
            rescale(data, lo, hi, notes);
        }
        Normalization::MinMax => {
            let finite = data.iter().copied().filter(|v| v.is_finite());
            let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(f64::from(v)), hi.max(f64::from(v)))
            });
            if lo > hi {
                return zero_all(data, notes);
            }
            rescale(data, lo, hi, notes);
        }
        Normalization::Window { low, high } => rescale(data, low, high, notes),
    }
}

/// milesial's rule: `if (img > 1).any(): img = img / 255.0`.
fn milesial(data: &mut [f32], depth: BitDepth, notes: &mut Vec<String>) {
    match depth {
        BitDepth::U8 => {
            if data.iter().any(|&v| v > 1.0) {
                // numpy divides the uint8 array in float64 and torch then
                // casts to float32; dividing in f32 directly could round differently.
                data.iter_mut()
                    .for_each(|v| *v = (f64::from(*v) / 255.0) as f32);
            } else {
                notes.push(
                    "no value above 1, so the image was not divided by 255 (as milesial's preprocess does)".into(),
                );
            }
        }
        BitDepth::U16 => {
            notes.push("16-bit image scaled to 0–1 by /65535".into());
            data.iter_mut()
                .for_each(|v| *v = (f64::from(*v) / 65535.0) as f32);
        }
        BitDepth::F32 => {
            // A float32 array divided by a Python float stays float32 in numpy.
            if data.iter().any(|&v| v > 1.0) {
                notes.push("32-bit float image has values above 1, so it was divided by 255 (as milesial's preprocess does)".into());
                data.iter_mut().for_each(|v| *v /= 255.0);
            }
        }
    }
}

/// Finite samples; `None` when there are none.
///
/// Non-finite samples (only possible in float TIFFs) are left out of the
/// statistics, like `numpy.nanpercentile`, because one NaN would otherwise
/// turn every output into NaN.
fn finite_samples(data: &[f32]) -> Option<Vec<f32>> {
    let values: Vec<f32> = data.iter().copied().filter(|v| v.is_finite()).collect();
    (!values.is_empty()).then_some(values)
}

/// `numpy.percentile(values, p)` with the default `method='linear'`,
/// including numpy's two-sided lerp so results agree to the last bit.
///
/// Uses selection instead of a full sort: a 16384² image has 268 M samples
/// and only two order statistics are needed. Reorders `values`.
fn percentile(values: &mut [f32], p: f64) -> f64 {
    let n = values.len();
    let virtual_index = (n - 1) as f64 * (p / 100.0);
    let below = virtual_index.floor() as usize;
    if virtual_index >= (n - 1) as f64 {
        return f64::from(*values.iter().max_by(|a, b| a.total_cmp(b)).unwrap_or(&0.0));
    }
    let (_, &mut a, above) = values.select_nth_unstable_by(below, f32::total_cmp);
    // Everything after the k-th element is >= it, so the (k+1)-th is their minimum.
    let b = above.iter().copied().min_by(f32::total_cmp).unwrap_or(a);
    let (a, b) = (f64::from(a), f64::from(b));
    let gamma = virtual_index - below as f64;
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// The decimal the user wrote, as f64: an `f32` like 0.1 is really
/// 0.100000001…, and feeding that to the percentile would not match numpy
/// given the literal 0.1. The shortest round-trip decimal of the `f32` is
/// what was typed.
fn exact_decimal(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

/// Maps `lo..hi` onto `0..1`, clipped; a flat image (hi == lo) becomes zeros.
fn rescale(data: &mut [f32], lo: f64, hi: f64, notes: &mut Vec<String>) {
    let span = hi - lo;
    if span <= 0.0 || !span.is_finite() {
        return zero_all(data, notes);
    }
    for v in data.iter_mut() {
        let t = (f64::from(*v) - lo) / span;
        // NaN samples have no place on the scale; 0 keeps the input finite.
        *v = if t.is_nan() {
            0.0
        } else {
            t.clamp(0.0, 1.0) as f32
        };
    }
}

fn zero_all(data: &mut [f32], notes: &mut Vec<String>) {
    notes.push(
        "the normalisation range is empty (low and high values are equal), so every input was set to 0"
            .into(),
    );
    data.fill(0.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::to_planes;
    use crate::raster::{Channels, Image};
    use crate::test_support::image;
    use BitDepth::{U16, U8};

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn milesial_matches_numpy_float64_then_float32() {
        // numpy: (np.array([0,1,2,3,100,128,254,255], np.uint8) / 255.0).astype(np.float32)
        let img = image(
            8,
            1,
            Channels::Gray,
            U8,
            vec![0., 1., 2., 3., 100., 128., 254., 255.],
        );
        let p = to_planes(&img, 1, &Normalization::Milesial).unwrap();
        let expected = [
            0x0, 0x3b808081, 0x3c008081, 0x3c40c0c1, 0x3ec8c8c9, 0x3f008081, 0x3f7efeff, 0x3f800000,
        ];
        assert_eq!(bits(&p.data), expected);
        assert!(p.notes.is_empty(), "{:?}", p.notes);
        assert_eq!((p.channels, p.height, p.width), (1, 1, 8));
    }

    #[test]
    fn milesial_leaves_images_without_values_above_one_alone() {
        let img = image(2, 1, Channels::Gray, U8, vec![0., 1.]);
        let p = to_planes(&img, 1, &Normalization::default()).unwrap();
        assert_eq!(p.data, vec![0., 1.]);
        assert!(p.notes[0].contains("not divided by 255"), "{:?}", p.notes);
    }

    #[test]
    fn sixteen_bit_is_scaled_by_65535_with_a_note() {
        // numpy: (np.array([0,1,257,1000,32768,65534,65535], np.uint16) / 65535.0).astype(np.float32)
        let v = [0., 1., 257., 1000., 32768., 65534., 65535.];
        let img = image(7, 1, Channels::Gray, U16, v.to_vec());
        let p = to_planes(&img, 1, &Normalization::Milesial).unwrap();
        let expected = [
            0x0, 0x37800080, 0x3b808081, 0x3c7a00fa, 0x3f000080, 0x3f7fff00, 0x3f800000,
        ];
        assert_eq!(bits(&p.data), expected);
        assert_eq!(
            p.notes,
            vec!["16-bit image scaled to 0–1 by /65535".to_string()]
        );
    }

    fn numpy_fixture() -> Image {
        let hwc = [
            3, 200, 17, 90, 90, 90, 0, 255, 128, 12, 34, 56, 7, 7, 250, 100, 0, 1, 64, 65, 66, 255,
            255, 0,
        ];
        image(
            4,
            2,
            Channels::Rgb,
            U8,
            hwc.iter().map(|&v| v as f32).collect(),
        )
    }

    #[test]
    fn percentile_matches_numpy() {
        let mut values = numpy_fixture().pixels;
        for (q, expected) in [
            (10.0, 0.30000000000000027),
            (90.0, 253.5),
            (25.0, 7.0),
            (75.5, 110.21999999999996),
            (33.3, 15.294999999999995),
            (66.7, 90.0),
            (0.0, 0.0),
            (100.0, 255.0),
        ] {
            assert_eq!(percentile(&mut values, q), expected, "q={q}");
        }
        assert_eq!(exact_decimal(33.3), 33.3);
    }

    #[test]
    fn percentile_normalisation_matches_numpy() {
        // np.clip((x - lo) / (hi - lo), 0, 1) with lo, hi = np.percentile(x, (10, 90)),
        // transposed to CHW and cast to float32.
        let expected = [
            0x3c2eb5fe, 0x3eb56246, 0x0, 0x3d3d4528, 0x3cd8c55c, 0x3ec99ae5, 0x3e80cf11,
            0x3f800000, 0x3f49e88b, 0x3eb56246, 0x3f800000, 0x3e084a6a, 0x3cd8c55c, 0x0,
            0x3e82d4ba, 0x3f800000, 0x3d8713d1, 0x3eb56246, 0x3f011cb7, 0x3e61438a, 0x3f7c7617,
            0x3b352e82, 0x3e84da63, 0x0,
        ];
        let norm = Normalization::Percentile {
            low: 10.0,
            high: 90.0,
        };
        let p = to_planes(&numpy_fixture(), 3, &norm).unwrap();
        assert_eq!(bits(&p.data), expected);
    }

    #[test]
    fn flat_images_become_zeros_and_bad_settings_are_rejected() {
        let flat = image(3, 1, Channels::Gray, U16, vec![500.; 3]);
        for norm in [
            Normalization::MinMax,
            Normalization::Percentile {
                low: 1.0,
                high: 99.0,
            },
        ] {
            let p = to_planes(&flat, 1, &norm).unwrap();
            assert_eq!(p.data, vec![0.0; 3]);
        }
        for (low, high) in [(50.0, 50.0), (-1.0, 50.0), (2.0, 100.5), (f32::NAN, 3.0)] {
            let err = to_planes(&flat, 1, &Normalization::Percentile { low, high });
            assert!(
                matches!(err, Err(ImagingError::InvalidNormalization(_))),
                "{low} {high}"
            );
        }
    }

    #[test]
    fn float_images_ignore_non_finite_values_in_statistics() {
        let img = image(
            2,
            2,
            Channels::Rgb,
            BitDepth::F32,
            vec![
                0.0,
                1.0,
                2.0,
                f32::NAN,
                4.0,
                8.0,
                f32::INFINITY,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
            ],
        );
        let p = to_planes(&img, 3, &Normalization::MinMax).unwrap();
        assert!(p.data.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_eq!(p.plane(0).unwrap(), &[0.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn normalization_serialises_with_a_kind_tag() {
        let cases = [
            (Normalization::Milesial, r#"{"kind":"milesial"}"#),
            (
                Normalization::Percentile {
                    low: 1.0,
                    high: 99.5,
                },
                r#"{"kind":"percentile","low":1.0,"high":99.5}"#,
            ),
            (Normalization::MinMax, r#"{"kind":"min_max"}"#),
        ];
        for (norm, json) in cases {
            assert_eq!(serde_json::to_string(&norm).unwrap(), json);
            assert_eq!(serde_json::from_str::<Normalization>(json).unwrap(), norm);
        }
        assert_eq!(Normalization::default(), Normalization::Milesial);
    }
}
