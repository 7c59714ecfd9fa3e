//! The visible drop target with the file picker, and the veil shown while dragging over the
//! page (the whole page accepts drops; see `app::page_wide_inputs`).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::state::use_state;
use crate::{intake, web};

/// Formats offered by the picker (drops accept anything and let decoding decide).
const ACCEPT: &str =
    ".png,.jpg,.jpeg,.bmp,.tif,.tiff,.webp,.nii,.gz,.dcm,.dicom,.ima,image/*,application/dicom";

/// "Drop images here, paste, or choose files".
#[component]
pub fn DropZone() -> impl IntoView {
    let state = use_state();
    let on_change = move |e: leptos::ev::Event| {
        let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        intake::take(state, web::files::list(input.files()));
        // Clearing lets the same file be chosen again.
        input.set_value("");
    };
    view! {
        <div class="drop-zone" data-testid="drop-zone">
            <p class="drop-title">"Drop images anywhere on the page"</p>
            <p class="drop-hint">
                "PNG, JPEG, BMP, TIFF (8/16-bit), WebP, NIfTI, DICOM (files or a series folder) · \
                 or paste (Ctrl+V) · several at once"
            </p>
            <label class="button">
                "Choose files…"
                <input
                    type="file"
                    multiple=true
                    accept=ACCEPT
                    data-testid="file-input"
                    class="visually-hidden"
                    on:change=on_change
                />
            </label>
        </div>
    }
}

/// A veil over the page while files are dragged over it.
#[component]
pub fn DropOverlay(
    /// Whether files are being dragged over the page.
    visible: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <div class="drop-overlay" class:shown=move || visible.get() aria-hidden="true">
            <p>"Drop to segment"</p>
        </div>
    }
}
