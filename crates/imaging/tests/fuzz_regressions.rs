//! Inputs the fuzz targets (`crates/imaging/fuzz/`) once crashed on, kept so the fixes stay
//! fixed: every file in `tests/fuzz_regressions/` goes through the decoder its name starts
//! with, which must return (`Ok` or `Err`) and, on `Err`, give a one-line message, without
//! any single allocation above [`MAX_ALLOCATION`] (the targets abort above 2 GiB; these inputs
//! are a few hundred bytes, so a tighter bound catches a reservation sized by a header).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use unet_imaging::ImagingError;

#[path = "../fuzz/fuzz_targets/split_files.rs"]
mod split_files;

const MAX_ALLOCATION: usize = 256 << 20;

/// The largest single allocation since the last reset (this file has one test, so no other
/// thread allocates meanwhile apart from the harness).
static LARGEST: AtomicUsize = AtomicUsize::new(0);

struct Tracking;

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Runs `bytes` through the target named by the file's prefix; the errors it returned.
fn run(target: &str, bytes: &[u8]) -> Vec<ImagingError> {
    match target {
        "decode_image" => unet_imaging::decode_image(bytes)
            .err()
            .into_iter()
            .collect(),
        "decode_nifti" => unet_imaging::decode_nifti(bytes)
            .err()
            .into_iter()
            .collect(),
        "decode_npy" => unet_imaging::decode_npy_f32(bytes)
            .err()
            .into_iter()
            .collect(),
        "decode_dicom" => unet_imaging::decode_dicom(bytes)
            .err()
            .into_iter()
            .collect(),
        "decode_files" => unet_imaging::decode_files(split_files::split(bytes))
            .into_iter()
            .filter_map(|group| group.result.err())
            .collect(),
        other => panic!("no fuzz target called {other}"),
    }
}

#[test]
fn every_kept_input_returns_with_a_one_line_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (target, _) = name
            .split_once('-')
            .unwrap_or_else(|| panic!("{name}: expected <target>-<short-name>"));
        let bytes = std::fs::read(&path).unwrap();
        LARGEST.store(0, Ordering::Relaxed);
        let errors = run(target, &bytes);
        let largest = LARGEST.load(Ordering::Relaxed);
        assert!(
            largest <= MAX_ALLOCATION,
            "{name}: allocated {largest} bytes at once"
        );
        for error in errors {
            let message = error.to_string();
            assert!(
                !message.trim().is_empty() && !message.contains('\n'),
                "{name}: {message:?}"
            );
        }
    }
}
