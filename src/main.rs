//! The page's entry point: everything lives in the library so tests can reach it.

fn main() {
    #[cfg(target_arch = "wasm32")]
    unet_web::mount();
}
