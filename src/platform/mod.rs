//! What the app needs from its host that differs between a browser and a native test: a
//! millisecond clock and a way to let other work run (and, in the browser only, the wall-clock
//! time that exports are stamped with).
//!
//! `std::time::Instant::now` panics on `wasm32-unknown-unknown`, and a browser tab only stays
//! responsive if long work returns to the event loop now and then; natively neither matters.

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(not(target_arch = "wasm32"))]
pub use native::{now_ms, yield_now};
#[cfg(target_arch = "wasm32")]
pub use web::{now_ms, unix_seconds, yield_now};
