//! A real whole head as training material: pydeface's mean head (skull, face, neck and spine
//! around the brain) with its brain mask (registered from the MNI template by
//! `scripts/data/fetch_heads.sh`). The synthetic shells around the template teach what lies
//! just outside the brain; this head teaches the anatomy a real scan shows further away (eyes,
//! tongue, neck muscle, the spine) and slices that hold no brain at all, so the model learns
//! where the brain ends in all three planes.
//!
//! Contrast varies as for the template: the head's own T1 under a random gamma, blended with a
//! random intensity per tissue class, where the classes are intensity quantiles of the head.

use std::path::Path;

use crate::error::TrainError;

use unet_imaging::{decode_nifti, Plane, Slicing};

use crate::rng::Rng;
use crate::template::mask_cut;

/// pydeface's mean head, by its name inside the heads folder (`scripts/data/fetch_heads.sh`):
/// the one real head every shipped model has trained on.
pub const MEAN_HEAD: &str = "mean_head";

/// Intensity classes the head's voxels are sorted into for contrast changes (class 0 is air).
pub const CLASSES: usize = 8;

/// Voxels sampled once to estimate a painted volume's percentiles.
const PERCENTILE_SAMPLE: usize = 20_000;

/// Head tissue: scaled T1 above this (air is below).
const TISSUE: f32 = 0.06;

/// Slices with fewer head-tissue voxels than this are air only and not trained on.
const MIN_TISSUE_VOXELS: usize = 200;

/// One real head on its own voxel grid.
pub struct Head {
    dims: [usize; 3],
    affine: [[f64; 4]; 4],
    /// T1 scaled so its 99.5th percentile is 1.
    t1: Vec<f32>,
    /// Intensity class per voxel, 0..CLASSES.
    class: Vec<u8>,
    /// Brain mask, 0 or 1.
    mask: Vec<u8>,
    /// Per plane: slices that hold head tissue.
    slices: [Vec<usize>; 3],
    /// Per plane: those of `slices` that hold no brain (neck, face, scalp above the vertex).
    brain_free: [Vec<usize>; 3],
    /// A fixed random sample of voxel indices, for volume percentiles.
    sample: Vec<usize>,
}

/// A cut through the head in display orientation.
pub struct HeadSlice {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Scaled T1.
    pub t1: Vec<f32>,
    /// Intensity class.
    pub class: Vec<u8>,
    /// Brain mask, 0 or 1.
    pub mask: Vec<f32>,
}

/// How one example paints the head: `(1 − w)·t1^γ + w·lut[class]`.
#[derive(Debug, Clone)]
pub struct HeadContrast {
    gamma: f32,
    weight: f32,
    lut: [f32; CLASSES],
}

impl HeadContrast {
    /// Mostly the head's own T1 look; sometimes any contrast at all.
    pub fn random(rng: &mut Rng) -> HeadContrast {
        let mut lut = [0.0; CLASSES];
        let t1_like = rng.chance(0.7);
        for (k, v) in lut.iter_mut().enumerate() {
            *v = if t1_like {
                // Near the class's own place on the T1 scale.
                ((k as f32 + 0.5) / CLASSES as f32 + rng.range(-0.15, 0.15)).clamp(0.0, 1.0)
            } else {
                rng.unit()
            };
        }
        lut[0] = rng.range(0.0, 0.08);
        HeadContrast {
            gamma: rng.range(0.7f32.ln(), 1.5f32.ln()).exp(),
            weight: if t1_like {
                rng.range(0.0, 0.35)
            } else {
                rng.range(0.5, 1.0)
            },
            lut,
        }
    }

    /// The head's own T1, unchanged.
    pub fn identity() -> HeadContrast {
        HeadContrast {
            gamma: 1.0,
            weight: 0.0,
            lut: [0.0; CLASSES],
        }
    }

    fn paint(&self, t1: f32, class: u8) -> f32 {
        (1.0 - self.weight) * t1.max(0.0).powf(self.gamma) + self.weight * self.lut[class as usize]
    }
}

/// Where `plane`'s entry is in the per-plane arrays, which follow `Plane::ALL`.
fn plane_index(plane: Plane) -> usize {
    Plane::ALL.iter().position(|&p| p == plane).unwrap_or(0)
}

