//! Training and validation examples from the template: which slices are held out, and how one
//! augmented example is made.

use unet_imaging::{to_planes, volume_normalization, BitDepth, Channels, Image, Normalization};

use crate::augment::{degrade, View};
use crate::field::smooth_field;
use crate::head::{Head, HeadContrast};
use crate::rng::Rng;
use crate::synth::{paint, Contrast, Shells};
use crate::template::{Plane, Template};

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

/// Normalises like the app and the CLI do (same function, same settings): by the image's own
/// percentiles (a 2-D image), or by `window`, the whole volume's percentiles (a volume slice).
pub fn normalise(image: Vec<f32>, height: usize, width: usize) -> Vec<f32> {
    normalise_with(image, height, width, &normalization())
}

fn normalise_with(image: Vec<f32>, height: usize, width: usize, norm: &Normalization) -> Vec<f32> {
    let img = Image {
        width: width as u32,
        height: height as u32,
        channels: Channels::Gray,
        bit_depth: BitDepth::F32,
        format: "synthetic",
        pixels: image,
    };
    to_planes(&img, 1, norm)
        .expect("a finite one-channel image always normalises")
        .data
}

/// The window inference would use for a volume whose values are `sample` (a random sample of
/// its voxels): the card's percentiles over the whole volume.
fn volume_window(sample: Vec<f32>) -> Normalization {
    volume_normalization(&sample, &normalization()).unwrap_or_else(normalization)
}

fn centroid(mask: &[f32], width: usize) -> Option<(f32, f32)> {
    let (mut n, mut sy, mut sx) = (0.0, 0.0, 0.0);
    for (p, &m) in mask.iter().enumerate() {
        if m > 0.0 {
            n += 1.0;
            sy += (p / width) as f32;
            sx += (p % width) as f32;
        }
    }
    (n > 0.0).then(|| (sy / n, sx / n))
}

/// Crops, warps and degrades a painted slice and its mask into one example. `window` is the
/// volume scaling for examples that stand for a volume slice; `None` for a 2-D image.
fn finish(
    painted: &[f32],
    mask: &[f32],
    (height, width): (usize, usize),
    centre: (f32, f32),
    window: Option<Normalization>,
    size: usize,
    rng: &mut Rng,
) -> Example {
    let view = View::random(rng, size, centre);
    let mut image = view.apply(painted, height, width);
    let mask = view
        .apply(mask, height, width)
        .into_iter()
        .map(|m| if m >= 0.5 { 1.0 } else { 0.0 })
        .collect();
    degrade(&mut image, size, size, rng);
    let norm = window.unwrap_or_else(normalization);
    Example {
        image: normalise_with(image, size, size, &norm),
        mask,
        height: size,
        width: size,
    }
}

/// A random augmented `size × size` example from slice `index` of `plane` of the template.
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
    // Half the examples are scaled as a volume slice is: by percentiles of the whole head,
    // estimated from a mid-brain axial slice painted the same way.
    let window = rng.chance(0.5).then(|| {
        let (first, last) = template.brain_extent(Plane::Axial);
        let mid = template.slice(Plane::Axial, (first + last) / 2);
        volume_window(paint(&mid, &contrast, &shells, rng))
    });
    let (h, w) = (slice.height, slice.width);
    let centre = centroid(&slice.mask, w).unwrap_or((h as f32 / 2.0, w as f32 / 2.0));
    finish(&painted, &slice.mask, (h, w), centre, window, size, rng)
}

/// A random augmented example from a real head: any plane, any slice from the neck to above the
/// vertex, centred on the head or on its brain. With probability `brain_free_share` the slice is
/// one that holds no brain (neck, face, scalp above the vertex), whose target is empty.
pub fn head_example(head: &Head, size: usize, brain_free_share: f32, rng: &mut Rng) -> Example {
    let plane = Plane::ALL[rng.below(3)];
    // No draw when the share is 0, so runs from before the share existed reproduce.
    let brain_free = head.brain_free_slices(plane);
    let slices = if brain_free_share > 0.0 && rng.chance(brain_free_share) && !brain_free.is_empty()
    {
        brain_free
    } else {
        head.slices(plane)
    };
    let index = slices[rng.below(slices.len())];
    let mut slice = head.slice(plane, index);
    let contrast = HeadContrast::random(rng);
    let mut painted = Head::paint(&slice, &contrast);
    if rng.chance(0.3) {
        cut_field_of_view(
            &mut painted,
            &mut slice.mask,
            slice.height,
            slice.width,
            rng,
        );
    }
    let window = rng
        .chance(0.5)
        .then(|| volume_window(head.painted_sample(&contrast)));
    let (h, w) = (slice.height, slice.width);
    let tissue: Vec<f32> = slice.t1.iter().map(|&v| f32::from(v > 0.06)).collect();
    let brain = centroid(&slice.mask, w).filter(|_| rng.chance(0.5));
    let centre = brain
        .or_else(|| centroid(&tissue, w))
        .unwrap_or((h as f32 / 2.0, w as f32 / 2.0));
    finish(&painted, &slice.mask, (h, w), centre, window, size, rng)
}

