//! `[data-testid=viewer]`: the selected image with its mask, drawn at the image's own
//! resolution and scaled by CSS (`image-rendering: pixelated`), so zoom shows crisp pixels and
//! redrawing never depends on the zoom level. Wheel zooms around the pointer, dragging pans.

use std::sync::Arc;

use leptos::html::{Canvas, Div};
use leptos::prelude::*;
use unet_imaging::{display_rgba, overlay_rgba};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{AddEventListenerOptions, CanvasRenderingContext2d, ImageData, WheelEvent};

use crate::engine::Segmentation;
use crate::state::{use_state, AppState, ItemState};

/// Zoom limits: from a thumbnail-sized view to 64 screen pixels per image pixel.
const MIN_ZOOM: f64 = 0.02;
const MAX_ZOOM: f64 = 64.0;

#[derive(Clone, Copy, PartialEq)]
struct View {
    zoom: f64,
    x: f64,
    y: f64,
}

/// The canvas and its pan/zoom viewport.
#[component]
pub fn Viewer() -> impl IntoView {
    let state = use_state();
    let canvas = NodeRef::<Canvas>::new();
    let viewport = NodeRef::<Div>::new();
    let view_box = RwSignal::new(View {
        zoom: 1.0,
        x: 0.0,
        y: 0.0,
    });
    // (item id, width, height) the view was last fitted to: refit only when that changes.
    let fitted = StoredValue::new(None::<(u64, u32, u32)>);
    // Redraw when the selected item's result changes, not on every list update of a batch:
    // an overlay of a large image costs tens of milliseconds.
    let shown = Memo::new_with_compare(move |_| selected_result(state), changed);

    Effect::new(move |_| {
        let Some(canvas) = canvas.get() else { return };
        let size = draw(state, shown.get(), &canvas);
        let key = state
            .selected
            .get()
            .zip(size)
            .map(|(id, (w, h))| (id, w, h));
        if key.is_some() && key != fitted.get_value() {
            fitted.set_value(key);
            if let (Some((_, w, h)), Some(port)) = (key, viewport.get_untracked()) {
                view_box.set(fit(&port, w, h));
            }
        }
    });

    Effect::new(move |_| {
        if let Some(port) = viewport.get() {
            attach_wheel(&port, view_box);
        }
    });

    let drag = StoredValue::new(None::<(f64, f64)>);
    let on_down = move |e: leptos::ev::PointerEvent| {
        drag.set_value(Some((e.client_x() as f64, e.client_y() as f64)));
        if let Some(port) = viewport.get_untracked() {
            let _ = port.set_pointer_capture(e.pointer_id());
        }
    };
    let on_move = move |e: leptos::ev::PointerEvent| {
        let Some((px, py)) = drag.get_value() else {
            return;
        };
        let (cx, cy) = (e.client_x() as f64, e.client_y() as f64);
        drag.set_value(Some((cx, cy)));
        view_box.update(|v| {
            v.x += cx - px;
            v.y += cy - py;
        });
    };
    let on_up = move |_| drag.set_value(None);
    let refit = move |_| {
        fitted.set_value(None);
        if let (Some(port), Some(canvas)) = (viewport.get_untracked(), canvas.get_untracked()) {
            view_box.set(fit(&port, canvas.width(), canvas.height()));
        }
    };
    let transform = move || {
        let v = view_box.get();
        format!("translate({}px, {}px) scale({})", v.x, v.y, v.zoom)
    };
    let has_image = move || {
        matches!(
            state.selected_item().map(|i| i.state),
            Some(ItemState::Done(_))
        )
    };
    let placeholder = move || match state.selected_item() {
        None => "Drop an image to see it here.".to_string(),
        Some(item) => match item.state {
            ItemState::Done(_) => String::new(),
            ItemState::Failed(message) => {
                format!("{} could not be segmented: {message}", item.name)
            }
            ItemState::Cancelled => format!("{} was cancelled.", item.name),
            _ => format!("Segmenting {}…", item.name),
        },
    };

    view! {
        <div
            class="viewport"
            node_ref=viewport
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=on_up
            on:dblclick=refit
        >
            <canvas
                data-testid="viewer"
                class="viewer-canvas"
                class:empty=move || !has_image()
                node_ref=canvas
                style:transform=transform
            ></canvas>
            <p class="viewer-placeholder" class:hidden=has_image>{placeholder}</p>
        </div>
        <p class="viewer-help">
            "Wheel: zoom · drag: pan · double-click: fit · M: show/hide the mask"
        </p>
    }
}

