//! 3-D clean-up of label volumes: open each class by a ball (cutting narrow bridges), keep the
//! largest connected piece of each class, fill the holes inside it.
//!
//! A network that segments a volume slice by slice leaves specks and pinholes that no slice can
//! see are wrong; a model card can ask for them to be removed (`"postprocess"`). The steps are
//! defined as scipy.ndimage's, which is what the Python pipelines these models come from use, so
//! that a label map cleaned here and one cleaned by `scipy.ndimage.label` /
//! `binary_fill_holes` agree voxel for voxel (`tests/postprocess.rs` checks fixtures written by
//! `scripts/fixtures/make_postprocess_fixtures.py`).
//!
//! Volumes are `u8` labels, x fastest, dimensions `[nx, ny, nz]` (NIfTI order, as
//! [`LabelVolume::data`](crate::LabelVolume)); a 2-D mask is `[width, height, 1]`. Connectivity is
//! 6 (faces only), scipy's default 3-D structure. Everything is iterative (a FIFO flood over a
//! bitmap), so a 512³ volume cannot overflow the stack; memory is a few bits per voxel plus the
//! flood's frontier.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Post-processing steps a model card may declare (serde: snake_case strings, or an object for
/// a step with settings, in a list, e.g.
/// `"postprocess": [{"opening": {"radius_mm": 4}}, "largest_component", "fill_holes"]`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum PostStep {
    /// [`crate::open`]: each class opened by a ball of `radius_mm`.
    Opening {
        /// The ball's radius in mm (voxel spacing taken into account). f64 so that a card's
        /// decimal reads back as written.
        radius_mm: f64,
    },
    /// [`keep_largest_component`].
    LargestComponent,
    /// [`fill_holes`].
    FillHoles,
}

impl PostStep {
    /// Why a card's step cannot run, if it cannot: an opening radius that is not a positive
    /// number of mm up to 50.
    pub fn problem(&self) -> Option<String> {
        match *self {
            PostStep::Opening { radius_mm } if !(radius_mm > 0.0 && radius_mm <= 50.0) => Some(
                format!("the opening radius must be above 0 and at most 50 mm, not {radius_mm}"),
            ),
            _ => None,
        }
    }
}

/// Applies `steps` to `labels` (voxel `spacing` in mm) in order.
///
/// # Panics
/// As [`keep_largest_component`], [`fill_holes`] and [`crate::open`].
pub fn apply(steps: &[PostStep], labels: &mut [u8], dims: [usize; 3], spacing: [f32; 3]) {
    for step in steps {
        match *step {
            PostStep::Opening { radius_mm } => {
                crate::morphology::open(labels, dims, spacing, radius_mm as f32)
            }
            PostStep::LargestComponent => keep_largest_component(labels, dims),
            PostStep::FillHoles => fill_holes(labels, dims),
        }
    }
}

/// Keeps, for each foreground class c in 1..=max, only the largest 6-connected component of
/// voxels == c (others become 0). Ties: the component containing the lowest voxel index.
///
/// For a binary volume this is scipy's `lab, n = scipy.ndimage.label(m)` (default structure)
/// followed by keeping the label with the largest count, `np.argmax` breaking ties: scipy
/// numbers components in the order of their first voxel in memory, so that is the component
/// with the lowest voxel index when the array is laid out x fastest (`shape (nz, ny, nx)`).
/// Classes are independent: only voxels of class c change, and only to 0. O(voxels).
///
/// # Panics
/// If `labels.len()` is not `nx * ny * nz`, or the volume has more than `u32::MAX` voxels.
pub fn keep_largest_component(labels: &mut [u8], dims: [usize; 3]) {
    let grid = Grid::new(labels.len(), dims);
    let mut seen = Bits::new(grid.len);
    let mut queue = VecDeque::new();
    // Per class: size and first voxel of the largest component so far, and how many there are.
    let mut best = [(0usize, 0usize); 256];
    let mut count = [0usize; 256];
    for i in 0..grid.len {
        let c = labels[i];
        if c == 0 || seen.get(i) {
            continue;
        }
        let size = grid.flood(&mut seen, &mut queue, [i], |j| labels[j] == c);
        let c = usize::from(c);
        count[c] += 1;
        // Strictly larger: a later component of equal size never displaces an earlier one.
        if size > best[c].0 {
            best[c] = (size, i);
        }
    }
    if count.iter().all(|&n| n <= 1) {
        return;
    }
    let mut keep = Bits::new(grid.len);
    for c in 1..256 {
        if count[c] > 1 {
            let c8 = c as u8;
            grid.flood(&mut keep, &mut queue, [best[c].1], |j| labels[j] == c8);
        }
    }
    for (i, label) in labels.iter_mut().enumerate() {
        if *label != 0 && count[usize::from(*label)] > 1 && !keep.get(i) {
            *label = 0;
        }
    }
}

