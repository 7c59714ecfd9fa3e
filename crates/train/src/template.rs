//! The MNI ICBM152 2009a template as training material: T1 intensities, grey- and white-matter
//! probabilities, the brain mask derived from them, and each voxel's distance from the brain
//! (the scaffold on which skull and scalp are synthesised, see [`crate::synth`]).
//!
//! The brain mask: grey + white matter probability above 0.5, closed with a ball of radius
//! [`CLOSING_RADIUS`] (so narrow sulci count as brain and the outline is the smooth envelope that
//! skull-stripping tools draw), then every hole filled, in 3-D and in each slice of all three
//! planes, so the ventricles and deep CSF count as brain too.

use std::path::Path;

use crate::error::TrainError;

use unet_imaging::{decode_nifti, fill_holes, Slicing};

/// Voxels of empty margin added on every side: room for the synthetic skull and scalp.
pub const PAD: usize = 40;

/// Radius in voxels (1 mm) of the morphological closing of the tissue mask.
pub const CLOSING_RADIUS: f32 = 2.5;

/// File names inside the data folder (see `scripts/data/fetch_mni.sh`).
pub const FILES: [&str; 3] = [
    "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
    "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
    "mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz",
];

pub use unet_imaging::Plane;

/// One 2-D cut through the template, in display orientation, `height × width` row-major.
#[derive(Debug, Clone)]
pub struct Slice {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// T1 intensity, 0–1.
    pub t1: Vec<f32>,
    /// Grey-matter probability, 0–1.
    pub gm: Vec<f32>,
    /// White-matter probability, 0–1.
    pub wm: Vec<f32>,
    /// The brain mask, 0 or 1.
    pub mask: Vec<f32>,
    /// Distance from the brain in voxels (0 inside).
    pub dist: Vec<f32>,
}

/// The padded template volumes, x fastest.
pub struct Template {
    /// Voxels along i, j, k after padding.
    pub dims: [usize; 3],
    t1: Vec<f32>,
    gm: Vec<f32>,
    wm: Vec<f32>,
    mask: Vec<u8>,
    dist: Vec<f32>,
}

