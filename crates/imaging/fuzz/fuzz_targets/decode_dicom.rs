//! `decode_dicom`: one DICOM file through dicom-rs and our pixel conversion.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "alloc_limit.rs"]
mod alloc_limit;

fuzz_target!(|data: &[u8]| {
    let _ = unet_imaging::decode_dicom(data);
});
