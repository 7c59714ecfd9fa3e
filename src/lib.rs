//! unet-web: U-Net segmentation of medical images, entirely in the user's browser.
//!
//! Layout: [`engine`] runs the model behind a request/response interface (burn on WebGPU or
//! the CPU); [`export`], [`history`], [`limits`] and [`manifest`] are plain data helpers; everything that touches the
//! DOM — the Leptos UI, its state and the browser glue — is compiled for wasm32 only.

pub mod engine;
pub mod export;
pub mod history;
pub mod limits;
pub mod manifest;
mod platform;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod batch;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod edit;
#[cfg(target_arch = "wasm32")]
mod intake;
#[cfg(target_arch = "wasm32")]
mod models;
#[cfg(target_arch = "wasm32")]
mod slice_key;
#[cfg(target_arch = "wasm32")]
mod state;
#[cfg(target_arch = "wasm32")]
mod stroke;
#[cfg(target_arch = "wasm32")]
mod volume;
#[cfg(target_arch = "wasm32")]
mod web;

/// The module's entry point: the UI on a page, the inference engine in the engine's worker
/// (the same module, started by `engine-worker.js`).
#[cfg(target_arch = "wasm32")]
pub fn start() {
    if web_sys::window().is_some() {
        mount();
    } else {
        engine::serve_in_worker();
    }
}

/// Starts the app: panic reporting first, then the UI into `<body>`.
#[cfg(target_arch = "wasm32")]
fn mount() {
    web::panic::install();
    // The static "loading" note in index.html is for browsers where the wasm never starts.
    if let Some(boot) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("boot"))
    {
        boot.remove();
    }
    leptos::mount::mount_to_body(app::App);
}
