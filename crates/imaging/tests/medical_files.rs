//! Real DICOM and NIfTI files from pydicom's and nibabel's wheels, decoded here and compared
//! with what pydicom and nibabel read from the same bytes (`tests/data/medical_expected.json`,
//! written by `scripts/data/medical_expected.py`). The files are fetched by
//! `scripts/data/fetch_fixtures.sh` (part of `scripts/setup.sh test`).

mod common;

use common::read;
use serde_json::Value;
use unet_imaging::{decode_file, decode_files, Content, Decoded};

fn expected() -> Value {
    let text = include_str!("data/medical_expected.json");
    serde_json::from_str(text).expect("expected values parse")
}

/// A JSON array of indices or sizes.
fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_u64().expect("a non-negative integer") as usize)
        .collect()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// How far a value may be from pydicom's: lossy codecs differ between decoders by a few
/// levels; YBR conversion rounds.
fn tolerance(entry: &Value) -> f64 {
    let range = num(&entry["pixels"]["max"]) - num(&entry["pixels"]["min"]);
    if entry["lossy"].as_bool() == Some(true) {
        (range * 0.02).max(3.0)
    } else if entry["color_conversion"].is_string() {
        1.0
    } else {
        // Integers, and rescaled values to f32 precision.
        (num(&entry["pixels"]["max"]).abs() * 1e-6).max(1e-3)
    }
}

/// The value at (frame, row, col, channel) of a decoded file.
fn value_at(decoded: &Decoded, at: &[usize]) -> f64 {
    match &decoded.content {
        Content::Image(image) => {
            let c = image.channel_count();
            let (row, col) = (at[1], at[2]);
            let channel = at.get(3).copied().unwrap_or(0);
            f64::from(image.pixels[(row * image.width as usize + col) * c + channel])
        }
        Content::Volume(volume) => {
            let [cols, rows, _] = volume.dims;
            f64::from(volume.data[at[0] * rows * cols + at[1] * cols + at[2]])
        }
    }
}

/// Valid files whose codec feature dicom-rs lacks (README's format table): each must fail with
/// a message that names the feature and says how to convert.
const UNSUPPORTED: [(&str, &str); 5] = [
    ("JPGExtended.dcm", "SamplePrecision(12)"),
    ("SC_rgb_rle_32bit.dcm", "BitsAllocated"),
    ("SC_rgb_rle_32bit_2frame.dcm", "BitsAllocated"),
    ("rtdose_rle.dcm", "BitsAllocated"),
    ("rtdose_rle_1frame.dcm", "BitsAllocated"),
];

/// dicom-rs cannot parse it: an element declares 1.2 GB in a 4 KB file (pydicom reads past it);
/// refused up front before anything is allocated.
const UNPARSABLE: [(&str, &str); 1] = [("SC_rgb_jpeg.dcm", "declares 1230128452 bytes")];

/// JPEG baseline marked RGB whose stream has neither JFIF nor Adobe marker and component ids
/// 1-2-3: pydicom trusts the DICOM header (RGB), jpeg-decoder the stream (YCbCr), so colours
/// differ. Known and documented; they must still decode.
const COLOUR_DEVIATION: [&str; 2] = [
    "SC_jpeg_no_color_transform.dcm",
    "SC_jpeg_no_color_transform_2.dcm",
];

