//! A head around the template's brain. The nilearn template is already skull-stripped, so the
//! non-brain tissue a real scan shows (CSF shell, skull with marrow, muscle, fat, and further
//! out face and neck tissue) is synthesised from the distance to the brain, with uneven random
//! thicknesses and random intensities per tissue in the spirit of SynthStrip (Hoopes et al.,
//! NeuroImage 2022): the network must learn the brain's shape and texture, not one contrast.

use crate::field::smooth_field;
use crate::rng::Rng;
use crate::template::Slice;

/// Intensities (0–1) of each tissue in one synthetic image.
#[derive(Debug, Clone)]
pub struct Contrast {
    /// How much of the template's own T1 intensity shows inside the brain (0–1); the rest is
    /// grey/white matter/CSF mixed by their probabilities with the intensities below.
    pub t1_weight: f32,
    /// Gamma applied to the template's T1 intensity.
    pub t1_gamma: f32,
    /// White matter.
    pub wm: f32,
    /// Grey matter.
    pub gm: f32,
    /// Cerebrospinal fluid (inside and around the brain).
    pub csf: f32,
    /// Cortical bone.
    pub bone: f32,
    /// Marrow in the skull's diploë.
    pub marrow: f32,
    /// Muscle and galea.
    pub muscle: f32,
    /// Subcutaneous fat.
    pub fat: f32,
    /// Air around the head.
    pub air: f32,
    /// Extra tissue classes outside the skull (face, neck, eyes).
    pub extra: [f32; 3],
}

impl Contrast {
    /// A T1-weighted look: the contrast of the template itself and of typical users' scans.
    pub fn t1_like(rng: &mut Rng) -> Contrast {
        Contrast {
            t1_weight: rng.range(0.5, 1.0),
            t1_gamma: rng.range(0.7, 1.4),
            wm: rng.range(0.75, 0.95),
            gm: rng.range(0.45, 0.65),
            csf: rng.range(0.02, 0.25),
            bone: rng.range(0.0, 0.12),
            marrow: rng.range(0.2, 0.8),
            muscle: rng.range(0.2, 0.5),
            fat: rng.range(0.6, 1.0),
            air: rng.range(0.0, 0.05),
            extra: [
                rng.range(0.1, 0.9),
                rng.range(0.1, 0.9),
                rng.range(0.1, 0.9),
            ],
        }
    }

    /// Any contrast at all: every tissue a random intensity, the SynthStrip recipe.
    pub fn random(rng: &mut Rng) -> Contrast {
        let mut c = Contrast::t1_like(rng);
        c.t1_weight = rng.range(0.0, 0.5);
        for v in [
            &mut c.wm,
            &mut c.gm,
            &mut c.csf,
            &mut c.bone,
            &mut c.marrow,
            &mut c.muscle,
            &mut c.fat,
        ] {
            *v = rng.unit();
        }
        c.air = rng.range(0.0, 0.15);
        c
    }

    /// The contrast used for the clean held-out evaluation: mid-range T1 values.
    pub fn reference() -> Contrast {
        Contrast {
            t1_weight: 1.0,
            t1_gamma: 1.0,
            wm: 0.85,
            gm: 0.55,
            csf: 0.12,
            bone: 0.05,
            marrow: 0.5,
            muscle: 0.35,
            fat: 0.85,
            air: 0.02,
            extra: [0.4, 0.6, 0.25],
        }
    }
}

/// Thickness (voxels) of each shell outside the brain.
#[derive(Debug, Clone)]
pub struct Shells {
    /// CSF between brain and skull.
    pub csf: f32,
    /// The skull.
    pub skull: f32,
    /// Fraction of the skull that is marrow (0 for a thin, all-cortical skull).
    pub marrow_fraction: f32,
    /// Muscle layer of the scalp.
    pub muscle: f32,
    /// Fat layer of the scalp.
    pub fat: f32,
    /// How far beyond the scalp extra tissue (face, neck) may reach; 0 for none.
    pub extra_reach: f32,
    /// Relative unevenness of the thicknesses around the head.
    pub unevenness: f32,
}

impl Shells {
    /// Random adult-head proportions.
    pub fn random(rng: &mut Rng) -> Shells {
        Shells {
            csf: rng.range(0.5, 4.0),
            skull: rng.range(3.0, 9.0),
            marrow_fraction: if rng.chance(0.7) {
                rng.range(0.2, 0.6)
            } else {
                0.0
            },
            muscle: rng.range(1.0, 6.0),
            fat: rng.range(2.0, 8.0),
            extra_reach: if rng.chance(0.6) {
                rng.range(5.0, 35.0)
            } else {
                0.0
            },
            unevenness: rng.range(0.0, 0.35),
        }
    }

