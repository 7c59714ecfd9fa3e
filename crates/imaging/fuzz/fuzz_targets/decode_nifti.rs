//! `decode_nifti`: NIfTI-1 and NIfTI-2, plain or gzip-compressed.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "alloc_limit.rs"]
mod alloc_limit;

fuzz_target!(|data: &[u8]| {
    let _ = unet_imaging::decode_nifti(data);
});
