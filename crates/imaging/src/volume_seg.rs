//! A volume through a 2-D model, the same way in the CLI and the app: every slice is scaled by
//! the whole volume's statistics (a slice of neck or scalp is not stretched as if it held a
//! brain), one plane or all three are run, the planes' probabilities are averaged (2.5-D), and
//! the label map is post-processed in 3-D as the model card declares.
//!
//! The caller owns the network and the loop: [`VolumeSegmenter::steps`] says which slices to
//! run, [`VolumeSegmenter::input`] gives each one's model input, and
//! [`VolumeSegmenter::add`] takes its logits back. The CLI loops synchronously; the app
//! awaits the GPU and yields to the page between slices.

use crate::error::ImagingError;
use crate::labels::{slice_image, LabelVolume};
use crate::mask::{mask_above, sigmoid};
use crate::nifti::Volume;
use crate::normalize::{volume_normalization, Normalization};
use crate::postprocess::{apply, PostStep};
use crate::preprocess::{to_planes, Planes};
use crate::slicing::Plane;

/// Which planes a volume is cut in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlaneChoice {
    /// One plane: each voxel's label is that plane's mask, exactly as for a 2-D image.
    One(Plane),
    /// Axial, coronal and sagittal; each voxel takes the class with the highest mean
    /// probability over the three.
    All,
}

impl PlaneChoice {
    /// `axial`, `coronal`, `sagittal` or `all`, as flags and model cards spell it.
    pub fn from_name(name: &str) -> Option<PlaneChoice> {
        match name {
            "all" => Some(PlaneChoice::All),
            other => Plane::from_name(other).map(PlaneChoice::One),
        }
    }

    /// The name [`PlaneChoice::from_name`] reads.
    pub fn name(self) -> &'static str {
        match self {
            PlaneChoice::One(plane) => plane.name(),
            PlaneChoice::All => "all",
        }
    }

    /// The planes run, in order.
    pub fn planes(self) -> Vec<Plane> {
        match self {
            PlaneChoice::One(plane) => vec![plane],
            PlaneChoice::All => Plane::ALL.to_vec(),
        }
    }
}

/// Per-voxel evidence gathered from the slices so far.
#[derive(Debug, Clone)]
enum Evidence {
    /// One plane: the labels themselves.
    Labels,
    /// Several planes: per class, the sum over planes of the probability in 1/255 steps.
    Probabilities { classes: usize, sums: Vec<u16> },
}

/// One volume frame being segmented slice by slice.
#[derive(Debug, Clone)]
pub struct VolumeSegmenter {
    frame: usize,
    choice: PlaneChoice,
    channels: usize,
    scaling: Normalization,
    postprocess: Vec<PostStep>,
    threshold: f32,
    labels: LabelVolume,
    evidence: Evidence,
}

impl VolumeSegmenter {
    /// Prepares to segment `frame` of `volume` for a model with `channels` inputs, the card's
    /// `preprocessing` (computed over the whole frame) and its `postprocess` steps.
    ///
    /// # Errors
    /// A frame out of range, or a frame without a single finite value.
    pub fn new(
        volume: &Volume,
        frame: usize,
        choice: PlaneChoice,
        channels: usize,
        preprocessing: &Normalization,
        postprocess: &[PostStep],
    ) -> Result<VolumeSegmenter, ImagingError> {
        if frame >= volume.frames {
            return Err(ImagingError::Unsupported(format!(
                "frame {frame} asked for, but the volume has {} frame(s): choose 0 to {}",
                volume.frames,
                volume.frames.saturating_sub(1)
            )));
        }
        let scaling =
            volume_normalization(volume.frame(frame), preprocessing).ok_or_else(|| {
                ImagingError::Corrupt("the volume holds no finite value to segment".into())
            })?;
        Ok(VolumeSegmenter {
            frame,
            choice,
            channels,
            scaling,
            postprocess: postprocess.to_vec(),
            threshold: 0.5,
            labels: LabelVolume::new(volume),
            evidence: Evidence::Labels,
        })
    }

    /// A one-output (sigmoid) model's voxel is foreground where its probability, averaged over
    /// the planes run, is above `threshold` (the card's; 0.5 unless it says otherwise). A model
    /// that labels the surroundings of its target too generously is made tighter this way
    /// without retraining. Multi-class models take the most probable class whatever it is.
    pub fn with_threshold(mut self, threshold: f32) -> VolumeSegmenter {
        self.threshold = threshold;
        self
    }

    /// The scaling every slice gets (the card's rule over the whole frame).
    pub fn scaling(&self) -> &Normalization {
        &self.scaling
    }

    /// Every (plane, slice) to run, in order.
    pub fn steps(&self, volume: &Volume) -> Vec<(Plane, usize)> {
        self.choice
            .planes()
            .into_iter()
            .flat_map(|plane| (0..volume.slicing(plane).count()).map(move |i| (plane, i)))
            .collect()
    }