/// For each foreground class c, sets to c every background (0) voxel enclosed by class c:
/// background not 6-connected to the volume's border through voxels that are not c.
///
/// For a binary volume this is `scipy.ndimage.binary_fill_holes(m)` (default structure) over the
/// axes longer than one voxel: the border is every voxel at index 0 or n−1 along such an axis.
/// So **a single slice (dims `[w, h, 1]`) is filled in 2-D**, 4-connected, as scipy fills the
/// `(h, w)` array, which is what a 2-D mask needs (a one-slice volume run through scipy's 3-D fill
/// would fill nothing, every voxel being on its border); along an axis of size 2, both layers are
/// border.
///
/// Several classes: scipy's fill of the mask `labels == c`, for c = 1, 2, ... in turn, changing
/// only voxels that are still 0. A background voxel enclosed by more than one class (shells of
/// different classes nested around it) therefore takes the lowest of them, not necessarily the
/// innermost; voxels of other classes inside c's shell are left as they are.
///
/// O(voxels) when nothing is enclosed or only one class is present; otherwise one more flood
/// per class that could enclose something (one that occurs on both sides, along x, of some
/// enclosed background voxel).
///
/// # Panics
/// If `labels.len()` is not `nx * ny * nz`, or the volume has more than `u32::MAX` voxels.
pub fn fill_holes(labels: &mut [u8], dims: [usize; 3]) {
    let grid = Grid::new(labels.len(), dims);
    if grid.len == 0 {
        return;
    }
    let mut queue = VecDeque::new();
    // Background reachable from the border through background: open to the outside whatever
    // the classes are.
    let mut open = Bits::new(grid.len);
    let seeds = grid.border().filter(|&i| labels[i] == 0);
    grid.flood(&mut open, &mut queue, seeds, |j| labels[j] == 0);

    let mut present = [false; 256];
    let mut enclosed = false;
    for (i, &label) in labels.iter().enumerate() {
        present[usize::from(label)] = true;
        enclosed |= label == 0 && !open.get(i);
    }
    if !enclosed {
        return;
    }
    let classes: Vec<u8> = (1..=255u8).filter(|&c| present[usize::from(c)]).collect();
    if let [c] = classes[..] {
        // One class: "not c" is background, so `open` is already its flood.
        fill_unreached(labels, &open, c);
        return;
    }
    let candidates = enclosing_candidates(labels, &grid, &open);
    let mut reached = open;
    for c in (1..=255u8).filter(|&c| candidates[usize::from(c)]) {
        reached.clear();
        let seeds = grid.border().filter(|&i| labels[i] != c);
        grid.flood(&mut reached, &mut queue, seeds, |j| labels[j] != c);
        fill_unreached(labels, &reached, c);
    }
}

/// Sets to `c` every 0 voxel not in `reached`.
fn fill_unreached(labels: &mut [u8], reached: &Bits, c: u8) {
    for (i, label) in labels.iter_mut().enumerate() {
        if *label == 0 && !reached.get(i) {
            *label = c;
        }
    }
}

