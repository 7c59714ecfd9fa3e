//! `decode_files`: the input is split into one to three files, so that DICOM slices of one
//! series are grouped, sorted and stacked (and any other format goes through `decode_file`).
//!
//! How the input is cut: `split_files.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "alloc_limit.rs"]
mod alloc_limit;

#[path = "split_files.rs"]
mod split_files;

fuzz_target!(|data: &[u8]| {
    let _ = unet_imaging::decode_files(split_files::split(data));
});