    /// The model input of slice `index` of `plane`.
    ///
    /// # Errors
    /// As [`to_planes`]: a channel count the image cannot be matched to.
    pub fn input(
        &self,
        volume: &Volume,
        plane: Plane,
        index: usize,
    ) -> Result<Planes, ImagingError> {
        let slicing = volume.slicing(plane);
        let image = slice_image(volume, self.frame, &slicing, index);
        to_planes(&image, self.channels, &self.scaling)
    }

    /// Takes the logits (`classes × height × width`, channel-major) of slice `index` of `plane`.
    ///
    /// # Errors
    /// Logits of another size than the slice, or a class count masks cannot hold (1 to 256).
    pub fn add(
        &mut self,
        volume: &Volume,
        plane: Plane,
        index: usize,
        logits: &[f32],
        classes: usize,
    ) -> Result<(), ImagingError> {
        let slicing = volume.slicing(plane);
        let (height, width) = slicing.shape();
        if !(1..=256).contains(&classes) {
            return Err(ImagingError::Unsupported(format!(
                "the model has {classes} outputs; label maps hold 1 to 256 classes"
            )));
        }
        if logits.len() != classes * height * width {
            return Err(ImagingError::Corrupt(format!(
                "{} slice {index}: {} logits for {classes} class(es) of {width}×{height}",
                plane.name(),
                logits.len()
            )));
        }
        if self.choice != PlaneChoice::All {
            let mask = mask_above(logits, classes, height, width, self.threshold);
            self.labels.store(&slicing, index, &mask.data);
            return Ok(());
        }
        let voxels = self.labels.data.len();
        if let Evidence::Labels = self.evidence {
            // A sigmoid model needs only the foreground's probability.
            let stored = if classes == 1 { 1 } else { classes };
            self.evidence = Evidence::Probabilities {
                classes: stored,
                sums: vec![0; stored * voxels],
            };
        }
        let Evidence::Probabilities {
            classes: stored,
            sums,
        } = &mut self.evidence
        else {
            unreachable!("set just above");
        };
        let wanted = if classes == 1 { 1 } else { classes };
        if *stored != wanted {
            return Err(ImagingError::Corrupt(
                "the class count changed between slices".into(),
            ));
        }
        let pixels = height * width;
        let mut probability = vec![0u16; pixels];
        for c in 0..*stored {
            for (p, out) in probability.iter_mut().enumerate() {
                let value = if classes == 1 {
                    sigmoid(logits[p])
                } else {
                    softmax_at(logits, classes, pixels, p, c)
                };
                *out = (value * 255.0).round() as u16;
            }
            let class_sums = &mut sums[c * voxels..(c + 1) * voxels];
            let mut current = slicing.extract(class_sums, index);
            for (s, p) in current.iter_mut().zip(&probability) {
                *s += p;
            }
            slicing.store(class_sums, index, &current);
        }
        Ok(())
    }

    /// The label map: fused over the planes if several ran, then post-processed.
    pub fn finish(mut self) -> LabelVolume {
        if let Evidence::Probabilities { classes, sums } = &self.evidence {
            let planes = self.choice.planes().len() as f64;
            let voxels = self.labels.data.len();
            let needed = f64::from(self.threshold) * 255.0 * planes;
            for (v, label) in self.labels.data.iter_mut().enumerate() {
                *label = if *classes == 1 {
                    // Mean probability (in 1/255 steps) above the threshold.
                    u8::from(f64::from(sums[v]) > needed)
                } else {
                    let mut best = 0;
                    for c in 1..*classes {
                        if sums[c * voxels + v] > sums[best * voxels + v] {
                            best = c;
                        }
                    }
                    best as u8
                };
            }
        }
        let (dims, spacing) = (self.labels.dims(), self.labels.spacing());
        apply(&self.postprocess, &mut self.labels.data, dims, spacing);
        self.labels
    }
}