/// Classes that may enclose some background voxel not in `open`. A class that encloses a voxel
/// lies on every path from it to the border, so on both straight runs along x from it to the
/// volume's faces; classes found on both sides of some enclosed voxel are the only ones worth a
/// flood. One pass over the volume.
fn enclosing_candidates(labels: &[u8], grid: &Grid, open: &Bits) -> [bool; 256] {
    type Set = [u64; 4];
    fn add(set: &mut Set, c: u8) {
        set[usize::from(c >> 6)] |= 1 << (c & 63);
    }
    let nx = grid.nx;
    let mut found: Set = [0; 4];
    // right[x]: the classes in the row at x+1.. (x < nx).
    let mut right: Vec<Set> = vec![[0; 4]; nx];
    for start in (0..grid.len).step_by(nx) {
        let row = &labels[start..start + nx];
        if !(0..nx).any(|x| row[x] == 0 && !open.get(start + x)) {
            continue;
        }
        let mut after: Set = [0; 4];
        for x in (0..nx).rev() {
            right[x] = after;
            if row[x] != 0 {
                add(&mut after, row[x]);
            }
        }
        let mut before: Set = [0; 4];
        for x in 0..nx {
            if row[x] != 0 {
                add(&mut before, row[x]);
            } else if !open.get(start + x) {
                for w in 0..4 {
                    found[w] |= before[w] & right[x][w];
                }
            }
        }
    }
    std::array::from_fn(|c| c != 0 && found[c >> 6] & (1 << (c & 63)) != 0)
}

/// The voxel grid: sizes and 6-neighbourhoods.
struct Grid {
    nx: usize,
    ny: usize,
    nz: usize,
    len: usize,
}

impl Grid {
    fn new(len: usize, [nx, ny, nz]: [usize; 3]) -> Grid {
        let voxels = nx.checked_mul(ny).and_then(|v| v.checked_mul(nz));
        assert_eq!(
            voxels,
            Some(len),
            "postprocess: {len} labels for dims {nx}×{ny}×{nz}"
        );
        assert!(
            u32::try_from(len).is_ok(),
            "postprocess: {len} voxels exceed u32 indices"
        );
        Grid { nx, ny, nz, len }
    }

    /// Voxels with a face on the outside of the volume (index 0 or n−1 along some axis longer
    /// than one voxel: a single slice's outside is its rim, not its two flat faces), in
    /// increasing order.
    fn border(&self) -> impl Iterator<Item = usize> {
        let (nx, ny, nz) = (self.nx, self.ny, self.nz);
        let end = |i: usize, n: usize| n > 1 && (i == 0 || i + 1 == n);
        (0..nz * ny).flat_map(move |row| {
            let (y, z) = (row % ny, row / ny);
            let start = row * nx;
            // A row inside the y-z faces touches the outside only at its two ends, and not at
            // all when it is one voxel long (x is then no axis of the volume).
            let (first, step) = match nx {
                _ if end(y, ny) || end(z, nz) => (start, 1),
                1 => (start + 1, 1),
                n => (start, n - 1),
            };
            (first..start + nx).step_by(step)
        })
    }

