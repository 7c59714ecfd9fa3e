//! How many threads the CPU path runs on, and why that many.
//!
//! A wasm module with threads needs shared memory, which a browser grants only to a
//! cross-origin isolated page, and a module with shared memory cannot hold wgpu (it does not
//! build with atomics). So the folded network's threaded copy is a second module
//! (`crates/engine-threads`, built by `scripts/build-threads.sh` into `threads/`), which the
//! engine's worker starts the first time it runs on the CPU: rayon's pool is then one Web Worker
//! per core, and the engine's worker waits for them (a page's own thread may not wait, so the
//! engine there stays on one thread). Natively the folded network already uses rayon's threads.

#[cfg(target_arch = "wasm32")]
mod web;

use serde::{Deserialize, Serialize};
use unet::{Checkpoint, Runner};

/// The CPU path's threads, as the page shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadsInfo {
    /// Threads a pass runs on.
    pub count: usize,
    /// Why that many, in a few words.
    pub why: String,
}

/// The CPU path's threads: the pool of the threaded module once it has started, or the
/// engine's own thread.
#[derive(Default)]
pub struct CpuThreads {
    state: State,
}

#[derive(Default)]
enum State {
    /// Not tried yet: the engine has not run on the CPU.
    #[default]
    Unstarted,
    /// The engine's own thread, for the reason given.
    Single(String),
    /// The threaded module's pool.
    #[cfg(target_arch = "wasm32")]
    Pool(web::Pool),
}

impl CpuThreads {
    /// Starts the pool if this is the first call and the browser allows it; later calls are free.
    pub async fn start(&mut self) {
        if matches!(self.state, State::Unstarted) {
            self.state = start_pool().await;
        }
    }

    /// How many threads the CPU path uses, and why (`None` until [`Self::start`]).
    pub fn info(&self) -> Option<ThreadsInfo> {
        match &self.state {
            State::Unstarted => None,
            State::Single(why) => Some(ThreadsInfo {
                count: 1,
                why: why.clone(),
            }),
            #[cfg(target_arch = "wasm32")]
            State::Pool(pool) => Some(pool.info()),
        }
    }

    /// The checkpoint's folded network on these threads.
    pub fn runner(&self, checkpoint: &Checkpoint) -> Result<Runner, String> {
        match &self.state {
            #[cfg(target_arch = "wasm32")]
            State::Pool(pool) => pool.runner(checkpoint),
            _ => Runner::folded(checkpoint).map_err(|e| e.to_string()),
        }
    }
}

#[cfg(target_arch = "wasm32")]
async fn start_pool() -> State {
    match web::Pool::start().await {
        Ok(pool) => State::Pool(pool),
        Err(why) => State::Single(why),
    }
}

#[cfg(not(target_arch = "wasm32"))]
async fn start_pool() -> State {
    State::Single("natively the folded network runs on rayon's threads".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use unet::runner::finish_ready;

    #[test]
    fn unstarted_says_nothing_and_the_runner_is_the_folded_network() {
        let bytes = include_bytes!("../../../assets/models/untrained-placeholder.unet.safetensors");
        let checkpoint = Checkpoint::from_bytes(bytes, "placeholder").unwrap();
        let mut threads = CpuThreads::default();
        assert_eq!(threads.info(), None);
        assert!(threads.runner(&checkpoint).unwrap().is_cpu());
        finish_ready(threads.start());
        assert_eq!(threads.info().map(|i| i.count), Some(1));
    }
}
