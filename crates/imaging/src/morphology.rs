//! Morphological opening of label volumes by a ball in millimetres, the step that cuts a brain
//! mask loose from tissue it touches through a narrow bridge (neck, skull base, eyes) before the
//! largest component is kept.
//!
//! Defined as scipy's: for each class c, `scipy.ndimage.binary_opening(labels == c, structure)`
//! where `structure` is the ellipsoid of voxel offsets `o` with `Σ (o_i · spacing_i)² ≤ r²`, over
//! the axes longer than one voxel (a single slice is opened in 2-D), and the outside of the
//! volume counts as background (scipy's `border_value=0`). Voxels of c that the opening removes
//! become 0. `tests/postprocess.rs` checks fixtures written by
//! `scripts/fixtures/make_postprocess_fixtures.py` voxel for voxel.
//!
//! A ball is not separable, so erosion and dilation are thresholded exact Euclidean distance
//! transforms (Felzenszwalb and Huttenlocher's lower envelope, one pass per axis): O(voxels) for
//! any radius, on the class's bounding box only, one `f32` per voxel of it.

/// Opens every foreground class of `labels` (x fastest, `dims` = `[nx, ny, nz]`) by the ball of
/// `radius_mm` with voxel `spacing` in mm. A radius that is not positive and finite, or a
/// spacing that is not, leaves the labels as they are.
///
/// # Panics
/// If `labels.len()` is not `nx * ny * nz`.
pub fn open(labels: &mut [u8], dims: [usize; 3], spacing: [f32; 3], radius_mm: f32) {
    let voxels = dims[0]
        .checked_mul(dims[1])
        .and_then(|v| v.checked_mul(dims[2]));
    assert_eq!(
        voxels,
        Some(labels.len()),
        "open: {} labels for dims {dims:?}",
        labels.len()
    );
    let usable = |x: f32| x.is_finite() && x > 0.0;
    if !usable(radius_mm) || !spacing.into_iter().all(usable) {
        return;
    }
    let mut present = [false; 256];
    for &label in labels.iter() {
        present[usize::from(label)] = true;
    }
    for c in (1..=255u8).filter(|&c| present[usize::from(c)]) {
        open_class(labels, dims, spacing, radius_mm, c);
    }
}

/// A box of the volume: inclusive start, exclusive end, per axis.
#[derive(Clone, Copy, Debug)]
struct Region {
    start: [usize; 3],
    end: [usize; 3],
}

impl Region {
    fn dims(&self) -> [usize; 3] {
        std::array::from_fn(|a| self.end[a] - self.start[a])
    }

    /// Volume index of the region's voxel `i` (x fastest within the region).
    fn volume_index(&self, i: usize, dims: [usize; 3]) -> usize {
        let size = self.dims();
        let (x, y, z) = (i % size[0], i / size[0] % size[1], i / (size[0] * size[1]));
        (self.start[0] + x) + dims[0] * ((self.start[1] + y) + dims[1] * (self.start[2] + z))
    }
}

fn open_class(labels: &mut [u8], dims: [usize; 3], spacing: [f32; 3], radius: f32, c: u8) {
    // The class's bounding box, grown by the ball's reach: every background voxel that can
    // erode a voxel of c lies inside it, or beyond the volume's faces.
    let mut lo = dims;
    let mut hi = [0usize; 3];
    for (i, _) in labels.iter().enumerate().filter(|(_, &l)| l == c) {
        let at = [i % dims[0], i / dims[0] % dims[1], i / (dims[0] * dims[1])];
        for a in 0..3 {
            lo[a] = lo[a].min(at[a]);
            hi[a] = hi[a].max(at[a] + 1);
        }
    }
    let reach: [usize; 3] = std::array::from_fn(|a| (radius / spacing[a]).floor() as usize + 1);
    let region = Region {
        start: std::array::from_fn(|a| lo[a].saturating_sub(reach[a])),
        end: std::array::from_fn(|a| (hi[a] + reach[a]).min(dims[a])),
    };
    let size = region.dims();
    let len = size[0] * size[1] * size[2];
    // Squared radius with a little room, so that offsets exactly on the sphere count as inside
    // it however the squares round.
    let limit = f64::from(radius) * f64::from(radius) * (1.0 + 1e-6);
    let is_c: Vec<bool> = (0..len)
        .map(|i| labels[region.volume_index(i, dims)] == c)
        .collect();

    // Erosion: voxels of c whose nearest other voxel (the outside included) is beyond the radius.
    let mut distance: Vec<f32> = is_c
        .iter()
        .map(|&inside| if inside { f32::INFINITY } else { 0.0 })
        .collect();
    let outside_is_background = std::array::from_fn(|a| dims[a] > 1);
    squared_distance(&mut distance, size, spacing, outside_is_background);
    let eroded: Vec<bool> = distance
        .iter()
        .zip(&is_c)
        .map(|(&d, &inside)| inside && f64::from(d) > limit)
        .collect();

    // Dilation of the eroded set: what lies within the radius of it survives.
    for (d, &e) in distance.iter_mut().zip(&eroded) {
        *d = if e { 0.0 } else { f32::INFINITY };
    }
    squared_distance(&mut distance, size, spacing, [false; 3]);
    for (i, (&d, &inside)) in distance.iter().zip(&is_c).enumerate() {
        if inside && f64::from(d) > limit {
            labels[region.volume_index(i, dims)] = 0;
        }
    }
}

