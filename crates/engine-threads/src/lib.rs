//! The folded CPU network ([`unet::Runner::folded`], tiles included) on a pool of wasm threads:
//! a second wasm module beside the page's, which the engine's worker starts on a cross-origin
//! isolated page (the app's `src/engine/threads/` says why it is a module of its own).
//!
//! Built with atomics and a shared memory by `scripts/build-threads.sh`; natively the crate is
//! empty. From JS: `await init(); await initThreadPool(n); new ThreadedNet(bytes, name).logits(…)`,
//! on a worker (rayon's threads block while they wait, which a page's own thread may not).
#![cfg(target_arch = "wasm32")]

use unet::{Checkpoint, Runner};
use wasm_bindgen::prelude::*;

pub use wasm_bindgen_rayon::init_thread_pool;

/// A checkpoint's folded network.
#[wasm_bindgen]
pub struct ThreadedNet {
    runner: Runner,
}

#[wasm_bindgen]
impl ThreadedNet {
    /// Reads a checkpoint (any format the app accepts; `name` names a bare one's card) and
    /// folds it; throws the app's own message for a file it refuses.
    #[wasm_bindgen(constructor)]
    pub fn new(bytes: &[u8], name: &str) -> Result<ThreadedNet, JsError> {
        console_error_panic_hook::set_once();
        let checkpoint = Checkpoint::from_bytes(bytes, name)?;
        Ok(Self {
            runner: Runner::folded(&checkpoint)?,
        })
    }

    /// The logits (`[classes, height, width]`) of one `[channels, height, width]` image, on
    /// the pool's threads; an image with a side over 1024 runs in tiles, as everywhere.
    pub fn logits(
        &self,
        planes: &[f32],
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Vec<f32>, JsError> {
        let no_pause = || std::future::ready(());
        let logits = unet::ready::finish_ready(
            self.runner
                .logits_pausing(planes, channels, height, width, no_pause),
        )?;
        Ok(logits.data)
    }
}

/// Threads in the pool (after `initThreadPool`).
#[wasm_bindgen]
pub fn threads() -> usize {
    rayon::current_num_threads()
}
