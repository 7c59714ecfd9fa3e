//! Training and validation examples from the template: which slices are held out, and how one
//! augmented example is made.

use unet_imaging::{to_planes, BitDepth, Channels, Image, Normalization};

use crate::augment::{degrade, View};
use crate::rng::Rng;
use crate::synth::{paint, Contrast, Shells};
use crate::template::{Plane, Slice, Template};

/// Per-image input scaling of the brain model (the model card repeats it): robust to 8-bit PNG
/// and 16-bit DICOM alike, and to a few very bright voxels.
pub fn normalization() -> Normalization {
    Normalization::Percentile {
        low: 0.5,
        high: 99.5,
    }
}

/// Slices per held-out slab.
pub const SLAB: usize = 16;
/// Slices on either side of a slab that training also skips, so no near-copy of a held-out
/// slice is trained on.
pub const MARGIN: usize = 4;

/// One slab per plane that training never sees (in that plane).
#[derive(Debug, Clone)]
pub struct Split {
    slabs: [(usize, usize); 3],
    depths: [usize; 3],
    extents: [(usize, usize); 3],
}

impl Split {
    /// Slabs at 55 % (axial), 40 % (coronal) and 30 % (sagittal) of the brain's extent.
    pub fn new(template: &Template) -> Split {
        let fractions = [0.55, 0.40, 0.30];
        let mut slabs = [(0, 0); 3];
        let mut depths = [0; 3];
        let mut extents = [(0, 0); 3];
        for (p, plane) in Plane::ALL.into_iter().enumerate() {
            let (first, last) = template.brain_extent(plane);
            let start = first + ((last - first) as f32 * fractions[p]) as usize - SLAB / 2;
            slabs[p] = (start, start + SLAB);
            depths[p] = template.depth(plane);
            extents[p] = (first, last);
        }
        Split {
            slabs,
            depths,
            extents,
        }
    }

    fn index(plane: Plane) -> usize {
        Plane::ALL.iter().position(|&p| p == plane).unwrap_or(0)
    }

    /// The held-out slices of `plane`.
    pub fn held_out(&self, plane: Plane) -> std::ops::Range<usize> {
        let (a, b) = self.slabs[Split::index(plane)];
        a..b
    }

    /// Whether training may use slice `index` of `plane`. The template is left–right
    /// symmetric, so the mirror image of the sagittal slab is excluded too.
    pub fn trainable(&self, plane: Plane, index: usize) -> bool {
        let p = Split::index(plane);
        let (a, b) = self.slabs[p];
        let near = |i: usize| i + MARGIN >= a && i < b + MARGIN;
        let mirror = self.depths[p] - 1 - index;
        !(near(index) || (plane == Plane::Sagittal && near(mirror)))
    }

    /// Slices training draws from: the brain's extent and a few caps beyond it (skull only).
    pub fn training_slices(&self, plane: Plane) -> Vec<usize> {
        let p = Split::index(plane);
        let (first, last) = self.extents[p];
        let lo = first.saturating_sub(8);
        let hi = (last + 8).min(self.depths[p] - 1);
        (lo..=hi).filter(|&i| self.trainable(plane, i)).collect()
    }
}