/// A scan's field of view often ends inside the head (at the chin, through the cerebellum, at
/// the vertex): blanks one side of the slice, image and mask alike, from a random line on.
fn cut_field_of_view(
    image: &mut [f32],
    mask: &mut [f32],
    height: usize,
    width: usize,
    rng: &mut Rng,
) {
    let side = rng.below(4);
    let fraction = rng.range(0.1, 0.45);
    for r in 0..height {
        for c in 0..width {
            let outside = match side {
                0 => (r as f32) < fraction * height as f32,
                1 => (r as f32) > (1.0 - fraction) * height as f32,
                2 => (c as f32) < fraction * width as f32,
                _ => (c as f32) > (1.0 - fraction) * width as f32,
            };
            if outside {
                image[r * width + c] = 0.0;
                mask[r * width + c] = 0.0;
            }
        }
    }
}

/// An image with no brain at all: flat, noise, or smooth blobs.
pub fn blank_example(size: usize, rng: &mut Rng) -> Example {
    let mut image = match rng.below(3) {
        0 => vec![rng.unit(); size * size],
        1 => (0..size * size).map(|_| rng.normal().abs()).collect(),
        _ => {
            let cells = 2 + rng.below(6);
            smooth_field(rng, size, size, cells)
                .into_iter()
                .map(|v| (v + 1.0).max(0.0))
                .collect()
        }
    };
    degrade(&mut image, size, size, rng);
    Example {
        image: normalise(image, size, size),
        mask: vec![0.0; size * size],
        height: size,
        width: size,
    }
}

/// Where training examples come from.
pub struct Sources {
    /// The MNI template with synthetic heads around it.
    pub template: Template,
    /// Its held-out slabs.
    pub split: Split,
    /// Real heads (skull, face, neck) with their brain masks.
    pub heads: Vec<Head>,
    /// Share of the examples drawn from `heads` (the rest, blanks aside, are synthetic heads).
    pub head_share: f32,
    /// Of those, the share cut through slices that hold no brain ([`head_example`]).
    pub brain_free_share: f32,
}

/// Default share of real-head examples in a batch ([`Sources::head_share`]), and the share of
/// blank ones; the rest are synthetic heads.
pub const HEAD_SHARE: f32 = 0.45;
/// See [`HEAD_SHARE`].
pub const BLANK_SHARE: f32 = 0.03;

/// A random training example: a real head, a synthetic head (any plane, any trainable slice),
/// or a blank image.
pub fn training_example(sources: &Sources, size: usize, rng: &mut Rng) -> Example {
    let draw = rng.unit();
    if draw < BLANK_SHARE {
        return blank_example(size, rng);
    }
    if draw < BLANK_SHARE + sources.head_share && !sources.heads.is_empty() {
        let head = &sources.heads[rng.below(sources.heads.len())];
        return head_example(head, size, sources.brain_free_share, rng);
    }
    let plane = Plane::ALL[rng.below(3)];
    let slices = sources.split.training_slices(plane);
    let index = slices[rng.below(slices.len())];
    example(&sources.template, plane, index, size, rng)
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
        let sources = Sources {
            template: t,
            split: split.clone(),
            heads: Vec::new(),
            head_share: HEAD_SHARE,
            brain_free_share: 0.0,
        };
        let ex = training_example(&sources, 48, &mut rng);
        assert_eq!(ex.image.len(), 48 * 48);
        assert!(ex.image.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(ex.mask.iter().all(|&m| m == 0.0 || m == 1.0));
        let val = validation_examples(&sources.template, &split, 2, 48, 9);
        let again = validation_examples(&sources.template, &split, 2, 48, 9);
        assert_eq!(val.len(), 6);
        assert!(val.iter().zip(&again).all(|(a, b)| a.image == b.image));
    }
}