    /// Typical proportions, for the clean held-out evaluation.
    pub fn reference() -> Shells {
        Shells {
            csf: 2.0,
            skull: 6.0,
            marrow_fraction: 0.4,
            muscle: 3.0,
            fat: 5.0,
            extra_reach: 0.0,
            unevenness: 0.0,
        }
    }
}

/// Paints one slice: brain from the template, the rest from `shells` and `contrast`.
/// Returns the image (0–1, before any intensity augmentation) and the brain mask.
pub fn paint(slice: &Slice, contrast: &Contrast, shells: &Shells, rng: &mut Rng) -> Vec<f32> {
    let (h, w) = (slice.height, slice.width);
    let cells = 6;
    let uneven = smooth_field(rng, h, w, cells);
    let blobs = smooth_field(rng, h, w, cells + 4);
    let kinds = smooth_field(rng, h, w, cells + 2);
    let c = contrast;
    let s = shells;
    let mut out = vec![0.0; h * w];
    for p in 0..h * w {
        let d = slice.dist[p] * (1.0 + s.unevenness * uneven[p]).max(0.3);
        let t1 = slice.t1[p].max(0.0).powf(c.t1_gamma);
        let (gm, wm) = (slice.gm[p], slice.wm[p]);
        let csf_p = (1.0 - gm - wm).max(0.0);
        let tissue = (gm * c.gm + wm * c.wm + csf_p * c.csf) / (gm + wm + csf_p).max(1e-6);
        let brainlike = c.t1_weight * t1 + (1.0 - c.t1_weight) * tissue;
        out[p] = if slice.mask[p] > 0.0 {
            brainlike
        } else if slice.t1[p] > 0.02 && d < s.csf + 3.0 {
            // The template's own CSF, cisterns and brainstem just outside the mask.
            c.t1_weight * t1 + (1.0 - c.t1_weight) * c.csf
        } else {
            let skull_in = s.csf;
            let skull_out = skull_in + s.skull;
            let scalp_mid = skull_out + s.muscle;
            let scalp_out = scalp_mid + s.fat;
            if d < skull_in {
                c.csf
            } else if d < skull_out {
                let depth = (d - skull_in) / s.skull;
                let half = s.marrow_fraction / 2.0;
                if (depth - 0.5).abs() < half {
                    c.marrow
                } else {
                    c.bone
                }
            } else if d < scalp_mid {
                c.muscle
            } else if d < scalp_out {
                c.fat
            } else if d < scalp_out + s.extra_reach && blobs[p] > -0.2 {
                let k = kinds[p];
                if k < -0.4 {
                    c.extra[0]
                } else if k < 0.4 {
                    c.extra[1]
                } else {
                    c.extra[2]
                }
            } else {
                c.air
            }
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slab() -> Slice {
        // A 1-D head along a row: brain for x < 20, then distance grows one voxel a column.
        let (h, w) = (4, 60);
        let mut s = Slice {
            height: h,
            width: w,
            t1: vec![0.0; h * w],
            gm: vec![0.0; h * w],
            wm: vec![0.0; h * w],
            mask: vec![0.0; h * w],
            dist: vec![0.0; h * w],
        };
        for r in 0..h {
            for x in 0..w {
                let p = r * w + x;
                if x < 20 {
                    s.mask[p] = 1.0;
                    s.wm[p] = 1.0;
                    s.t1[p] = 0.9;
                } else {
                    s.dist[p] = (x - 19) as f32;
                }
            }
        }
        s
    }

    #[test]
    fn shells_appear_in_anatomical_order() {
        let s = slab();
        let img = paint(
            &s,
            &Contrast::reference(),
            &Shells::reference(),
            &mut Rng::new(1, 0),
        );
        let c = Contrast::reference();
        let at = |x: usize| img[s.width + x]; // row 1
        assert!((at(5) - 0.9).abs() < 1e-6, "brain keeps the template's T1");
        assert_eq!(at(20), c.csf); // d = 1
        assert_eq!(at(22), c.bone); // d = 3: outer table
        assert_eq!(at(24), c.marrow); // d = 5: middle of the skull
        assert_eq!(at(28), c.muscle); // d = 9
        assert_eq!(at(33), c.fat); // d = 14
        assert_eq!(at(50), c.air); // d = 31
    }
}
