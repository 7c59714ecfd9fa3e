//! `[data-testid=viewer]`: the selected image with its mask, drawn at the image's own
//! resolution and scaled by CSS (`image-rendering: pixelated`), so zoom shows crisp pixels and
//! redrawing never depends on the zoom level. Wheel zooms around the pointer, dragging pans.
//! For a volume the wheel scrolls slices (Ctrl+wheel zooms) and the slice on screen is
//! segmented as soon as it is shown. Volumes and DICOM images are shown through the display
//! window; dragging with the right button (or Shift+left) sets it.

use std::borrow::Cow;
use std::sync::Arc;

use leptos::html::{Canvas, Div};
use leptos::prelude::*;
use unet_imaging::{
    display_rgba, overlay_rgba, slice_image, BitDepth, Channels, Image, Mask, Volume, Window,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{AddEventListenerOptions, CanvasRenderingContext2d, ImageData, WheelEvent};

use crate::edit::{self, Tool};
use crate::engine::Segmentation;
use crate::state::{use_state, AppState, ItemState, SliceKey, WindowChoice};
use crate::volume;

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
    // Redraw when what is shown changes, not on every list update of a batch: an overlay of a
    // large image costs tens of milliseconds. (`Shown` compares pictures by identity.)
    let shown = Memo::new(move |_| shown(state));

    // The slice on screen is segmented at once (the cache makes scrolling back instant).
    Effect::new(move |_| {
        if let Shown::Slice {
            key, mask: None, ..
        } = shown.get()
        {
            // While the batch loop has the item, it segments the slice the item opens on.
            let batch_has_it = state
                .selected_item()
                .is_some_and(|i| matches!(i.state, ItemState::Queued | ItemState::Running));
            if state.ready_model().is_some() && !batch_has_it {
                volume::show(state, key);
            }
        }
    });

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
            attach_wheel(state, &port, view_box);
        }
    });

    // (x, y, whether the drag sets the window) of the last pointer position.
    let drag = StoredValue::new(None::<(f64, f64, bool)>);
    // Image pixel under the pointer (the canvas is scaled and moved by CSS).
    let pixel_at = move |e: &leptos::ev::PointerEvent| {
        let canvas = canvas.get_untracked()?;
        let rect = canvas.get_bounding_client_rect();
        if rect.width() <= 0.0 || rect.height() <= 0.0 {
            return None;
        }
        Some((
            (e.client_x() as f64 - rect.left()) / rect.width() * canvas.width() as f64,
            (e.client_y() as f64 - rect.top()) / rect.height() * canvas.height() as f64,
        ))
    };
    let on_down = move |e: leptos::ev::PointerEvent| {
        let editing = state.edit.get_untracked().tool != Tool::Pan;
        if editing && e.button() == 0 && !e.shift_key() {
            if let Some((x, y)) = pixel_at(&e) {
                edit::press(state, x, y);
            }
            if let Some(port) = viewport.get_untracked() {
                let _ = port.set_pointer_capture(e.pointer_id());
            }
            return;
        }
        let windowing = e.button() == 2 || (e.button() == 0 && e.shift_key());
        let windowed = state
            .selected_item_untracked()
            .is_some_and(|item| item.windowed());
        drag.set_value(Some((
            e.client_x() as f64,
            e.client_y() as f64,
            windowing && windowed,
        )));
        if let Some(port) = viewport.get_untracked() {
            let _ = port.set_pointer_capture(e.pointer_id());
        }
    };
    let on_move = move |e: leptos::ev::PointerEvent| {
        if edit::stroking(state) {
            if let Some((x, y)) = pixel_at(&e) {
                edit::drag(state, x, y);
            }
            return;
        }
        let Some((px, py, windowing)) = drag.get_value() else {
            return;
        };
        let (cx, cy) = (e.client_x() as f64, e.client_y() as f64);
        drag.set_value(Some((cx, cy, windowing)));
        if windowing {
            drag_window(state, cx - px, cy - py);
            return;
        }
        view_box.update(|v| {
            v.x += cx - px;
            v.y += cy - py;
        });
    };
    let on_up = move |_| {
        drag.set_value(None);
        edit::release(state);
    };
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
    let has_image = move || shown.get() != Shown::Nothing;
    let placeholder = move || match state.selected_item() {
        None => "Drop an image to see it here.".to_string(),
        Some(item) if item.volume().is_some() => String::new(),
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
            class:editing=move || state.edit.get().tool != Tool::Pan
            node_ref=viewport
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=on_up
            on:dblclick=refit
            on:contextmenu=move |e| e.prevent_default()
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
            "Wheel: zoom (volumes: slices; Ctrl+wheel: zoom) · drag: pan (or paint, with a \
             brush) · right-drag or Shift+drag: window (level ↕, width ↔) · ↑↓: slices · \
             double-click: fit · M: show/hide the mask · Ctrl+Z / Ctrl+Shift+Z: undo / redo"
        </p>
    }
}

/// An `Arc` compared by identity.
#[derive(Debug, Clone)]
pub(crate) struct Same<T>(pub(crate) Arc<T>);

