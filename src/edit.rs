//! Correcting masks by hand: brush, eraser and fill on the slice shown, with undo and redo.
//!
//! A 2-D item's edits go into its mask itself, so every export of it includes them. A volume's
//! edits go into a layer of their own, one byte a voxel ([`UNEDITED`] where the model's label
//! stands), laid over the model's labels wherever they are shown, measured or exported. So edits
//! live in voxel space: they survive switching planes, segmenting other slices and "Segment
//! all", which never writes the layer; only "Discard edits" clears it.

use std::collections::HashSet;
use std::sync::Arc;

use leptos::prelude::*;
use unet_imaging::{fill_region, stroke_pixels, LabelVolume, Slicing};

use crate::history::{EditTarget, Patch};
use crate::state::{AppState, Item, ItemState, SliceKey};
use crate::stroke::Target;
pub use crate::stroke::{Stroke, Tool};

/// A voxel of the edit layer that the user has not painted.
pub const UNEDITED: u8 = 255;

impl Target {
    /// The target of `item` as shown: its mask, or the slice of its volume on screen.
    fn of(state: AppState, item: &Item) -> Option<Target> {
        match item.volume() {
            Some(volume) => {
                let key = untrack(|| state.slice_for(item))?;
                Some(Target::Slice {
                    key,
                    volume: Arc::clone(volume),
                    slicing: volume.slicing(key.plane),
                })
            }
            None => match &item.state {
                ItemState::Done(result) => Some(Target::Image {
                    item: item.id,
                    width: result.mask.width as usize,
                    height: result.mask.height as usize,
                }),
                _ => None,
            },
        }
    }

    fn edit_target(&self) -> EditTarget {
        match self {
            Target::Image { item, .. } => EditTarget::Image(*item),
            Target::Slice { key, .. } => EditTarget::Volume(key.item, key.frame),
        }
    }

    /// (width, height) of the slice.
    fn size(&self) -> (usize, usize) {
        match self {
            Target::Image { width, height, .. } => (*width, *height),
            Target::Slice { slicing, .. } => {
                let (h, w) = slicing.shape();
                (w, h)
            }
        }
    }

    /// Position `p` of the slice as an index of the target's data.
    fn index(&self, p: usize) -> usize {
        match self {
            Target::Image { .. } => p,
            Target::Slice { key, slicing, .. } => {
                let (_, w) = slicing.shape();
                slicing.voxel(key.index, p / w, p % w)
            }
        }
    }

    /// The target's own values on the slice: mask classes, or the edit layer (all
    /// [`UNEDITED`] before the first edit).
    fn values(&self, state: AppState) -> Vec<u8> {
        match self {
            Target::Image { item, .. } => {
                with_mask(state, *item, |m| m.to_vec()).unwrap_or_default()
            }
            Target::Slice { key, slicing, .. } => {
                let (h, w) = slicing.shape();
                state
                    .volume_edits
                    .with_value(|layers| match layers.get(&(key.item, key.frame)) {
                        Some(layer) => slicing.extract(layer, key.index),
                        None => vec![UNEDITED; h * w],
                    })
            }
        }
    }

    /// What the slice shows: the mask, or the model's slice mask (background until segmented)
    /// with the edits over it.
    fn shown(&self, state: AppState) -> Vec<u8> {
        match self {
            Target::Image { .. } => self.values(state),
            Target::Slice { key, .. } => {
                let (w, h) = self.size();
                let mut labels = state
                    .slice_masks
                    .with_untracked(|m| m.get(key).map(|mask| mask.data.clone()))
                    .unwrap_or_else(|| vec![0; w * h]);
                lay_over(&mut labels, &self.values(state));
                labels
            }
        }
    }