    /// Marks in `seen` the `seeds` and everything 6-connected to them through voxels where
    /// `pass` holds (the seeds themselves are taken as given); returns how many voxels were
    /// newly marked. Breadth first over a FIFO queue, so depth costs no stack.
    fn flood(
        &self,
        seen: &mut Bits,
        queue: &mut VecDeque<u32>,
        seeds: impl IntoIterator<Item = usize>,
        pass: impl Fn(usize) -> bool,
    ) -> usize {
        let mut count = 0;
        for s in seeds {
            if !seen.get(s) {
                seen.set(s);
                queue.push_back(s as u32);
            }
        }
        let plane = self.nx * self.ny;
        while let Some(i) = queue.pop_front() {
            count += 1;
            let i = i as usize;
            let x = i % self.nx;
            let y = (i / self.nx) % self.ny;
            let z = i / plane;
            let mut visit = |j: usize| {
                if !seen.get(j) && pass(j) {
                    seen.set(j);
                    queue.push_back(j as u32);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < self.nx {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - self.nx);
            }
            if y + 1 < self.ny {
                visit(i + self.nx);
            }
            if z > 0 {
                visit(i - plane);
            }
            if z + 1 < self.nz {
                visit(i + plane);
            }
        }
        count
    }
}

/// One bit per voxel.
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }

    fn get(&self, i: usize) -> bool {
        self.0[i >> 6] & (1 << (i & 63)) != 0
    }

    fn set(&mut self, i: usize) {
        self.0[i >> 6] |= 1 << (i & 63);
    }

    fn clear(&mut self) {
        self.0.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A volume of `dims` from z-slices written as rows of characters ('.' is 0, digits are
    /// classes); rows are y, characters x.
    fn vol(slices: &[&[&str]]) -> (Vec<u8>, [usize; 3]) {
        let nz = slices.len();
        let ny = slices[0].len();
        let nx = slices[0][0].len();
        let mut data = Vec::with_capacity(nx * ny * nz);
        for slice in slices {
            assert_eq!(slice.len(), ny);
            for row in *slice {
                assert_eq!(row.len(), nx);
                data.extend(row.bytes().map(|b| if b == b'.' { 0 } else { b - b'0' }));
            }
        }
        (data, [nx, ny, nz])
    }

    /// A `n`³ volume with a cube shell of class `c` from `lo` to `hi` (inclusive) on each axis.
    fn shell(n: usize, lo: usize, hi: usize, c: u8) -> Vec<u8> {
        let mut data = vec![0; n * n * n];
        for z in lo..=hi {
            for y in lo..=hi {
                for x in lo..=hi {
                    let face = [x, y, z].iter().any(|&v| v == lo || v == hi);
                    if face {
                        data[(z * n + y) * n + x] = c;
                    }
                }
            }
        }
        data
    }

    fn at(n: usize, x: usize, y: usize, z: usize) -> usize {
        (z * n + y) * n + x
    }

    #[test]
    fn a_hollow_cube_is_filled() {
        let mut data = shell(7, 1, 5, 1);
        fill_holes(&mut data, [7, 7, 7]);
        for z in 0..7 {
            for y in 0..7 {
                for x in 0..7 {
                    let inside = [x, y, z].iter().all(|&v| (1..=5).contains(&v));
                    assert_eq!(data[at(7, x, y, z)], u8::from(inside), "({x},{y},{z})");
                }
            }
        }
    }

    #[test]
    fn a_shell_on_the_border_still_encloses_its_inside() {
        let mut data = shell(5, 0, 4, 2);
        fill_holes(&mut data, [5, 5, 5]);
        assert!(data.iter().all(|&v| v == 2));
    }

    #[test]
    fn a_hole_open_to_the_border_is_not_filled() {
        let mut data = shell(7, 1, 5, 1);
        // A tunnel from the cavity through the shell's top face to the outside.
        data[at(7, 3, 3, 5)] = 0;
        let before = data.clone();
        fill_holes(&mut data, [7, 7, 7]);
        assert_eq!(data, before);
    }

    #[test]
    fn a_diagonal_gap_does_not_open_a_hole() {
        // 6-connectivity: background cannot pass between voxels touching at an edge.
        let (mut data, dims) = vol(&[
            &["11111", "11111", "11111", "11111"],
            &["11111", "1...1", "11.11", "11111"],
            &["11111", "11111", "11111", "11111"],
        ]);
        fill_holes(&mut data, dims);
        assert!(data.iter().all(|&v| v == 1));
    }

    #[test]
    fn a_single_slice_is_filled_in_2d() {
        // scipy.ndimage.binary_fill_holes on the (5, 5) array: the ring's inside is a hole.
        let (mut data, dims) = vol(&[&["11111", "1...1", "1...1", "1...1", "11111"]]);
        let ring = data.clone();
        fill_holes(&mut data, dims);
        assert!(data.iter().all(|&v| v == 1));
        // A gap in the ring opens it: 4-connected, a diagonal step does not.
        let (mut open, dims) = vol(&[&["11.11", "1...1", "11111"]]);
        let before = open.clone();
        fill_holes(&mut open, dims);
        assert_eq!(open, before);
        // Two slices: both layers are border, as in scipy's 3-D fill.
        let mut two = [ring.clone(), ring.clone()].concat();
        fill_holes(&mut two, [5, 5, 2]);
        assert_eq!(two, [ring.clone(), ring].concat());
        // A single row or column is 1-D: a gap between two runs is enclosed.
        let mut row = vec![1, 0, 0, 1];
        fill_holes(&mut row, [4, 1, 1]);
        assert_eq!(row, [1, 1, 1, 1]);
        let mut column = vec![1, 0, 1, 0];
        fill_holes(&mut column, [1, 4, 1]);
        assert_eq!(column, [1, 1, 1, 0]);
    }

    #[test]
    fn two_blobs_leave_the_largest() {
        let (mut data, dims) = vol(&[&["11...", "11..1", "....."], &["11...", "....1", "....."]]);
        keep_largest_component(&mut data, dims);
        let (expected, _) = vol(&[&["11...", "11...", "....."], &["11...", ".....", "....."]]);
        assert_eq!(data, expected);
    }

    #[test]
    fn diagonal_contact_makes_separate_components() {
        // Edge contact in-plane, and corner contact across slices.
        let (mut data, dims) = vol(&[&["11..", "..1.", "...."], &["....", "....", "...1"]]);
        keep_largest_component(&mut data, dims);
        let (expected, _) = vol(&[&["11..", "....", "...."], &["....", "....", "...."]]);
        assert_eq!(data, expected);
    }

    #[test]
    fn equal_components_keep_the_one_with_the_lowest_voxel() {
        let (mut data, dims) = vol(&[&["..1", "...", "11."], &["..1", "...", "..."]]);
        keep_largest_component(&mut data, dims);
        let (expected, _) = vol(&[&["..1", "...", "..."], &["..1", "...", "..."]]);
        assert_eq!(data, expected);
    }

    #[test]
    fn classes_are_cleaned_separately() {
        let (mut data, dims) = vol(&[
            &["1122.", "1.22.", "....1", "2...."],
            &["11...", ".....", "....1", "....."],
        ]);
        keep_largest_component(&mut data, dims);
        let (expected, _) = vol(&[
            &["1122.", "1.22.", ".....", "....."],
            &["11...", ".....", ".....", "....."],
        ]);
        assert_eq!(data, expected);
    }

    #[test]
    fn holes_take_their_class_and_other_classes_stay() {
        let n = 11;
        // Class 2 shell around a cavity holding a class-3 voxel; class 1 shell elsewhere.
        let mut data = shell(n, 0, 4, 2);
        data[at(n, 2, 2, 2)] = 3;
        let ones = shell(n, 6, 10, 1);
        for (d, o) in data.iter_mut().zip(&ones) {
            *d = (*d).max(*o);
        }
        let mut filled = data.clone();
        fill_holes(&mut filled, [n, n, n]);
        for z in 0..n {
            for y in 0..n {
                for x in 0..n {
                    let i = at(n, x, y, z);
                    let in_2 = [x, y, z].iter().all(|&v| v <= 4);
                    let in_1 = [x, y, z].iter().all(|&v| v >= 6);
                    let want = if i == at(n, 2, 2, 2) {
                        3
                    } else if in_2 {
                        2
                    } else if in_1 {
                        1
                    } else {
                        0
                    };
                    assert_eq!(filled[i], want, "({x},{y},{z})");
                }
            }
        }
    }

    #[test]
    fn a_shell_of_two_classes_encloses_nothing() {
        // Half the shell is class 1, half class 2: neither seals the cavity alone (scipy per
        // class fills nothing).
        let n = 7;
        let mut data = shell(n, 1, 5, 1);
        for (i, v) in data.iter_mut().enumerate() {
            if *v == 1 && i % n < 3 {
                *v = 2;
            }
        }
        let before = data.clone();
        fill_holes(&mut data, [n, n, n]);
        assert_eq!(data, before);
    }

    #[test]
    fn nested_shells_give_the_lowest_enclosing_class() {
        let n = 9;
        // Class 2 outside, class 1 inside it with a cavity in the middle, a gap between them.
        let mut data = shell(n, 0, 8, 2);
        for (d, o) in data.iter_mut().zip(&shell(n, 2, 6, 1)) {
            *d = (*d).max(*o);
        }
        fill_holes(&mut data, [n, n, n]);
        assert_eq!(data[at(n, 4, 4, 4)], 1, "cavity enclosed by 1 and 2");
        assert_eq!(data[at(n, 1, 1, 1)], 2, "gap enclosed by 2 only");
        // Swapped classes: the cavity is enclosed by both, and 1 is the lower.
        let mut data = shell(n, 0, 8, 1);
        for (d, o) in data.iter_mut().zip(&shell(n, 2, 6, 2)) {
            *d = (*d).max(*o);
        }
        fill_holes(&mut data, [n, n, n]);
        assert_eq!(data[at(n, 4, 4, 4)], 1);
        assert_eq!(data[at(n, 1, 1, 1)], 1);
        assert_eq!(data[at(n, 2, 2, 2)], 2);
    }

    #[test]
    fn steps_run_in_order() {
        // A hollow cube and a speck: the speck goes, the cube is filled.
        let n = 8;
        let mut data = shell(n, 1, 5, 1);
        data[at(n, 7, 7, 7)] = 1;
        let mut both = data.clone();
        apply(
            &[PostStep::LargestComponent, PostStep::FillHoles],
            &mut both,
            [n, n, n],
            [1.0; 3],
        );
        assert_eq!(both[at(n, 7, 7, 7)], 0);
        assert_eq!(both[at(n, 3, 3, 3)], 1);
        assert_eq!(both.iter().filter(|&&v| v == 1).count(), 125);
        apply(&[], &mut data.clone(), [n, n, n], [1.0; 3]);
    }

    #[test]
    fn degenerate_dims_are_handled() {
        for dims in [[0, 3, 3], [3, 0, 0], [0, 0, 0]] {
            let mut empty: Vec<u8> = Vec::new();
            apply(
                &[PostStep::LargestComponent, PostStep::FillHoles],
                &mut empty,
                dims,
                [1.0; 3],
            );
        }
        // A line along each axis is 1-D: components along it, and a gap between two runs is a
        // hole, as scipy fills the 1-D array; an end left open is not.
        for dims in [[6, 1, 1], [1, 6, 1], [1, 1, 6]] {
            let mut line = vec![1, 0, 1, 1, 0, 1];
            keep_largest_component(&mut line, dims);
            assert_eq!(line, [0, 0, 1, 1, 0, 0]);
            let mut line = vec![1, 0, 1, 1, 0, 0];
            fill_holes(&mut line, dims);
            assert_eq!(line, [1, 1, 1, 1, 0, 0]);
        }
        let mut one = vec![3];
        apply(
            &[PostStep::LargestComponent, PostStep::FillHoles],
            &mut one,
            [1, 1, 1],
            [1.0; 3],
        );
        assert_eq!(one, [3]);
    }

    #[test]
    fn a_large_volume_floods_without_recursion() {
        // 128³ of foreground around enclosed background lines: floods of 2M voxels, which a
        // recursive fill would take 2M frames deep.
        let n = 128;
        let mut data = vec![1u8; n * n * n];
        for z in (1..n - 1).step_by(2) {
            for y in 1..n - 1 {
                data[at(n, 1 + (z / 2) % (n - 2), y, z)] = 0;
            }
        }
        let before = data.clone();
        keep_largest_component(&mut data, [n, n, n]);
        assert_eq!(data, before);
        fill_holes(&mut data, [n, n, n]);
        assert!(data.iter().all(|&v| v == 1));
    }

    #[test]
    #[should_panic(expected = "labels for dims")]
    fn wrong_length_panics() {
        keep_largest_component(&mut [0; 7], [2, 2, 2]);
    }

    #[test]
    fn steps_read_from_a_card() {
        let json = r#"[{"opening":{"radius_mm":4.0}},"largest_component","fill_holes"]"#;
        let steps: Vec<PostStep> = serde_json::from_str(json).unwrap();
        assert_eq!(
            steps,
            [
                PostStep::Opening { radius_mm: 4.0 },
                PostStep::LargestComponent,
                PostStep::FillHoles
            ]
        );
        assert_eq!(serde_json::to_string(&steps).unwrap(), json);
        assert!(serde_json::from_str::<PostStep>(r#""largestComponent""#).is_err());
        assert!(serde_json::from_str::<PostStep>(r#""opening""#).is_err());
        assert!(steps.iter().all(|s| s.problem().is_none()));
        for bad in [0.0, -2.0, 51.0, f64::NAN] {
            let problem = PostStep::Opening { radius_mm: bad }.problem().unwrap();
            assert!(problem.contains("opening radius"), "{problem}");
        }
    }
}