impl Template {
    /// Reads the three volumes from `dir` and derives the mask and distance map.
    pub fn load(dir: &Path) -> Result<Template, TrainError> {
        let read = |name: &str| {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|error| TrainError::Io {
                path: path.clone(),
                error,
                hint: " (run scripts/data/fetch_mni.sh to fetch the template)",
            })?;
            decode_nifti(&bytes).map_err(|error| TrainError::Volume { path, error })
        };
        let [t1, gm, wm] = FILES.map(read);
        let (t1, gm, wm) = (t1?, gm?, wm?);
        if t1.dims != gm.dims || t1.dims != wm.dims {
            return Err(TrainError::Mismatch(
                "the template's T1, GM and WM volumes differ in size".into(),
            ));
        }
        Ok(Template::from_volumes(
            t1.dims,
            t1.frame(0),
            gm.frame(0),
            wm.frame(0),
        ))
    }

    /// Builds from raw volumes (any scale: each is divided by its maximum).
    pub fn from_volumes(dims: [usize; 3], t1: &[f32], gm: &[f32], wm: &[f32]) -> Template {
        let padded = dims.map(|d| d + 2 * PAD);
        let pad = |v: &[f32]| {
            let max = v.iter().cloned().fold(0.0f32, f32::max).max(1e-6);
            let mut out = vec![0.0; padded.iter().product()];
            for k in 0..dims[2] {
                for j in 0..dims[1] {
                    for i in 0..dims[0] {
                        let dst = (i + PAD) + padded[0] * ((j + PAD) + padded[1] * (k + PAD));
                        out[dst] = v[i + dims[0] * (j + dims[1] * k)] / max;
                    }
                }
            }
            out
        };
        let (t1, gm, wm) = (pad(t1), pad(gm), pad(wm));
        let mut template = Template {
            dims: padded,
            mask: gm
                .iter()
                .zip(&wm)
                .map(|(g, w)| u8::from(g + w > 0.5))
                .collect(),
            t1,
            gm,
            wm,
            dist: Vec::new(),
        };
        template.mask = closing(&template.mask, padded, CLOSING_RADIUS);
        template.fill_mask_holes();
        template.dist = chamfer_distance(&template.mask, padded);
        template
    }

    /// Number of slices along a plane's normal.
    pub fn depth(&self, plane: Plane) -> usize {
        self.slicing(plane).count()
    }

    /// (rows, columns) of a slice in `plane`.
    pub fn slice_shape(&self, plane: Plane) -> (usize, usize) {
        self.slicing(plane).shape()
    }

    /// The template is stored RAS with 1 mm voxels, so its slices are the app's and the CLI's.
    fn slicing(&self, plane: Plane) -> Slicing {
        let ras = [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ];
        Slicing::new(self.dims, &ras, plane)
    }

    /// The first and last slice (inclusive) of `plane` that contain brain.
    pub fn brain_extent(&self, plane: Plane) -> (usize, usize) {
        let slicing = self.slicing(plane);
        let has_brain = |s: usize| slicing.extract(&self.mask, s).iter().any(|&m| m != 0);
        let depth = self.depth(plane);
        let first = (0..depth).find(|&s| has_brain(s)).unwrap_or(0);
        let last = (0..depth)
            .rev()
            .find(|&s| has_brain(s))
            .unwrap_or(depth - 1);
        (first, last)
    }

    /// The cut at `index` through `plane`.
    pub fn slice(&self, plane: Plane, index: usize) -> Slice {
        let slicing = self.slicing(plane);
        let (height, width) = slicing.shape();
        Slice {
            height,
            width,
            t1: slicing.extract(&self.t1, index),
            gm: slicing.extract(&self.gm, index),
            wm: slicing.extract(&self.wm, index),
            mask: mask_cut(&slicing, &self.mask, index),
            dist: slicing.extract(&self.dist, index),
        }
    }

    /// Brain voxels in the mask.
    pub fn brain_voxels(&self) -> usize {
        self.mask.iter().filter(|&&m| m != 0).count()
    }

    fn fill_mask_holes(&mut self) {
        let dims = self.dims;
        fill_holes(&mut self.mask, dims);
        for plane in Plane::ALL {
            let slicing = self.slicing(plane);
            let (h, w) = slicing.shape();
            for s in 0..slicing.count() {
                let mut cut = slicing.extract(&self.mask, s);
                fill_holes_2d(&mut cut, h, w);
                slicing.store(&mut self.mask, s, &cut);
            }
        }
    }
}

/// Cut `index` of a 0/1 byte mask, as the 0.0/1.0 targets training compares logits with.
pub fn mask_cut(slicing: &Slicing, mask: &[u8], index: usize) -> Vec<f32> {
    slicing
        .extract(mask, index)
        .into_iter()
        .map(f32::from)
        .collect()
}

/// Fills the background of a 2-D mask that the border cannot reach (4-connected), as
/// `scipy.ndimage.binary_fill_holes` does.
pub fn fill_holes_2d(mask: &mut [u8], h: usize, w: usize) {
    fill_holes(mask, [w, h, 1]);
}

/// Dilation then erosion by a ball of `radius` voxels (chamfer distances).
fn closing(mask: &[u8], dims: [usize; 3], radius: f32) -> Vec<u8> {
    let dilated: Vec<u8> = chamfer_distance(mask, dims)
        .iter()
        .map(|&d| u8::from(d <= radius))
        .collect();
    let outside: Vec<u8> = dilated.iter().map(|&m| 1 - m).collect();
    chamfer_distance(&outside, dims)
        .iter()
        .map(|&d| u8::from(d > radius))
        .collect()
}

