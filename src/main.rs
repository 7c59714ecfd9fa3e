//! The page's (and the engine worker's) entry point: everything lives in the library so tests
//! can reach it.

#[cfg(target_arch = "wasm32")]
unsafe extern "C" {
    /// The static constructors (`inventory`'s registrations), synthesised by wasm-ld.
    fn __wasm_call_ctors();
}

fn main() {
    // Run once, here. When nothing calls them explicitly, wasm-ld treats a binary as a
    // "command" and wraps every export in a call to them: every closure the browser invokes
    // (each event, timer and DOM callback) re-ran every constructor, which took most of the
    // page thread's time around a segmentation (a 70 ms task for a 245×281 slice).
    #[cfg(target_arch = "wasm32")]
    unsafe {
        __wasm_call_ctors();
    }
    #[cfg(target_arch = "wasm32")]
    unet_web::start();
}