/// Replaces `values` (0 at the sites, infinity elsewhere, x fastest over `size`) by each voxel's
/// squared distance in mm to the nearest site. Where `outside_sites[a]`, the voxels just beyond
/// both ends of axis a are sites too. Axes of one voxel are skipped: distance is measured in the
/// other axes only.
fn squared_distance(
    values: &mut [f32],
    size: [usize; 3],
    spacing: [f32; 3],
    outside_sites: [bool; 3],
) {
    let mut line = Line::default();
    for axis in 0..3 {
        let n = size[axis];
        if n <= 1 {
            continue;
        }
        let stride = match axis {
            0 => 1,
            1 => size[0],
            _ => size[0] * size[1],
        };
        let (others_a, others_b) = match axis {
            0 => (size[1], size[2]),
            1 => (size[0], size[2]),
            _ => (size[0], size[1]),
        };
        for b in 0..others_b {
            for a in 0..others_a {
                let first = match axis {
                    0 => size[0] * (a + size[1] * b),
                    1 => a + size[0] * size[1] * b,
                    _ => a + size[0] * b,
                };
                line.run(
                    values,
                    first,
                    stride,
                    n,
                    f64::from(spacing[axis]),
                    outside_sites[axis],
                );
            }
        }
    }
}

/// Scratch for one line's lower envelope of parabolas.
#[derive(Default)]
struct Line {
    /// Parabola vertices (position in mm) and heights.
    at: Vec<f64>,
    height: Vec<f64>,
    /// Where each parabola starts to be the lowest.
    from: Vec<f64>,
    out: Vec<f64>,
}