/// Approximate Euclidean distance (in voxels) from every voxel to the nearest mask voxel:
/// the 3-4-5 chamfer metric in two raster passes.
pub fn chamfer_distance(mask: &[u8], [x, y, z]: [usize; 3]) -> Vec<f32> {
    const INF: u32 = u32::MAX / 2;
    let mut d: Vec<u32> = mask.iter().map(|&m| if m != 0 { 0 } else { INF }).collect();
    // Neighbours that come earlier in raster order, with their chamfer weights.
    let mut before = Vec::new();
    for dk in -1i32..=0 {
        for dj in -1i32..=1 {
            for di in -1i32..=1 {
                let earlier = dk < 0 || (dk == 0 && (dj < 0 || (dj == 0 && di < 0)));
                if earlier {
                    let weight = match di.abs() + dj.abs() + dk.abs() {
                        1 => 3,
                        2 => 4,
                        _ => 5,
                    };
                    before.push((di, dj, dk, weight));
                }
            }
        }
    }
    let (xi, yi, zi) = (x as i32, y as i32, z as i32);
    let pass = |d: &mut Vec<u32>, sign: i32, order: &mut dyn Iterator<Item = usize>| {
        for v in order {
            let (i, j, k) = ((v % x) as i32, ((v / x) % y) as i32, (v / (x * y)) as i32);
            let mut best = d[v];
            for &(di, dj, dk, w) in &before {
                let (ni, nj, nk) = (i + sign * di, j + sign * dj, k + sign * dk);
                if ni >= 0 && nj >= 0 && nk >= 0 && ni < xi && nj < yi && nk < zi {
                    let n = (ni + xi * (nj + yi * nk)) as usize;
                    best = best.min(d[n] + w);
                }
            }
            d[v] = best;
        }
    };
    let n = mask.len();
    pass(&mut d, 1, &mut (0..n));
    pass(&mut d, -1, &mut (0..n).rev());
    d.into_iter().map(|v| v as f32 / 3.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 40³ "head": a ball of white matter with a cavity (a ventricle) inside.
    fn ball() -> Template {
        let n = 40;
        let mut t1 = vec![0.0; n * n * n];
        let mut gm = vec![0.0; n * n * n];
        let mut wm = vec![0.0; n * n * n];
        for k in 0..n {
            for j in 0..n {
                for i in 0..n {
                    let r = ((i as f32 - 20.0).powi(2)
                        + (j as f32 - 20.0).powi(2)
                        + (k as f32 - 20.0).powi(2))
                    .sqrt();
                    let v = i + n * (j + n * k);
                    if (4.0..12.0).contains(&r) {
                        wm[v] = 1.0;
                        gm[v] = 0.1;
                        t1[v] = 0.8;
                    }
                }
            }
        }
        Template::from_volumes([n, n, n], &t1, &gm, &wm)
    }

    #[test]
    fn mask_fills_the_cavity_and_distance_grows_outwards() {
        let t = ball();
        let c = 20 + PAD;
        let s = t.slice(Plane::Axial, c);
        let (h, w) = (s.height, s.width);
        assert_eq!((h, w), (40 + 2 * PAD, 40 + 2 * PAD));
        // The centre row of the display runs through the ball's centre.
        // Rows start at the anterior end, columns at the patient's right (radiological).
        let (row, col) = (h - 1 - c, w - 1 - c);
        assert_eq!(s.mask[row * w + col], 1.0, "cavity filled");
        assert_eq!(s.dist[row * w + col], 0.0);
        let edge = col + 12; // just outside the radius
        let d = s.dist[row * w + edge + 5];
        assert!((4.5..6.5).contains(&d), "about 5 voxels out: {d}");
        assert!(s.dist[row * w + edge + 10] > d);
        let (first, last) = t.brain_extent(Plane::Coronal);
        assert!(first >= PAD + 8 && last <= PAD + 32, "{first}..{last}");
        let expected = 4.0 / 3.0 * std::f32::consts::PI * 12f32.powi(3);
        let got = t.brain_voxels() as f32;
        assert!((got / expected - 1.0).abs() < 0.1, "{got} vs {expected}");
    }
}
