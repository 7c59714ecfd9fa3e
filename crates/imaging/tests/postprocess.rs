//! Label post-processing against scipy.ndimage, voxel for voxel: random label volumes and what
//! `scipy.ndimage.label` (largest component), `binary_fill_holes` and `binary_opening` by a
//! ball in mm make of them, per class,
//! written by `scripts/fixtures/make_postprocess_fixtures.py` into `tests/fixtures/postprocess/`
//! (committed; `cases.json` says how).

use std::io::Read;
use std::path::PathBuf;

use flate2::read::GzDecoder;
use serde_json::Value;
use unet_imaging::{fill_holes, keep_largest_component, open, postprocess, PostStep};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/postprocess")
}

/// A gzip-compressed raw `u8` volume.
fn volume(file: &str) -> Vec<u8> {
    let bytes = std::fs::read(dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut out = Vec::new();
    GzDecoder::new(&bytes[..])
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    out
}

struct Case {
    name: String,
    dims: [usize; 3],
    input: Vec<u8>,
    expected: Value,
}

impl Case {
    fn expected(&self, kind: &str) -> Vec<u8> {
        let file = self.expected["files"][kind].as_str().expect("a file name");
        let data = volume(file);
        assert_eq!(data.len(), self.dims.iter().product::<usize>(), "{file}");
        data
    }
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(dir().join("cases.json")).expect("cases.json");
    let index: Value = serde_json::from_str(&text).expect("cases.json parses");
    index["cases"]
        .as_array()
        .expect("a list of cases")
        .iter()
        .map(|case| {
            let dims: Vec<usize> = case["dims"]
                .as_array()
                .expect("dims")
                .iter()
                .map(|d| d.as_u64().expect("a size") as usize)
                .collect();
            let dims: [usize; 3] = dims.try_into().expect("three dims");
            let input = volume(case["files"]["input"].as_str().expect("a file name"));
            assert_eq!(input.len(), dims.iter().product::<usize>());
            Case {
                name: case["name"].as_str().expect("a name").to_owned(),
                dims,
                input,
                expected: case.clone(),
            }
        })
        .collect()
}

/// Fails with the number of differing voxels and the first few, as (x, y, z): got vs scipy.
fn assert_same(got: &[u8], want: &[u8], dims: [usize; 3], what: &str) {
    let diffs: Vec<String> = got
        .iter()
        .zip(want)
        .enumerate()
        .filter(|(_, (g, w))| g != w)
        .map(|(i, (g, w))| {
            let (x, y, z) = (i % dims[0], i / dims[0] % dims[1], i / (dims[0] * dims[1]));
            format!("({x},{y},{z}): {g} vs {w}")
        })
        .collect();
    assert!(
        diffs.is_empty(),
        "{what}: {} voxels differ from scipy, first {:?}",
        diffs.len(),
        &diffs[..diffs.len().min(8)]
    );
}

impl Case {
    /// The case's opening: radius in mm and voxel spacing.
    fn opening(&self) -> (f32, [f32; 3]) {
        let radius = self.expected["opening"]["radius_mm"]
            .as_f64()
            .expect("a radius") as f32;
        let spacing: Vec<f32> = self.expected["opening"]["spacing"]
            .as_array()
            .expect("a spacing")
            .iter()
            .map(|s| s.as_f64().expect("mm") as f32)
            .collect();
        (radius, spacing.try_into().expect("three spacings"))
    }
}

fn check(kind: &str, run: impl Fn(&mut [u8], [usize; 3])) {
    check_cases(kind, |labels, case| run(labels, case.dims));
}

fn check_cases(kind: &str, run: impl Fn(&mut [u8], &Case)) {
    let cases = cases();
    assert!(cases.len() >= 4, "fixtures missing");
    let mut changed = 0;
    for case in &cases {
        let want = case.expected(kind);
        let mut got = case.input.clone();
        run(&mut got, case);
        assert_same(&got, &want, case.dims, &format!("{} {kind}", case.name));
        changed += want.iter().zip(&case.input).filter(|(a, b)| a != b).count();
    }
    assert!(changed > 0, "the {kind} fixtures change nothing");
}

#[test]
fn largest_component_matches_scipy_label() {
    check("largest", keep_largest_component);
}

#[test]
fn fill_holes_matches_scipy_binary_fill_holes() {
    check("fill", fill_holes);
}

#[test]
fn both_steps_in_order_match_scipy() {
    check("both", |labels, dims| {
        postprocess(
            &[PostStep::LargestComponent, PostStep::FillHoles],
            labels,
            dims,
            [1.0; 3],
        )
    });
}

#[test]
fn opening_matches_scipy_binary_opening_by_a_ball_in_mm() {
    check_cases("open", |labels, case| {
        let (radius, spacing) = case.opening();
        open(labels, case.dims, spacing, radius);
    });
}

#[test]
fn the_brain_cards_chain_matches_scipy() {
    check_cases("open_all", |labels, case| {
        let (radius, spacing) = case.opening();
        postprocess(
            &[
                PostStep::Opening {
                    radius_mm: f64::from(radius),
                },
                PostStep::LargestComponent,
                PostStep::FillHoles,
            ],
            labels,
            case.dims,
            spacing,
        )
    });
}

#[test]
fn a_single_slice_is_filled_in_2d() {
    // The one-slice case has 2-D holes, which scipy's 2-D fill closes (and so must we: the
    // fixtures' own comparison is in fill_holes_matches_scipy_binary_fill_holes).
    let case = cases()
        .into_iter()
        .find(|c| c.dims[2] == 1)
        .expect("a one-slice case");
    assert_ne!(case.expected("fill"), case.input, "{}", case.name);
}
