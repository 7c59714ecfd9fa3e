//! A DICOM series written by pydicom from nibabel's `anatomical.nii`
//! (`scripts/data/make_series.py`, committed under `tests/data/series/`), stacked by our reader
//! and compared voxel by voxel, in world coordinates, with nibabel's reading of the NIfTI.

mod common;

use common::read;
use std::path::PathBuf;
use unet_imaging::{decode_file, decode_files, Content, Decoded};

/// A DICOM series written by pydicom from nibabel's `anatomical.nii`
/// (`scripts/data/make_series.py`), files named out of slice order, with a localizer of another
/// series and a README in the folder: the series stacks into one volume whose every voxel lies,
/// by its affine, where nibabel puts the same value.
#[test]
fn a_dicom_series_lands_where_nibabel_puts_the_volume() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/series/anatomical");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("series folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let files = names
        .iter()
        .map(|n| {
            (
                format!("anatomical/{n}"),
                std::fs::read(dir.join(n)).expect("read"),
            )
        })
        .collect();
    let results = decode_files(files);
    let mut volumes = Vec::new();
    let mut images = 0;
    let mut errors = 0;
    for group in &results {
        match &group.result {
            Ok(Decoded {
                content: Content::Volume(v),
                info,
            }) => {
                assert_eq!(
                    group.sources.len(),
                    info.files,
                    "every slice's file is named"
                );
                volumes.push((group.name.clone(), v, info))
            }
            Ok(Decoded {
                content: Content::Image(_),
                ..
            }) => images += 1,
            Err(_) => errors += 1,
        }
    }
    assert_eq!(
        (volumes.len(), images, errors),
        (1, 1, 1),
        "series, localizer, README"
    );
    let (stem, series, info) = &volumes[0];
    assert_eq!(stem, "anatomical", "named by its folder");
    assert_eq!(info.files, 25);
    assert_eq!(info.modality.as_deref(), Some("MR"));
    assert_eq!(series.dims, [33, 41, 25]);

    let Content::Volume(nifti) = decode_file(&read("nibabel", "anatomical.nii"))
        .expect("nifti")
        .content
    else {
        panic!("anatomical.nii is a volume");
    };
    let inverse = invert(&nifti.affine);
    let mut compared = 0;
    for k in 0..series.dims[2] {
        for j in 0..series.dims[1] {
            for i in 0..series.dims[0] {
                let world = apply(&series.affine, [i as f64, j as f64, k as f64]);
                let n = apply(&inverse, world).map(|x| x.round());
                assert!(
                    n.iter().all(|x| *x >= 0.0),
                    "voxel {i},{j},{k} maps outside: {n:?}"
                );
                let [a, b, c] = n.map(|x| x as usize);
                let dicom = series.data[i + 33 * (j + 41 * k)];
                assert_eq!(dicom, nifti.at(a, b, c), "voxel {i},{j},{k} -> {a},{b},{c}");
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 33 * 41 * 25);
}

fn apply(m: &[[f64; 4]; 4], p: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|r| m[r][0] * p[0] + m[r][1] * p[1] + m[r][2] * p[2] + m[r][3])
}

/// Inverse of an affine (3×3 by cofactors, then the translation).
fn invert(m: &[[f64; 4]; 4]) -> [[f64; 4]; 4] {
    let a = |r: usize, c: usize| m[r][c];
    let det = a(0, 0) * (a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1))
        - a(0, 1) * (a(1, 0) * a(2, 2) - a(1, 2) * a(2, 0))
        + a(0, 2) * (a(1, 0) * a(2, 1) - a(1, 1) * a(2, 0));
    let mut inv = [[0.0; 4]; 4];
    for (r, row) in inv.iter_mut().enumerate().take(3) {
        for (c, cell) in row.iter_mut().enumerate().take(3) {
            let (r1, r2) = ((c + 1) % 3, (c + 2) % 3);
            let (c1, c2) = ((r + 1) % 3, (r + 2) % 3);
            *cell = (a(r1, c1) * a(r2, c2) - a(r1, c2) * a(r2, c1)) / det;
        }
        row[3] = -(0..3).map(|c| row[c] * m[c][3]).sum::<f64>();
    }
    inv[3][3] = 1.0;
    inv
}