/// One model input with its target, `height × width`.
#[derive(Debug, Clone)]
pub struct Example {
    /// Normalised image (one channel).
    pub image: Vec<f32>,
    /// Brain mask, 0 or 1.
    pub mask: Vec<f32>,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

/// Normalises like the app and the CLI do (same function, same settings).
pub fn normalise(image: Vec<f32>, height: usize, width: usize) -> Vec<f32> {
    let img = Image {
        width: width as u32,
        height: height as u32,
        channels: Channels::Gray,
        bit_depth: BitDepth::F32,
        format: "synthetic",
        pixels: image,
    };
    to_planes(&img, 1, &normalization())
        .expect("a finite one-channel image always normalises")
        .data
}

fn centroid(slice: &Slice) -> (f32, f32) {
    let (mut n, mut sy, mut sx) = (0.0, 0.0, 0.0);
    for (p, &m) in slice.mask.iter().enumerate() {
        if m > 0.0 {
            n += 1.0;
            sy += (p / slice.width) as f32;
            sx += (p % slice.width) as f32;
        }
    }
    if n == 0.0 {
        (slice.height as f32 / 2.0, slice.width as f32 / 2.0)
    } else {
        (sy / n, sx / n)
    }
}

/// A random augmented `size × size` example from slice `index` of `plane`.
pub fn example(
    template: &Template,
    plane: Plane,
    index: usize,
    size: usize,
    rng: &mut Rng,
) -> Example {
    let slice = template.slice(plane, index);
    let contrast = if rng.chance(0.7) {
        Contrast::t1_like(rng)
    } else {
        Contrast::random(rng)
    };
    let shells = Shells::random(rng);
    let painted = paint(&slice, &contrast, &shells, rng);
    let view = View::random(rng, size, centroid(&slice));
    let mut image = view.apply(&painted, slice.height, slice.width);
    let mask = view
        .apply(&slice.mask, slice.height, slice.width)
        .into_iter()
        .map(|m| if m >= 0.5 { 1.0 } else { 0.0 })
        .collect();
    degrade(&mut image, size, size, rng);
    Example {
        image: normalise(image, size, size),
        mask,
        height: size,
        width: size,
    }
}

/// A random training example: any plane, any trainable slice.
pub fn training_example(template: &Template, split: &Split, size: usize, rng: &mut Rng) -> Example {
    let plane = Plane::ALL[rng.below(3)];
    let slices = split.training_slices(plane);
    let index = slices[rng.below(slices.len())];
    example(template, plane, index, size, rng)
}

/// Augmented examples from the held-out slabs only, the same for every call with one seed.
pub fn validation_examples(
    template: &Template,
    split: &Split,
    per_plane: usize,
    size: usize,
    seed: u64,
) -> Vec<Example> {
    let mut rng = Rng::new(seed, 0xDA7A);
    let mut out = Vec::new();
    for plane in Plane::ALL {
        let slab: Vec<usize> = split.held_out(plane).collect();
        for _ in 0..per_plane {
            let index = slab[rng.below(slab.len())];
            out.push(example(template, plane, index, size, &mut rng));
        }
    }
    out
}

/// Every held-out slice, whole and un-augmented, painted with the reference contrast and head:
/// the figure the model card reports as held-out Dice. Named `PLANE_INDEX`.
pub fn heldout_slices(template: &Template, split: &Split) -> Vec<(String, Example)> {
    let mut out = Vec::new();
    for plane in Plane::ALL {
        for index in split.held_out(plane) {
            let slice = template.slice(plane, index);
            let mut rng = Rng::new(index as u64, 0x5EED);
            let image = paint(
                &slice,
                &Contrast::reference(),
                &Shells::reference(),
                &mut rng,
            );
            // As an 8-bit PNG would carry it.
            let image: Vec<f32> = image
                .iter()
                .map(|v| (v.clamp(0.0, 1.0) * 255.0).round())
                .collect();
            out.push((
                format!("{}_{index:03}", plane.name()),
                Example {
                    image,
                    mask: slice.mask.clone(),
                    height: slice.height,
                    width: slice.width,
                },
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_never_train_on_held_out_or_mirrored_slices() {
        let n = 64;
        let mut wm = vec![0.0; n * n * n];
        for k in 8..56 {
            for j in 8..56 {
                for i in 8..56 {
                    wm[i + n * (j + n * k)] = 1.0;
                }
            }
        }
        let t = Template::from_volumes([n, n, n], &wm, &vec![0.0; n * n * n], &wm);
        let split = Split::new(&t);
        for plane in Plane::ALL {
            let train = split.training_slices(plane);
            let held: Vec<usize> = split.held_out(plane).collect();
            assert_eq!(held.len(), SLAB);
            assert!(held.iter().all(|h| !train.contains(h)));
            assert!(train.len() > 10);
            if plane == Plane::Sagittal {
                let depth = t.depth(plane);
                assert!(held.iter().all(|h| !train.contains(&(depth - 1 - h))));
            }
        }
        let mut rng = Rng::new(1, 0);
        let ex = training_example(&t, &split, 48, &mut rng);
        assert_eq!(ex.image.len(), 48 * 48);
        assert!(ex.image.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(ex.mask.iter().all(|&m| m == 0.0 || m == 1.0));
        let val = validation_examples(&t, &split, 2, 48, 9);
        let again = validation_examples(&t, &split, 2, 48, 9);
        assert_eq!(val.len(), 6);
        assert!(val.iter().zip(&again).all(|(a, b)| a.image == b.image));
    }
}