impl Line {
    /// `values[first + k·stride]` for k in 0..n becomes min over sites j of `((k − j)·step)² +
    /// values[j]`; with `edges`, positions −1 and n are sites of height 0.
    fn run(
        &mut self,
        values: &mut [f32],
        first: usize,
        stride: usize,
        n: usize,
        step: f64,
        edges: bool,
    ) {
        self.at.clear();
        self.height.clear();
        self.from.clear();
        let sites = edges
            .then_some((-step, 0.0))
            .into_iter()
            .chain((0..n).filter_map(|k| {
                let h = values[first + k * stride];
                h.is_finite().then_some((k as f64 * step, f64::from(h)))
            }))
            .chain(edges.then_some((n as f64 * step, 0.0)));
        for (x, h) in sites {
            let mut start = f64::NEG_INFINITY;
            while let (Some(&px), Some(&ph), Some(&pf)) =
                (self.at.last(), self.height.last(), self.from.last())
            {
                // Where this parabola meets the last one on the envelope.
                let meet = ((h + x * x) - (ph + px * px)) / (2.0 * (x - px));
                if meet <= pf {
                    self.at.pop();
                    self.height.pop();
                    self.from.pop();
                } else {
                    start = meet;
                    break;
                }
            }
            self.at.push(x);
            self.height.push(h);
            self.from.push(start);
        }
        if self.at.is_empty() {
            return;
        }
        self.out.clear();
        let mut j = 0;
        for k in 0..n {
            let x = k as f64 * step;
            while j + 1 < self.at.len() && self.from[j + 1] <= x {
                j += 1;
            }
            let d = x - self.at[j];
            self.out.push(d * d + self.height[j]);
        }
        for (k, &d) in self.out.iter().enumerate() {
            values[first + k * stride] = d as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(n: [usize; 3], x: usize, y: usize, z: usize) -> usize {
        x + n[0] * (y + n[1] * z)
    }

    /// Brute force: the definition, offset by offset.
    fn open_brute(labels: &[u8], dims: [usize; 3], spacing: [f32; 3], r: f32) -> Vec<u8> {
        let reach: [i64; 3] = std::array::from_fn(|a| {
            if dims[a] > 1 {
                (r / spacing[a]).floor() as i64
            } else {
                0
            }
        });
        let mut ball = Vec::new();
        for dz in -reach[2]..=reach[2] {
            for dy in -reach[1]..=reach[1] {
                for dx in -reach[0]..=reach[0] {
                    let d2 = [dx, dy, dz]
                        .iter()
                        .zip(spacing)
                        .map(|(&o, s)| (o as f64 * f64::from(s)).powi(2))
                        .sum::<f64>();
                    if d2 <= f64::from(r * r) * (1.0 + 1e-6) {
                        ball.push([dx, dy, dz]);
                    }
                }
            }
        }
        let get = |p: [i64; 3]| -> Option<usize> {
            (0..3)
                .all(|a| p[a] >= 0 && (p[a] as usize) < dims[a])
                .then(|| at(dims, p[0] as usize, p[1] as usize, p[2] as usize))
        };
        let mut out = labels.to_vec();
        for c in 1..=255u8 {
            if !labels.contains(&c) {
                continue;
            }
            let eroded: Vec<bool> = (0..labels.len())
                .map(|i| {
                    let p = [
                        (i % dims[0]) as i64,
                        (i / dims[0] % dims[1]) as i64,
                        (i / (dims[0] * dims[1])) as i64,
                    ];
                    ball.iter().all(|o| {
                        get([p[0] + o[0], p[1] + o[1], p[2] + o[2]]).is_some_and(|j| labels[j] == c)
                    })
                })
                .collect();
            for i in 0..labels.len() {
                if labels[i] != c {
                    continue;
                }
                let p = [
                    (i % dims[0]) as i64,
                    (i / dims[0] % dims[1]) as i64,
                    (i / (dims[0] * dims[1])) as i64,
                ];
                let kept = ball.iter().any(|o| {
                    get([p[0] - o[0], p[1] - o[1], p[2] - o[2]]).is_some_and(|j| eroded[j])
                });
                if !kept {
                    out[i] = 0;
                }
            }
        }
        out
    }

    /// Deterministic blobs of two classes with thin bridges and specks.
    fn blobs(dims: [usize; 3], seed: u64) -> Vec<u8> {
        let mut state = seed;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut labels = vec![0u8; dims.iter().product()];
        for _ in 0..6 {
            let centre: [f64; 3] = std::array::from_fn(|a| (next() % dims[a] as u64) as f64);
            let radius = 1.5 + (next() % 40) as f64 / 10.0;
            let class = 1 + (next() % 2) as u8;
            for (i, label) in labels.iter_mut().enumerate() {
                let p = [i % dims[0], i / dims[0] % dims[1], i / (dims[0] * dims[1])];
                let d2: f64 = (0..3).map(|a| (p[a] as f64 - centre[a]).powi(2)).sum();
                if d2 <= radius * radius {
                    *label = class;
                }
            }
        }
        for _ in 0..dims.iter().product::<usize>() / 20 {
            let i = (next() % labels.len() as u64) as usize;
            labels[i] = 1 + (next() % 2) as u8;
        }
        labels
    }

    #[test]
    fn matches_the_definition_offset_by_offset() {
        let cases: [([usize; 3], [f32; 3], f32); 5] = [
            ([17, 13, 11], [1.0, 1.0, 1.0], 2.0),
            ([17, 13, 11], [1.0, 1.0, 1.0], 3.0),
            ([15, 12, 9], [0.5, 1.0, 2.0], 2.5),
            ([20, 16, 1], [1.0, 1.0, 1.0], 2.0),
            ([9, 1, 7], [1.0, 3.0, 1.5], 3.0),
        ];
        for (k, (dims, spacing, r)) in cases.into_iter().enumerate() {
            let input = blobs(dims, 0x9e37_79b9_7f4a_7c15 ^ k as u64);
            let want = open_brute(&input, dims, spacing, r);
            let mut got = input.clone();
            open(&mut got, dims, spacing, r);
            assert_eq!(got, want, "case {k}: {dims:?} {spacing:?} r={r}");
            assert_ne!(got, input, "case {k} changes nothing");
        }
    }

    #[test]
    fn a_bridge_is_cut_and_a_ball_kept() {
        // Two 7-voxel-radius balls joined by a 1-voxel-thick rod: radius 2 cuts the rod.
        let dims = [40, 17, 17];
        let mut labels = vec![0u8; 40 * 17 * 17];
        for z in 0..17 {
            for y in 0..17 {
                for x in 0..40 {
                    let ball = |cx: i32| {
                        (x as i32 - cx).pow(2) + (y as i32 - 8).pow(2) + (z as i32 - 8).pow(2) <= 49
                    };
                    if ball(8) || ball(31) || (y == 8 && z == 8) {
                        labels[at(dims, x, y, z)] = 1;
                    }
                }
            }
        }
        open(&mut labels, dims, [1.0; 3], 2.0);
        assert_eq!(labels[at(dims, 20, 8, 8)], 0, "the rod goes");
        assert_eq!(labels[at(dims, 8, 8, 8)], 1);
        assert_eq!(labels[at(dims, 31, 8, 8)], 1);
        assert_eq!(labels[at(dims, 15, 8, 8)], 1, "a ball's surface stays");
    }

    #[test]
    fn nothing_to_open_and_bad_radii_change_nothing() {
        let dims = [6, 5, 4];
        let input = blobs(dims, 7);
        for r in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            let mut labels = input.clone();
            open(&mut labels, dims, [1.0; 3], r);
            assert_eq!(labels, input);
        }
        let mut empty = vec![0u8; 120];
        open(&mut empty, dims, [1.0; 3], 2.0);
        assert!(empty.iter().all(|&l| l == 0));
        open(&mut [], [0, 3, 3], [1.0; 3], 2.0);
    }
}