/// The selected item's result, if it has one.
fn selected_result(state: AppState) -> Option<Arc<Segmentation>> {
    match state.selected_item()?.state {
        ItemState::Done(result) => Some(result),
        _ => None,
    }
}

/// Whether the shown result changed: by identity, as comparing images by value is costly.
fn changed(
    old: Option<&Option<Arc<Segmentation>>>,
    new: Option<&Option<Arc<Segmentation>>>,
) -> bool {
    match (old, new) {
        (Some(Some(a)), Some(Some(b))) => !Arc::ptr_eq(a, b),
        (Some(None), Some(None)) => false,
        _ => true,
    }
}

/// Draws `result` (image, plus mask when shown); returns its size if there is one.
fn draw(
    state: AppState,
    result: Option<Arc<Segmentation>>,
    canvas: &web_sys::HtmlCanvasElement,
) -> Option<(u32, u32)> {
    let view = state.view.get();
    let colours = state
        .ready_model()
        .map(|m| m.card.colours())
        .unwrap_or_default();
    let Some(result) = result else {
        canvas.set_width(0);
        canvas.set_height(0);
        return None;
    };
    let (w, h) = (result.image.width, result.image.height);
    let rgba = if view.show_mask {
        overlay_rgba(
            &result.image,
            &result.mask,
            &colours,
            view.opacity,
            view.outline,
        )
    } else {
        display_rgba(&result.image)
    };
    if canvas.width() != w || canvas.height() != h {
        canvas.set_width(w);
        canvas.set_height(h);
    }
    let context = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())?;
    let data = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), w, h).ok()?;
    let _ = context.put_image_data(&data, 0.0, 0.0);
    Some((w, h))
}

/// The zoom and offset that show a `w`×`h` image whole and centred in `port`.
fn fit(port: &web_sys::HtmlDivElement, w: u32, h: u32) -> View {
    let (pw, ph) = (port.client_width() as f64, port.client_height() as f64);
    if w == 0 || h == 0 || pw <= 0.0 || ph <= 0.0 {
        return View {
            zoom: 1.0,
            x: 0.0,
            y: 0.0,
        };
    }
    let zoom = (pw / w as f64).min(ph / h as f64).clamp(MIN_ZOOM, MAX_ZOOM);
    View {
        zoom,
        x: (pw - w as f64 * zoom) / 2.0,
        y: (ph - h as f64 * zoom) / 2.0,
    }
}

/// Wheel zoom needs a non-passive listener to stop the page from scrolling; Leptos's `on:`
/// listeners are passive for wheel events, so this one is added by hand. The viewport lives
/// as long as the page, so the closure is deliberately leaked.
fn attach_wheel(port: &web_sys::HtmlDivElement, view_box: RwSignal<View>) {
    let target = port.clone();
    let handler = Closure::<dyn Fn(WheelEvent)>::new(move |e: WheelEvent| {
        e.prevent_default();
        let rect = target.get_bounding_client_rect();
        let (mx, my) = (
            e.client_x() as f64 - rect.left(),
            e.client_y() as f64 - rect.top(),
        );
        let factor = (-e.delta_y() * 0.0015).exp();
        view_box.update(|v| {
            let zoom = (v.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
            // Keep the image point under the pointer where it is.
            v.x = mx - (mx - v.x) * zoom / v.zoom;
            v.y = my - (my - v.y) * zoom / v.zoom;
            v.zoom = zoom;
        });
    });
    let options = AddEventListenerOptions::new();
    options.set_passive(false);
    let _ = port.add_event_listener_with_callback_and_add_event_listener_options(
        "wheel",
        handler.as_ref().unchecked_ref(),
        &options,
    );
    handler.forget();
}
