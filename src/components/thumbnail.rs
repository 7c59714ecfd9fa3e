//! A small picture of a segmented item for the file list, drawn on a canvas (no image URL, so
//! no request of any kind).

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;
use unet_imaging::overlay_rgba;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, ImageData};

use crate::engine::Segmentation;
use crate::state::use_state;

/// Longest side of a thumbnail, in pixels.
const SIDE: u32 = 48;

/// The image with its mask, shrunk to fit [`SIDE`].
#[component]
pub fn Thumbnail(
    /// The segmented item.
    result: Arc<Segmentation>,
) -> impl IntoView {
    let state = use_state();
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let colours = state
            .ready_model()
            .map(|m| m.card.colours())
            .unwrap_or_default();
        if let Some(canvas) = canvas.get() {
            draw(&canvas, &result, &colours);
        }
    });
    view! { <canvas class="thumb-canvas" node_ref=canvas></canvas> }
}

fn draw(canvas: &web_sys::HtmlCanvasElement, result: &Segmentation, colours: &[[u8; 3]]) {
    let (w, h) = (result.image.width, result.image.height);
    let scale = (SIDE as f64 / w.max(h) as f64).min(1.0);
    let tw = ((w as f64 * scale).round() as u32).max(1);
    let th = ((h as f64 * scale).round() as u32).max(1);
    let full = overlay_rgba(&result.image, &result.mask, colours, 0.5, false);
    // Nearest-neighbour: a thumbnail only has to be recognisable.
    let mut small = vec![0u8; (tw * th * 4) as usize];
    for y in 0..th {
        let sy = ((y as f64 + 0.5) / scale) as u32;
        for x in 0..tw {
            let sx = ((x as f64 + 0.5) / scale) as u32;
            let src = ((sy.min(h - 1) * w + sx.min(w - 1)) * 4) as usize;
            let dst = ((y * tw + x) * 4) as usize;
            small[dst..dst + 4].copy_from_slice(&full[src..src + 4]);
        }
    }
    canvas.set_width(tw);
    canvas.set_height(th);
    let context = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok());
    if let (Some(context), Ok(data)) = (
        context,
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(&small), tw, th),
    ) {
        let _ = context.put_image_data(&data, 0.0, 0.0);
    }
}
