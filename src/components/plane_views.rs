//! `[data-testid=plane-views]`: a volume in its three planes side by side, each pane
//! (`[data-testid=plane-view][data-plane=NAME][data-index=N]`) cut through one crosshair point,
//! with the mask over it. A click in any pane moves the point, so the other two panes change
//! slice; the single-plane viewer below follows to the point's slice in its own plane.

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;
use unet_imaging::{display_rgba, overlay_rgba, slice_image, Mask, Plane, Volume};

use super::viewer::{put_rgba, windowed, Same};
use crate::edit;
use crate::state::{use_state, AppState, Item, SliceKey};
use crate::volume;

/// Crosshair colour (amber: visible on grey and on every class colour).
const CROSSHAIR: [u8; 3] = [255, 196, 0];

/// The three panes, for the selected volume when the view is on.
#[component]
pub fn PlaneViews() -> impl IntoView {
    let state = use_state();
    let visible = move || {
        state.three_planes.get() && state.selected_item().is_some_and(|i| i.volume().is_some())
    };
    view! {
        <Show when=visible>
            <div class="plane-views" data-testid="plane-views">
                <PlanePane plane=Plane::Axial/>
                <PlanePane plane=Plane::Coronal/>
                <PlanePane plane=Plane::Sagittal/>
            </div>
        </Show>
    }
}

/// Where the crosshair of `item` is: the one set by a click, else the centre of the slice the
/// single viewer shows.
fn crosshair(state: AppState, item: &Item, volume: &Volume) -> Option<(usize, usize)> {
    let key = state.slice_for(item)?;
    if let Some((_, voxel)) = state.crosshair.get().filter(|(id, _)| *id == item.id) {
        return Some((key.frame, voxel));
    }
    let slicing = volume.slicing(key.plane);
    let (h, w) = slicing.shape();
    Some((key.frame, slicing.voxel(key.index, h / 2, w / 2)))
}

/// One plane through the crosshair.
#[component]
fn PlanePane(plane: Plane) -> impl IntoView {
    let state = use_state();
    let canvas = NodeRef::<Canvas>::new();
    // The pane's slice and the crosshair's (row, column) in it.
    let place = Memo::new(move |_| {
        let item = state.selected_item()?;
        let volume = Arc::clone(item.volume()?);
        let (frame, voxel) = crosshair(state, &item, &volume)?;
        let (index, row, col) = volume.slicing(plane).locate(voxel);
        let key = SliceKey {
            item: item.id,
            frame,
            plane,
            index,
        };
        Some((key, row, col, Same(volume)))
    });

    Effect::new(move |_| {
        if let Some((key, ..)) = place.get() {
            volume::show(state, key);
        }
    });
    Effect::new(move |_| {
        let (Some(canvas), Some((key, row, col, volume))) = (canvas.get(), place.get()) else {
            return;
        };
        draw(state, &canvas, &volume.0, key, row, col);
    });

    let on_click = move |e: leptos::ev::MouseEvent| {
        let (Some(canvas), Some((key, _, _, volume))) =
            (canvas.get_untracked(), place.get_untracked())
        else {
            return;
        };
        let rect = canvas.get_bounding_client_rect();
        if rect.width() <= 0.0 || rect.height() <= 0.0 {
            return;
        }
        let x = (e.client_x() as f64 - rect.left()) / rect.width() * canvas.width() as f64;
        let y = (e.client_y() as f64 - rect.top()) / rect.height() * canvas.height() as f64;
        let slicing = volume.0.slicing(plane);
        let (h, w) = slicing.shape();
        if x < 0.0 || y < 0.0 || x as usize >= w || y as usize >= h {
            return;
        }
        let voxel = slicing.voxel(key.index, y as usize, x as usize);
        state.crosshair.set(Some((key.item, voxel)));
        // The single viewer goes to the point's slice in its own plane.
        if let Some(shown) = state
            .selected_item_untracked()
            .and_then(|item| untrack(|| state.slice_for(&item)))
        {
            let (index, _, _) = volume.0.slicing(shown.plane).locate(voxel);
            state.slice.set(Some(SliceKey { index, ..shown }));
        }
    };
    let index = move || place.get().map(|(key, ..)| key.index).unwrap_or_default();
    let count = move || {
        place
            .get()
            .map(|(.., volume)| volume.0.slicing(plane).count())
            .unwrap_or_default()
    };
    view! {
        <figure class="plane-pane">
            <canvas
                data-testid="plane-view"
                data-plane=plane.name()
                data-index=move || index().to_string()
                class="plane-canvas"
                node_ref=canvas
                on:click=on_click
            ></canvas>
            <figcaption>{move || format!("{} {} / {}", plane.name(), index() + 1, count())}</figcaption>
        </figure>
    }
}

/// The slice at `key` through the display window, its mask (with hand edits) over it, and the
/// crosshair through (`row`, `col`).
fn draw(
    state: AppState,
    canvas: &web_sys::HtmlCanvasElement,
    volume: &Volume,
    key: SliceKey,
    row: usize,
    col: usize,
) {
    let Some(item) = state.selected_item() else {
        return;
    };
    let view = state.view.get();
    let colours = state
        .ready_model()
        .map(|m| m.card.colours())
        .unwrap_or_default();
    let slicing = volume.slicing(key.plane);
    let image = slice_image(volume, key.frame, &slicing, key.index);
    let image = windowed(&image, (state.window_for(&item).window, false));
    // The slice's mask; once "Segment all" has run, straight from the label map; else the
    // background until the slice is segmented, so hand edits show at once.
    let (h, w) = slicing.shape();
    let mut mask = state
        .slice_masks
        .with(|m| m.get(&key).map(|mask| (**mask).clone()))
        .unwrap_or_else(|| Mask {
            width: w as u32,
            height: h as u32,
            classes: state.ready_model().map_or(1, |m| m.config.n_classes),
            data: volume::labels_of(state, key.item, key.frame)
                .map(|labels| slicing.extract(&labels.data, key.index))
                .unwrap_or_else(|| vec![0; w * h]),
        });
    edit::over_slice(state, key, &slicing, &mut mask.data);
    let mut rgba = if view.show_mask {
        overlay_rgba(&image, &mask, &colours, view.opacity, view.outline)
    } else {
        display_rgba(&image)
    };
    for p in (0..w)
        .map(|x| row * w + x)
        .chain((0..h).map(|y| y * w + col))
    {
        if let Some(px) = rgba.get_mut(4 * p..4 * p + 3) {
            px.copy_from_slice(&CROSSHAIR);
        }
    }
    let _ = put_rgba(canvas, &rgba, image.width, image.height);
}
