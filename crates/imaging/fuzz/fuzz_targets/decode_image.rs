//! `decode_image`: PNG, JPEG, BMP, TIFF and WebP through `image`, with our size guards.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "alloc_limit.rs"]
mod alloc_limit;

fuzz_target!(|data: &[u8]| {
    let _ = unet_imaging::decode_image(data);
});