    /// Writes `value` at slice positions `pixels`.
    fn write(&self, state: AppState, pixels: &[usize], value: u8) {
        if pixels.is_empty() {
            return;
        }
        match self {
            Target::Image { item, .. } => {
                with_mask_mut(state, *item, |mask| {
                    for &p in pixels {
                        if let Some(v) = mask.get_mut(p) {
                            *v = value;
                        }
                    }
                });
                state.edited_items.update(|s| {
                    s.insert(*item);
                });
            }
            Target::Slice { key, volume, .. } => {
                state.volume_edits.update_value(|layers| {
                    let layer = layers
                        .entry((key.item, key.frame))
                        .or_insert_with(|| vec![UNEDITED; volume.dims.iter().product()]);
                    for &p in pixels {
                        layer[self.index(p)] = value;
                    }
                });
            }
        }
        state.edits.update(|n| *n += 1);
    }
}

/// `edits` (a slice or volume of the edit layer) laid over `labels`.
pub fn lay_over(labels: &mut [u8], edits: &[u8]) {
    for (label, &edit) in labels.iter_mut().zip(edits) {
        if edit != UNEDITED {
            *label = edit;
        }
    }
}

/// Runs `f` on the mask of 2-D item `id`.
fn with_mask<T>(state: AppState, id: u64, f: impl FnOnce(&[u8]) -> T) -> Option<T> {
    state.items.with_untracked(|items| {
        items
            .iter()
            .find(|i| i.id == id)
            .and_then(|i| match &i.state {
                ItemState::Done(result) => Some(f(&result.mask.data)),
                _ => None,
            })
    })
}

/// Changes the mask of 2-D item `id` (a new `Arc`, so what shows it redraws).
fn with_mask_mut(state: AppState, id: u64, f: impl FnOnce(&mut Vec<u8>)) {
    state.items.update(|items| {
        if let Some(ItemState::Done(result)) =
            items.iter_mut().find(|i| i.id == id).map(|i| &mut i.state)
        {
            f(&mut Arc::make_mut(result).mask.data);
        }
    });
}

/// A press at image position (`x`, `y`) with the current tool: starts a stroke, or fills.
pub fn press(state: AppState, x: f64, y: f64) {
    let settings = state.edit.get_untracked();
    let Some(item) = state.selected_item_untracked() else {
        return;
    };
    let Some(target) = Target::of(state, &item) else {
        return;
    };
    let before = target.values(state);
    match settings.tool {
        Tool::Pan => {}
        Tool::Fill => {
            let (w, h) = target.size();
            if x < 0.0 || y < 0.0 || x >= w as f64 || y >= h as f64 {
                return;
            }
            let shown = target.shown(state);
            let region = fill_region(&shown, w, x as usize, y as usize);
            target.write(state, &region, settings.class);
            finish(state, &target, &before);
        }
        Tool::Brush | Tool::Eraser => {
            let value = if settings.tool == Tool::Brush {
                settings.class
            } else {
                0
            };
            let stroke = Stroke {
                target,
                before,
                last: (x, y),
                value,
            };
            paint(state, &stroke, (x, y), settings.radius);
            state.stroke.set_value(Some(stroke));
        }
    }
}

/// The pointer moved to (`x`, `y`) during a stroke.
pub fn drag(state: AppState, x: f64, y: f64) {
    let radius = state.edit.get_untracked().radius;
    state.stroke.update_value(|stroke| {
        if let Some(stroke) = stroke {
            paint(state, stroke, (x, y), radius);
            stroke.last = (x, y);
        }
    });
}

/// Whether a stroke is in progress.
pub fn stroking(state: AppState) -> bool {
    state.stroke.with_value(Option::is_some)
}

/// The pointer was released: the stroke becomes one undoable edit.
pub fn release(state: AppState) {
    if let Some(stroke) = state.stroke.try_update_value(Option::take).flatten() {
        finish(state, &stroke.target, &stroke.before);
    }
}

fn paint(state: AppState, stroke: &Stroke, to: (f64, f64), radius: f64) {
    let (w, h) = stroke.target.size();
    let pixels = stroke_pixels(w, h, stroke.last, to, radius);
    stroke.target.write(state, &pixels, stroke.value);
}