/// Softmax of class `c` at pixel `p` of channel-major logits.
fn softmax_at(logits: &[f32], classes: usize, pixels: usize, p: usize, c: usize) -> f32 {
    let at = |k: usize| logits[k * pixels + p];
    let max = (0..classes).map(at).fold(f32::NEG_INFINITY, f32::max);
    let total: f32 = (0..classes).map(|k| (at(k) - max).exp()).sum();
    (at(c) - max).exp() / total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cube() -> Volume {
        // 12×10×8, 1 mm, RAS: a bright box in the middle of a dim volume.
        let dims = [12, 10, 8];
        let mut data = vec![10.0; 12 * 10 * 8];
        for k in 2..6 {
            for j in 3..7 {
                for i in 4..9 {
                    data[i + 12 * (j + 10 * k)] = 200.0;
                }
            }
        }
        Volume {
            dims,
            frames: 1,
            spacing: [1.0; 3],
            affine: [
                [1.0, 0.0, 0.0, 0.0],
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 1.0, 0.0],
                [0.0, 0.0, 0.0, 1.0],
            ],
            data,
            datatype: 16,
            version: 1,
        }
    }

    /// A "model" that calls bright input brain: logit = 8·(x − 0.5), plus `bias`.
    fn run(volume: &Volume, choice: PlaneChoice, bias: [f32; 3], post: &[PostStep]) -> Vec<u8> {
        run_at(volume, choice, bias, post, 0.5)
    }

    /// [`run`] with the card's `threshold`.
    fn run_at(
        volume: &Volume,
        choice: PlaneChoice,
        bias: [f32; 3],
        post: &[PostStep],
        threshold: f32,
    ) -> Vec<u8> {
        let norm = Normalization::Percentile {
            low: 0.0,
            high: 100.0,
        };
        let mut seg = VolumeSegmenter::new(volume, 0, choice, 1, &norm, post)
            .unwrap()
            .with_threshold(threshold);
        for (plane, index) in seg.steps(volume) {
            let input = seg.input(volume, plane, index).unwrap();
            let b = bias[Plane::ALL.iter().position(|&p| p == plane).unwrap()];
            let logits: Vec<f32> = input.data.iter().map(|x| 8.0 * (x - 0.5) + b).collect();
            seg.add(volume, plane, index, &logits, 1).unwrap();
        }
        seg.finish().data
    }

    #[test]
    fn every_slice_shares_the_volume_scale() {
        // A slice holding only dim voxels would be stretched to 0–1 on its own; on the
        // volume's scale it stays dark.
        let v = cube();
        let norm = Normalization::Percentile {
            low: 0.0,
            high: 100.0,
        };
        let seg =
            VolumeSegmenter::new(&v, 0, PlaneChoice::One(Plane::Axial), 1, &norm, &[]).unwrap();
        let planes = seg.input(&v, Plane::Axial, 0).unwrap();
        assert!(planes.data.iter().all(|&x| x == 0.0));
        let planes = seg.input(&v, Plane::Axial, 3).unwrap();
        assert!(planes.data.contains(&1.0));
    }

    #[test]
    fn one_plane_and_three_planes_find_the_box() {
        let v = cube();
        let expected: Vec<u8> = v.data.iter().map(|&x| u8::from(x > 100.0)).collect();
        for plane in Plane::ALL {
            assert_eq!(run(&v, PlaneChoice::One(plane), [0.0; 3], &[]), expected);
        }
        assert_eq!(run(&v, PlaneChoice::All, [0.0; 3], &[]), expected);
        // One plane that calls everything brain is outvoted by the other two.
        assert_eq!(run(&v, PlaneChoice::All, [0.0, 0.0, 20.0], &[]), expected);
        let steps = VolumeSegmenter::new(&v, 0, PlaneChoice::All, 1, &Normalization::MinMax, &[])
            .unwrap()
            .steps(&v)
            .len();
        assert_eq!(steps, 8 + 10 + 12);
    }

    #[test]
    fn the_threshold_decides_a_sigmoid_models_voxels() {
        // Bright voxels get p = sigmoid(4) ≈ 0.982: above 0.9, below 0.99, in one plane or three.
        let v = cube();
        let boxed = v.data.iter().filter(|&&x| x > 100.0).count();
        for choice in [PlaneChoice::One(Plane::Coronal), PlaneChoice::All] {
            for (threshold, expected) in [(0.9, boxed), (0.99, 0)] {
                let labels = run_at(&v, choice, [0.0; 3], &[], threshold);
                let found = labels.iter().filter(|&&l| l == 1).count();
                assert_eq!(found, expected, "{choice:?} at {threshold}");
            }
        }
    }

    #[test]
    fn post_processing_keeps_the_largest_component() {
        let mut v = cube();
        v.data[0] = 200.0; // a stray bright voxel in a corner
        let plain = run(&v, PlaneChoice::One(Plane::Axial), [0.0; 3], &[]);
        assert_eq!(plain[0], 1);
        let kept = run(
            &v,
            PlaneChoice::One(Plane::Axial),
            [0.0; 3],
            &[PostStep::LargestComponent],
        );
        assert_eq!(kept[0], 0);
        assert_eq!(kept.iter().filter(|&&l| l == 1).count(), 4 * 4 * 5);
    }

    #[test]
    fn bad_frames_and_logits_are_refused() {
        let v = cube();
        let err = VolumeSegmenter::new(&v, 1, PlaneChoice::All, 1, &Normalization::MinMax, &[])
            .unwrap_err();
        assert!(err.to_string().contains("choose 0 to 0"), "{err}");
        let mut seg =
            VolumeSegmenter::new(&v, 0, PlaneChoice::All, 1, &Normalization::MinMax, &[]).unwrap();
        assert!(seg.add(&v, Plane::Axial, 0, &[0.0; 3], 1).is_err());
        assert!(seg
            .add(&v, Plane::Axial, 0, &[0.0; 120 * 300], 300)
            .is_err());
        assert_eq!(PlaneChoice::from_name("all"), Some(PlaneChoice::All));
        assert_eq!(
            PlaneChoice::from_name("coronal"),
            Some(PlaneChoice::One(Plane::Coronal))
        );
        assert_eq!(PlaneChoice::from_name("oblique"), None);
    }
}
