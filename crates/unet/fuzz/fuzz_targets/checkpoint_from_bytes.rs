//! `checkpoint_from_bytes`: every container the page and the CLI accept (`.pth` zip with its
//! pickle, plain safetensors, the project's safetensors with a model card), through the one
//! entry point both call, including the architecture and shape checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The same 2 GiB single-allocation limit as the decoder targets.
#[path = "../../../imaging/fuzz/fuzz_targets/alloc_limit.rs"]
mod alloc_limit;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = unet::Checkpoint::from_bytes(data, "fuzz.pth") {
        // A message is one line: a newline in it would break the CLI's and the page's display.
        assert!(!e.to_string().contains('\n'), "multi-line error: {e}");
    }
});