impl<T> PartialEq for Same<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What the viewer shows.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Nothing,
    /// A segmented 2-D image; `window` for DICOM.
    Flat {
        result: Same<Segmentation>,
        window: Option<(Window, bool)>,
    },
    /// A volume's slice, with its mask once segmented.
    Slice {
        volume: Same<Volume>,
        key: SliceKey,
        mask: Option<Same<Mask>>,
        window: (Window, bool),
        /// The count of hand edits, so an edit redraws.
        edits: u64,
    },
}

fn shown(state: AppState) -> Shown {
    let Some(item) = state.selected_item() else {
        return Shown::Nothing;
    };
    // MONOCHROME1 values (and window) were flipped at decode: never invert them again here.
    let window = |choice: WindowChoice| (choice.window, false);
    if let Some(volume) = item.volume() {
        let Some(key) = state.slice_for(&item) else {
            return Shown::Nothing;
        };
        let mask = state.slice_masks.with(|m| m.get(&key).cloned()).map(Same);
        return Shown::Slice {
            volume: Same(Arc::clone(volume)),
            key,
            mask,
            window: window(state.window_for(&item)),
            edits: state.edits.get(),
        };
    }
    match &item.state {
        ItemState::Done(result) => Shown::Flat {
            result: Same(Arc::clone(result)),
            window: item.windowed().then(|| window(state.window_for(&item))),
        },
        _ => Shown::Nothing,
    }
}

/// A grey 8-bit copy of `image` through `window` (so the overlay code shows it as is).
pub(crate) fn windowed(image: &Image, (window, inverted): (Window, bool)) -> Image {
    Image {
        channels: Channels::Gray,
        bit_depth: BitDepth::U8,
        pixels: image
            .pixels
            .iter()
            .step_by(image.channel_count())
            .map(|&v| f32::from(window.grey(v, inverted)))
            .collect(),
        width: image.width,
        height: image.height,
        format: image.format,
    }
}

/// Draws what is shown (image, plus mask when shown); returns its size if there is one.
fn draw(state: AppState, shown: Shown, canvas: &web_sys::HtmlCanvasElement) -> Option<(u32, u32)> {
    let view = state.view.get();
    let colours = state
        .ready_model()
        .map(|m| m.card.colours())
        .unwrap_or_default();
    let (image, mask, window) = match &shown {
        Shown::Nothing => {
            canvas.set_width(0);
            canvas.set_height(0);
            return None;
        }
        Shown::Flat { result, window } => (
            Arc::clone(&result.0.image),
            Some(Cow::Borrowed(&result.0.mask)),
            *window,
        ),
        Shown::Slice {
            volume,
            key,
            mask,
            window,
            ..
        } => {
            let slicing = volume.0.slicing(key.plane);
            let image = slice_image(&volume.0, key.frame, &slicing, key.index);
            // The hand edits over the model's mask, as the exports save them.
            let mask = mask.as_ref().map(|m| {
                let mut edited = (*m.0).clone();
                edit::over_slice(state, *key, &slicing, &mut edited.data);
                edited
            });
            (Arc::new(image), mask.map(Cow::Owned), Some(*window))
        }
    };
    let image = match window {
        Some(window) => Arc::new(windowed(&image, window)),
        None => image,
    };
    let (w, h) = (image.width, image.height);
    let rgba = match mask {
        Some(mask) if view.show_mask => {
            overlay_rgba(&image, &mask, &colours, view.opacity, view.outline)
        }
        _ => display_rgba(&image),
    };
    put_rgba(canvas, &rgba, w, h)?;
    Some((w, h))
}

/// Puts `w`×`h` RGBA pixels on `canvas`, resized to them.
pub(crate) fn put_rgba(
    canvas: &web_sys::HtmlCanvasElement,
    rgba: &[u8],
    w: u32,
    h: u32,
) -> Option<()> {
    if canvas.width() != w || canvas.height() != h {
        canvas.set_width(w);
        canvas.set_height(h);
    }
    let context = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())?;
    let data = ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), w, h).ok()?;
    context.put_image_data(&data, 0.0, 0.0).ok()
}

/// Right-drag or Shift+drag: `dy` screen pixels move the level, `dx` the width, by 1/512 of
/// the item's full range per pixel (so a drag across the viewer spans the data).
fn drag_window(state: AppState, dx: f64, dy: f64) {
    let Some(item) = state.selected_item_untracked() else {
        return;
    };
    let current = untrack(|| state.window_for(&item)).window;
    let per_pixel = (item.full_range.width / 512.0).max(1e-6);
    state.window.set(Some(WindowChoice {
        item: item.id,
        preset: "custom".into(),
        window: Window::new(
            current.center - dy as f32 * per_pixel,
            current.width + dx as f32 * per_pixel,
        ),
    }));
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
fn attach_wheel(state: AppState, port: &web_sys::HtmlDivElement, view_box: RwSignal<View>) {
    let target = port.clone();
    let handler = Closure::<dyn Fn(WheelEvent)>::new(move |e: WheelEvent| {
        e.prevent_default();
        // On a volume the wheel scrolls slices (up: towards the positive end); Ctrl zooms.
        if !e.ctrl_key() && e.delta_y() != 0.0 {
            let delta = if e.delta_y() < 0.0 { 1 } else { -1 };
            if volume::step(state, delta) {
                return;
            }
        }
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