/// Records what changed on the target's slice since `before`.
fn finish(state: AppState, target: &Target, before: &[u8]) {
    let after = target.values(state);
    let patch = Patch::between(target.edit_target(), before, &after, |p| target.index(p));
    state.history.update_value(|h| h.push(patch));
    state.edits.update(|n| *n += 1);
}

/// Takes back the last edit (Ctrl+Z).
pub fn undo(state: AppState) {
    if let Some(patch) = state.history.try_update_value(|h| h.undo()).flatten() {
        apply(state, &patch, false);
    }
}

/// Does the last undone edit again (Ctrl+Shift+Z, Ctrl+Y).
pub fn redo(state: AppState) {
    if let Some(patch) = state.history.try_update_value(|h| h.redo()).flatten() {
        apply(state, &patch, true);
    }
}

fn apply(state: AppState, patch: &Patch, forward: bool) {
    let run = |data: &mut [u8]| {
        if forward {
            patch.redo_on(data)
        } else {
            patch.undo_on(data)
        }
    };
    match patch.target {
        EditTarget::Image(item) => with_mask_mut(state, item, |m| run(m)),
        EditTarget::Volume(item, frame) => state.volume_edits.update_value(|layers| {
            if let Some(layer) = layers.get_mut(&(item, frame)) {
                run(layer);
            }
        }),
    }
    state.edits.update(|n| *n += 1);
}

/// Drops the hand edits of a volume frame: "Segment all" and the exports show the model's
/// labels again. Not undoable (the edits' history goes too).
pub fn discard(state: AppState, item: u64, frame: usize) {
    state.volume_edits.update_value(|layers| {
        layers.remove(&(item, frame));
    });
    state
        .history
        .update_value(|h| h.forget(EditTarget::Volume(item, frame)));
    state.edits.update(|n| *n += 1);
}

/// Drops the edits and undo history of items no longer in the list (removed or cleared).
pub fn forget_removed(state: AppState) {
    let present: HashSet<u64> = state
        .items
        .with_untracked(|items| items.iter().map(|i| i.id).collect());
    state
        .volume_edits
        .update_value(|layers| layers.retain(|(item, _), _| present.contains(item)));
    state
        .history
        .update_value(|h| h.retain_items(|item| present.contains(&item)));
    state
        .edited_items
        .update(|s| s.retain(|item| present.contains(item)));
    state.edits.update(|n| *n += 1);
}

/// Whether a volume frame has hand edits (tracks edits).
pub fn volume_edited(state: AppState, item: u64, frame: usize) -> bool {
    state.edits.track();
    state.volume_edits.with_value(|layers| {
        layers
            .get(&(item, frame))
            .is_some_and(|layer| layer.iter().any(|&v| v != UNEDITED))
    })
}

/// Whether the slice at `key` has hand edits (tracks edits).
pub fn slice_edited(state: AppState, key: SliceKey, slicing: &Slicing) -> bool {
    state.edits.track();
    state.volume_edits.with_value(|layers| {
        layers.get(&(key.item, key.frame)).is_some_and(|layer| {
            let (h, w) = slicing.shape();
            (0..h * w).any(|p| layer[slicing.voxel(key.index, p / w, p % w)] != UNEDITED)
        })
    })
}

/// The edits of the slice at `key` laid over its mask `data` (tracks edits).
pub fn over_slice(state: AppState, key: SliceKey, slicing: &Slicing, data: &mut [u8]) {
    state.edits.track();
    state.volume_edits.with_value(|layers| {
        if let Some(layer) = layers.get(&(key.item, key.frame)) {
            lay_over(data, &slicing.extract(layer, key.index));
        }
    });
}

/// `labels` with the frame's edits laid over it (the same `Arc` when it has none).
pub fn over_volume(
    state: AppState,
    item: u64,
    frame: usize,
    labels: Arc<LabelVolume>,
) -> Arc<LabelVolume> {
    state
        .volume_edits
        .with_value(|layers| match layers.get(&(item, frame)) {
            Some(layer) => {
                let mut edited = (*labels).clone();
                lay_over(&mut edited.data, layer);
                Arc::new(edited)
            }
            None => labels,
        })
}
