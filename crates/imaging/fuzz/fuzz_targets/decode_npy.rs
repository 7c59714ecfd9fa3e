//! `decode_npy_f32`: numpy `.npy` arrays of `<f4` / `<f8`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "alloc_limit.rs"]
mod alloc_limit;

fuzz_target!(|data: &[u8]| {
    let _ = unet_imaging::decode_npy_f32(data);
});