impl Head {
    /// Reads the head `NAME.nii.gz` and its brain mask `NAME_brain.nii.gz` from `dir`.
    pub fn load(dir: &Path, name: &str) -> Result<Head, TrainError> {
        let read = |name: &str| {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|error| TrainError::Io {
                path: path.clone(),
                error,
                hint: " (run scripts/data/fetch_heads.sh to fetch the heads)",
            })?;
            decode_nifti(&bytes).map_err(|error| TrainError::Volume { path, error })
        };
        let t1 = read(&format!("{name}.nii.gz"))?;
        let mask = read(&format!("{name}_brain.nii.gz"))?;
        if t1.dims != mask.dims {
            return Err(TrainError::Mismatch(format!(
                "{}: the head is {:?} but its brain mask {:?}",
                dir.display(),
                t1.dims,
                mask.dims
            )));
        }
        Ok(Head::from_volume(
            t1.dims,
            t1.affine,
            t1.frame(0),
            mask.frame(0),
        ))
    }

    /// Builds from a T1 volume (any scale) and a brain mask (> 0.5 is brain) on its grid.
    pub fn from_volume(dims: [usize; 3], affine: [[f64; 4]; 4], t1: &[f32], mask: &[f32]) -> Head {
        let mut sorted: Vec<f32> = t1.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f32::total_cmp);
        let at = |q: f32| sorted[((sorted.len() - 1) as f32 * q) as usize];
        let scale = at(0.995).max(1e-6);
        let t1: Vec<f32> = t1
            .iter()
            .map(|&v| if v.is_finite() { v / scale } else { 0.0 })
            .collect();
        // Quantiles of head tissue split it into classes 1..CLASSES.
        let mut tissue: Vec<f32> = t1.iter().copied().filter(|&v| v > TISSUE).collect();
        tissue.sort_by(f32::total_cmp);
        let edges: Vec<f32> = (1..CLASSES - 1)
            .map(|k| tissue[(tissue.len() - 1) * k / (CLASSES - 1)])
            .collect();
        let class = t1
            .iter()
            .map(|&v| {
                if v <= TISSUE {
                    0
                } else {
                    1 + edges.iter().filter(|&&e| v > e).count() as u8
                }
            })
            .collect();
        let mut rng = Rng::new(0x4EAD, 0);
        let sample = (0..PERCENTILE_SAMPLE)
            .map(|_| rng.below(t1.len()))
            .collect();
        let mut head = Head {
            dims,
            affine,
            t1,
            class,
            mask: mask.iter().map(|&m| u8::from(m > 0.5)).collect(),
            slices: Default::default(),
            brain_free: Default::default(),
            sample,
        };
        head.slices = Plane::ALL.map(|plane| {
            let slicing = head.slicing(plane);
            (0..slicing.count())
                .filter(|&s| {
                    let cut = slicing.extract(&head.t1, s);
                    cut.iter().filter(|&&v| v > TISSUE).count() >= MIN_TISSUE_VOXELS
                })
                .collect()
        });
        head.brain_free = Plane::ALL.map(|plane| {
            let slicing = head.slicing(plane);
            head.slices(plane)
                .iter()
                .copied()
                .filter(|&s| !slicing.extract(&head.mask, s).contains(&1))
                .collect()
        });
        head
    }

    fn slicing(&self, plane: Plane) -> Slicing {
        Slicing::new(self.dims, &self.affine, plane)
    }

    /// Slices of `plane` with head tissue, from the neck to above the vertex.
    pub fn slices(&self, plane: Plane) -> &[usize] {
        &self.slices[plane_index(plane)]
    }

    /// Slices of `plane` with head tissue but no brain.
    pub fn brain_free_slices(&self, plane: Plane) -> &[usize] {
        &self.brain_free[plane_index(plane)]
    }

    /// The cut at `index` through `plane`.
    pub fn slice(&self, plane: Plane, index: usize) -> HeadSlice {
        let slicing = self.slicing(plane);
        let (height, width) = slicing.shape();
        HeadSlice {
            height,
            width,
            t1: slicing.extract(&self.t1, index),
            class: slicing.extract(&self.class, index),
            mask: mask_cut(&slicing, &self.mask, index),
        }
    }

    /// Brain voxels.
    pub fn brain_voxels(&self) -> usize {
        self.mask.iter().filter(|&&m| m != 0).count()
    }

    /// `slice` painted with `contrast`.
    pub fn paint(slice: &HeadSlice, contrast: &HeadContrast) -> Vec<f32> {
        slice
            .t1
            .iter()
            .zip(&slice.class)
            .map(|(&t, &c)| contrast.paint(t, c))
            .collect()
    }

    /// The painted whole volume's values at the fixed voxel sample, from which a volume's
    /// percentiles are estimated as inference computes them over every voxel.
    pub fn painted_sample(&self, contrast: &HeadContrast) -> Vec<f32> {
        self.sample
            .iter()
            .map(|&v| contrast.paint(self.t1[v], self.class[v]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 48³ head: a brain ball inside a shell of "skull", and a "neck" column below.
    fn toy() -> Head {
        let n = 48;
        let mut t1 = vec![0.0; n * n * n];
        let mut mask = vec![0.0; n * n * n];
        for k in 0..n {
            for j in 0..n {
                for i in 0..n {
                    let (x, y, z) = (i as f32 - 24.0, j as f32 - 24.0, k as f32 - 30.0);
                    let r = (x * x + y * y + z * z).sqrt();
                    let v = i + n * (j + n * k);
                    if r < 10.0 {
                        t1[v] = 0.8;
                        mask[v] = 1.0;
                    } else if r < 14.0 || ((x * x + y * y).sqrt() < 9.0 && k < 20) {
                        t1[v] = 0.4;
                    }
                }
            }
        }
        let ras = [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ];
        Head::from_volume([n, n, n], ras, &t1, &mask)
    }

    #[test]
    fn neck_slices_are_trained_on_and_carry_no_brain() {
        let head = toy();
        let axial = head.slices(Plane::Axial);
        assert!(axial.contains(&5), "a neck slice: {axial:?}");
        assert!(!axial.contains(&47), "air above the head is skipped");
        let neck = head.slice(Plane::Axial, 5);
        assert!(neck.mask.iter().all(|&m| m == 0.0));
        assert!(neck.t1.iter().any(|&v| v > TISSUE));
        let mid = head.slice(Plane::Axial, 30);
        assert!(mid.mask.contains(&1.0));
        let painted = Head::paint(&mid, &HeadContrast::identity());
        assert_eq!(painted, mid.t1);
        // Brighter tissue sits in a higher class.
        let brain = mid.mask.iter().position(|&m| m == 1.0).unwrap();
        let skull = mid
            .t1
            .iter()
            .position(|&v| v > TISSUE && v < 0.9 * mid.t1[brain])
            .unwrap();
        assert!(mid.class[brain] > mid.class[skull]);
        assert_eq!(head.painted_sample(&HeadContrast::identity()).len(), 20_000);
    }
}