#[test]
fn dicom_files_decode_like_pydicom() {
    let expected = expected();
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in expected["dicom"].as_array().expect("dicom list") {
        let file = entry["file"].as_str().expect("file");
        let result = decode_file(&read("pydicom", file));
        if let Some((_, feature)) = UNSUPPORTED.iter().find(|(f, _)| *f == file) {
            let msg = result.expect_err(file).to_string();
            assert!(
                msg.contains(feature) && msg.contains("convert it") && !msg.contains('\n'),
                "{file}: {msg}"
            );
            checked += 1;
            continue;
        }
        if let Some((_, reason)) = UNPARSABLE.iter().find(|(f, _)| *f == file) {
            let msg = result.expect_err(file).to_string();
            assert!(msg.contains(reason) && !msg.contains('\n'), "{file}: {msg}");
            checked += 1;
            continue;
        }
        if COLOUR_DEVIATION.contains(&file) {
            assert!(result.is_ok(), "{file}: {result:?}");
            checked += 1;
            continue;
        }
        let decoded = match result {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        let shape: Vec<usize> = usizes(&entry["shape"]);
        let (frames, rows, cols) = (shape[0], shape[1], shape[2]);
        let colour = shape.len() == 4;
        match &decoded.content {
            Content::Image(image) => {
                assert_eq!(frames, 1, "{file}: one frame decodes to an image");
                assert_eq!(
                    (image.height as usize, image.width as usize),
                    (rows, cols),
                    "{file}"
                );
                assert_eq!(image.channel_count(), if colour { 3 } else { 1 }, "{file}");
            }
            Content::Volume(volume) => {
                assert_eq!(volume.dims, [cols, rows, frames], "{file}");
                if colour {
                    // Colour cine loops become luminance volumes: only the size is comparable.
                    checked += 1;
                    continue;
                }
            }
        }
        assert_eq!(decoded.info.format, "DICOM");
        assert_eq!(
            decoded.info.modality.as_deref(),
            entry["modality"].as_str(),
            "{file}"
        );
        let uid = entry["transfer_syntax_uid"].as_str().expect("ts uid");
        assert!(
            decoded
                .info
                .transfer_syntax
                .as_deref()
                .unwrap_or("")
                .contains(uid),
            "{file}: {:?}",
            decoded.info.transfer_syntax
        );
        if let (Some(c), Some(w)) = (
            entry["window_center"].as_f64(),
            entry["window_width"].as_f64(),
        ) {
            let window = decoded.info.window.expect("window read");
            assert_eq!(
                (f64::from(window.center), f64::from(window.width)),
                (c, w),
                "{file}"
            );
        }

        let tol = tolerance(entry);
        // pydicom reduces 16-bit palette entries to their high byte.
        let palette16 = entry["photometric_interpretation"] == "PALETTE COLOR"
            && matches!(&decoded.content, Content::Image(i) if i.bit_depth == unet_imaging::BitDepth::U16);
        for sample in entry["pixels"]["samples"].as_array().expect("samples") {
            let at: Vec<usize> = usizes(&sample["at"]);
            let mut got = value_at(&decoded, &at);
            if palette16 {
                got = (got as u32 >> 8) as f64;
            }
            let want = num(&sample["value"]);
            if (got - want).abs() > tol {
                failures.push(format!("{file} at {at:?}: {got} (pydicom {want}, ±{tol})"));
            }
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 50, "only {checked} files checked");
}

#[test]
fn dicom_files_without_usable_pixels_fail_with_one_line() {
    for entry in expected()["dicom_skipped"]
        .as_array()
        .expect("skipped list")
    {
        let file = entry["file"].as_str().expect("file");
        match decode_file(&read("pydicom", file)) {
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.contains('\n') && msg.contains(':'), "{file}: {msg}");
            }
            // pydicom's plugin failing does not make the file bad for every decoder; but a
            // file with no pixel data must never decode.
            Ok(_) => assert!(
                !entry["reason"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("no Pixel Data"),
                "{file} decoded though it has no pixel data"
            ),
        }
    }
}

#[test]
fn nifti_files_decode_like_nibabel() {
    for entry in expected()["nifti"].as_array().expect("nifti list") {
        let file = entry["file"].as_str().expect("file");
        let decoded = decode_file(&read("nibabel", file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let Content::Volume(volume) = &decoded.content else {
            panic!("{file}: not a volume");
        };
        assert_eq!(
            decoded.info.format,
            format!("NIfTI-{}", entry["version"]),
            "{file}"
        );
        let dims: Vec<usize> = usizes(&entry["dims"]);
        assert_eq!(&volume.dims[..], &dims[..3], "{file}");
        assert_eq!(
            volume.frames,
            dims[3..].iter().product::<usize>().max(1),
            "{file}"
        );
        for (r, row) in entry["affine"]
            .as_array()
            .expect("affine")
            .iter()
            .enumerate()
        {
            for (c, want) in row.as_array().expect("row").iter().enumerate() {
                let got = volume.affine[r][c];
                assert!(
                    (got - num(want)).abs() < 1e-4,
                    "{file} affine[{r}][{c}] {got} vs {want}"
                );
            }
        }
        let voxels = volume.voxels();
        for sample in entry["voxels"]["samples"].as_array().expect("samples") {
            let at: Vec<usize> = usizes(&sample["at"]);
            // Frames beyond t flatten in NIfTI order, fastest first.
            let mut frame = 0;
            for (axis, &i) in at.iter().enumerate().skip(3).rev() {
                frame = frame * dims[axis] + i;
            }
            let got = volume.data[frame * voxels + at[0] + dims[0] * (at[1] + dims[1] * at[2])];
            match sample["value"].as_f64() {
                Some(want) => assert!(
                    (f64::from(got) - want).abs() <= want.abs() * 1e-5 + 1e-4,
                    "{file} at {at:?}: {got} vs {want}"
                ),
                None => assert!(got.is_nan(), "{file} at {at:?}: {got} should be NaN"),
            }
        }
    }
}

/// The five MR_small encodings (implicit, explicit little and big endian, RLE, JPEG 2000,
/// JPEG-LS) hold the same pixels: decoded alike, bit for bit.
#[test]
fn every_encoding_of_one_image_decodes_to_the_same_pixels() {
    let reference = decode_file(&read("pydicom", "MR_small.dcm")).expect("MR_small");
    for file in [
        "MR_small_implicit.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_expb.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
    ] {
        let decoded = decode_file(&read("pydicom", file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(decoded.content, reference.content, "{file}");
    }
}

/// An enhanced MR multi-frame image without per-frame position groups (pydicom-data's
/// `emri_small`, 10 frames of 64×64) opens as a volume, alone or dropped with others, in every
/// encoding, each voxel for voxel the uncompressed file's.
#[test]
fn enhanced_multi_frame_images_open_as_volumes_in_every_encoding() {
    let volume_of = |decoded: &Decoded| match &decoded.content {
        Content::Volume(v) => v.clone(),
        Content::Image(i) => panic!("a 2-D image of {}×{}", i.width, i.height),
    };
    let reference = volume_of(&decode_file(&read("pydicom-data", "emri_small.dcm")).unwrap());
    assert_eq!(reference.dims, [64, 64, 10]);
    assert!(reference.frame(0).iter().any(|&v| v > 0.0));
    let encodings = [
        "emri_small_RLE.dcm",
        "emri_small_big_endian.dcm",
        "emri_small_jpeg_ls_lossless.dcm",
        "emri_small_jpeg_2k_lossless.dcm",
    ];
    for file in encodings {
        let bytes = read("pydicom-data", file);
        let alone = volume_of(&decode_file(&bytes).unwrap_or_else(|e| panic!("{file}: {e}")));
        assert_eq!(alone.dims, reference.dims, "{file}");
        assert_eq!(alone.frame(0), reference.frame(0), "{file}");
        // Dropped with another file: the path the app and `unet predict` take.
        let together = decode_files(vec![
            (file.to_string(), bytes),
            ("MR_small.dcm".into(), read("pydicom", "MR_small.dcm")),
        ]);
        assert_eq!(together[0].single_source(), Some(file));
        let decoded = together[0]
            .result
            .as_ref()
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            volume_of(decoded).frame(0),
            reference.frame(0),
            "{file} in a drop"
        );
    }
    // Its codestream ends early, which the JPEG 2000 decoder (like pydicom's) tolerates: the
    // file still opens, as a volume of the same shape.
    let short = decode_file(&read(
        "pydicom-data",
        "emri_small_jpeg_2k_lossless_too_short.dcm",
    ))
    .expect("the short codestream still decodes");
    assert_eq!(volume_of(&short).dims, reference.dims);
}

/// Single-frame files of different series dropped together stay separate 2-D images.
#[test]
fn files_of_different_series_stay_apart() {
    let frames = ["rtdose_1frame.dcm", "CT_small.dcm", "MR_small.dcm"];
    let files: Vec<(String, Vec<u8>)> = frames
        .iter()
        .map(|f| (format!("drop/{f}"), read("pydicom", f)))
        .collect();
    let results = decode_files(files);
    // Three different series: three results, none stacked.
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|group| matches!(
        group.result,
        Ok(Decoded {
            content: Content::Image(_),
            ..
        })
    )));
}

/// MONOCHROME1 (high is dark) is flipped within the stored range at decode, so every display
/// and model sees bright-is-dense: MR_small relabelled MONOCHROME1 decodes to the mirror of
/// MR_small, the same mirror for every pixel.
#[test]
fn monochrome1_is_flipped_within_the_stored_range() {
    let bytes = read("pydicom", "MR_small.dcm");
    let at = bytes
        .windows(11)
        .position(|w| w == b"MONOCHROME2")
        .expect("photometric interpretation");
    let mut flipped = bytes.clone();
    flipped[at + 10] = b'1';
    let normal = decode_file(&bytes).expect("MR_small");
    let inverted = decode_file(&flipped).expect("MONOCHROME1 MR_small");
    assert!(!normal.info.inverted && inverted.info.inverted);
    let (Content::Image(a), Content::Image(b)) = (&normal.content, &inverted.content) else {
        panic!("2-D images");
    };
    let sum = a.pixels[0] + b.pixels[0];
    assert!(a.pixels.iter().zip(&b.pixels).all(|(x, y)| x + y == sum));
    // MR_small stores 16 signed bits without rescale: the mirror is about -0.5.
    assert_eq!(sum, -1.0);
}
