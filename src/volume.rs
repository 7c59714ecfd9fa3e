//! Volumes in the app: slices are cut on demand ([`unet_imaging::slice_image`], the same cut
//! as `unet predict`), scaled by the whole volume's statistics, segmented by the same engine
//! as 2-D images and cached per (frame, plane, slice), so scrolling back is instant. "Segment
//! all" runs [`VolumeSegmenter`] as the CLI does (the card's planes, fused, and its 3-D
//! post-processing) with progress, returning to the event loop between slices; its label map
//! is what the viewer then shows and what the export saves.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use unet_imaging::{
    file_stem, slice_image, LabelVolume, Mask, Normalization, Plane, Volume, VolumeSegmenter,
};

use crate::engine::{EngineHandle, Segmentation};
use crate::platform::yield_now;
use crate::state::{AppState, Item, SliceKey, VolumeJob};
use crate::{edit, web};

/// Drops every cached slice mask, label map and scaling (the model changed).
pub fn forget_masks(state: AppState) {
    state.slice_work.update_value(|w| {
        w.generation += 1;
        w.wanted.clear();
    });
    state.volume_labels.update_value(|m| m.clear());
    state.volume_scaling.update_value(|m| m.clear());
    state.slice_masks.update(|m| m.clear());
}
/// Segments the slice `item` opens on (the batch loop's part of a volume).
pub async fn segment_first(
    state: AppState,
    engine: &EngineHandle,
    item: &Item,
) -> Result<Arc<Segmentation>, String> {
    let key = untrack(|| state.slice_for(item)).ok_or("not a volume")?;
    let volume = item.volume().ok_or("not a volume")?;
    segment_slice(state, engine, volume, key, false).await
}

/// The scaling of a volume frame for the current model: the card's rule over the whole frame,
/// computed once (the CLI computes the same in [`VolumeSegmenter::new`]).
fn scaling(
    state: AppState,
    volume: &Volume,
    item: u64,
    frame: usize,
) -> Result<Normalization, String> {
    if let Some(known) = state
        .volume_scaling
        .with_value(|m| m.get(&(item, frame)).cloned())
    {
        return Ok(known);
    }
    let model = state
        .ready_model_untracked()
        .ok_or("no model is loaded yet")?;
    let card = &model.card;
    let segmenter = VolumeSegmenter::new(
        volume,
        frame,
        card.volume_planes(),
        model.config.n_channels,
        &card.preprocessing,
        &card.postprocess,
    )
    .map_err(|e| e.to_string())?;
    let scaling = segmenter.scaling().clone();
    state.volume_scaling.update_value(|m| {
        m.insert((item, frame), scaling.clone());
    });
    Ok(scaling)
}

/// One slice through the engine, scaled as its volume; its mask goes into the cache unless the
/// model changed meanwhile. With `keep_logits`, the result carries the logits.
async fn segment_slice(
    state: AppState,
    engine: &EngineHandle,
    volume: &Volume,
    key: SliceKey,
    keep_logits: bool,
) -> Result<Arc<Segmentation>, String> {
    let slicing = volume.slicing(key.plane);
    let image = slice_image(volume, key.frame, &slicing, key.index);
    let generation = state.slice_work.with_value(|w| w.generation);
    let scaling = scaling(state, volume, key.item, key.frame)?;
    match engine
        .segment_image(Arc::new(image), Some(scaling), keep_logits)
        .await
    {
        Ok(result) => {
            if state.slice_work.with_value(|w| w.generation) == generation {
                let mask = Arc::new(result.mask.clone());
                state.slice_masks.update(|m| {
                    m.insert(key, mask);
                });
            }
            Ok(result)
        }
        Err(message) => Err(format!(
            "{} slice {}: {message}",
            key.plane.name(),
            key.index + 1
        )),
    }
}

/// The selected volume frame (item, frame) and its finished label map, if "segment all" has made it (tracks the
/// selection, the slice shown and the job, whose end is when a label map appears).
pub fn selected_labels(state: AppState) -> Option<(Item, usize, Arc<LabelVolume>)> {
    let item = state.selected_item()?;
    state.volume_job.track();
    let frame = state.slice_for(&item)?.frame;
    let labels = labels_of(state, item.id, frame)?;
    Some((item, frame, labels))
}

/// The selected volume frame's label map with its hand edits laid over it: what is measured
/// and exported (tracks what [`selected_labels`] tracks, and the edits).
pub fn selected_edited_labels(state: AppState) -> Option<(Item, usize, Arc<LabelVolume>)> {
    let (item, frame, labels) = selected_labels(state)?;
    state.edits.track();
    let labels = edit::over_volume(state, item.id, frame, labels);
    Some((item, frame, labels))
}

/// A volume frame's label map with its hand edits, if "segment all" produced one.
pub fn edited_labels_of(state: AppState, item: u64, frame: usize) -> Option<Arc<LabelVolume>> {
    labels_of(state, item, frame).map(|labels| edit::over_volume(state, item, frame, labels))
}

/// The finished label map of an item's volume frame, if "segment all" produced one.
pub fn labels_of(state: AppState, item: u64, frame: usize) -> Option<Arc<LabelVolume>> {
    state
        .volume_labels
        .with_value(|m| m.get(&(item, frame)).cloned())
}

/// Shows the label map's cut at `key` instead of the slice's own mask: after "segment all",
/// the viewer shows what the export saves (fused planes, 3-D post-processing).
fn show_from_labels(state: AppState, volume: &Volume, labels: &LabelVolume, key: SliceKey) {
    let slicing = volume.slicing(key.plane);
    let (height, width) = slicing.shape();
    let classes = state
        .ready_model_untracked()
        .map(|m| m.config.n_classes)
        .unwrap_or(1);
    let mask = Mask {
        width: width as u32,
        height: height as u32,
        classes,
        data: slicing.extract(&labels.data, key.index),
    };
    state.slice_masks.update(|m| {
        m.insert(key, Arc::new(mask));
    });
}

fn cached(state: AppState, key: &SliceKey) -> bool {
    state.slice_masks.with_untracked(|m| m.contains_key(key))
}

fn volume_of(state: AppState, id: u64) -> Option<Arc<Volume>> {
    state.items.with_untracked(|items| {
        items
            .iter()
            .find(|i| i.id == id)
            .and_then(|i| i.volume().cloned())
    })
}

/// Makes sure a slice on screen gets its mask: queued behind the slice being segmented now,
/// newest first, the oldest waiting ones dropped (see [`crate::state::SliceWork::want`]).
pub fn show(state: AppState, key: SliceKey) {
    if cached(state, &key) || state.ready_model_untracked().is_none() {
        return;
    }
    let Some(engine) = state.engine.get_untracked() else {
        return;
    };
    let start = state.slice_work.try_update_value(|w| {
        w.want(key);
        !std::mem::replace(&mut w.busy, true)
    });
    if start != Some(true) {
        return;
    }
    spawn_local(async move {
        loop {
            let next = state.slice_work.try_update_value(|w| w.wanted.pop());
            let Some(key) = next.flatten() else {
                break;
            };
            if cached(state, &key) {
                continue;
            }
            let Some(volume) = volume_of(state, key.item) else {
                continue;
            };
            if let Some(labels) = labels_of(state, key.item, key.frame) {
                show_from_labels(state, &volume, &labels, key);
                continue;
            }
            if let Err(message) = segment_slice(state, &engine, &volume, key, false).await {
                state.notice.set(Some(message));
            }
            yield_now().await;
        }
        state.slice_work.update_value(|w| w.busy = false);
    });
}

/// Moves the selected volume to slice `index` of its plane (clamped).
pub fn go_to(state: AppState, index: usize) {
    let Some(item) = state.selected_item_untracked() else {
        return;
    };
    let (Some(volume), Some(key)) = (item.volume(), untrack(|| state.slice_for(&item))) else {
        return;
    };
    let last = volume.slicing(key.plane).count().saturating_sub(1);
    state.slice.set(Some(SliceKey {
        index: index.min(last),
        ..key
    }));
}

/// Moves the selected volume `delta` slices on; false when no volume is shown.
pub fn step(state: AppState, delta: i64) -> bool {
    let Some(item) = state.selected_item_untracked() else {
        return false;
    };
    let Some(key) = untrack(|| state.slice_for(&item)) else {
        return false;
    };
    go_to(state, (key.index as i64 + delta).max(0) as usize);
    true
}

/// Shows the selected volume in `plane` (at its middle slice) or frame `frame`.
pub fn set_plane_frame(state: AppState, plane: Plane, frame: usize) {
    let Some(item) = state.selected_item_untracked() else {
        return;
    };
    let (Some(volume), Some(key)) = (item.volume(), untrack(|| state.slice_for(&item))) else {
        return;
    };
    let index = if plane == key.plane {
        key.index
    } else {
        volume.slicing(plane).count() / 2
    };
    state.slice.set(Some(SliceKey {
        item: item.id,
        frame: frame.min(volume.frames.saturating_sub(1)),
        plane,
        index,
    }));
}

/// Segments the selected volume's frame as `unet predict` does ([`VolumeSegmenter`]: the
/// volume's scaling, the card's planes fused, its 3-D post-processing), then shows the label
/// map and, with `export`, saves it. One run at a time; [`cancel_all`] stops it between
/// slices. A finished label map is kept, so a second export saves it at once.
pub fn segment_all(state: AppState, export: bool) {
    let running = state.volume_job.get_untracked().is_some_and(|j| j.running);
    let Some(model) = state.ready_model_untracked() else {
        return;
    };
    if running {
        return;
    }
    let Some(engine) = state.engine.get_untracked() else {
        return;
    };
    let Some(item) = state.selected_item_untracked() else {
        return;
    };
    let (Some(volume), Some(shown)) = (item.volume().cloned(), untrack(|| state.slice_for(&item)))
    else {
        return;
    };
    if let Some(labels) = edited_labels_of(state, shown.item, shown.frame) {
        if export {
            let result = save_labels(&item.name, &labels);
            state
                .notice
                .set(result.err().map(|e| format!("export failed: {e}")));
        }
        return;
    }
    let card = &model.card;
    let segmenter = VolumeSegmenter::new(
        &volume,
        shown.frame,
        card.volume_planes(),
        model.config.n_channels,
        &card.preprocessing,
        &card.postprocess,
    )
    .map(|segmenter| segmenter.with_threshold(card.foreground_threshold()));
    let mut segmenter = match segmenter {
        Ok(segmenter) => segmenter,
        Err(e) => return state.notice.set(Some(e.to_string())),
    };
    let steps = segmenter.steps(&volume);
    let generation = state.slice_work.with_value(|w| w.generation);
    state.slice_work.update_value(|w| w.cancel = false);
    state.volume_job.set(Some(VolumeJob {
        item: item.id,
        done: 0,
        total: steps.len(),
        running: true,
    }));
    spawn_local(async move {
        let mut complete = true;
        for (done, &(plane, index)) in steps.iter().enumerate() {
            if state.slice_work.with_value(|w| w.cancel) {
                complete = false;
                break;
            }
            let key = SliceKey {
                plane,
                index,
                ..shown
            };
            let added = match segment_slice(state, &engine, &volume, key, true).await {
                Ok(result) => match &result.logits {
                    Some(logits) => segmenter
                        .add(&volume, plane, index, &logits.data, logits.classes)
                        .map_err(|e| e.to_string()),
                    None => Err("internal: no logits came back".into()),
                },
                Err(message) => Err(message),
            };
            if let Err(message) = added {
                state.notice.set(Some(message));
                complete = false;
                break;
            }
            state.volume_job.update(|job| {
                if let Some(job) = job {
                    job.done = done + 1;
                }
            });
            // Let the page paint and take input between slices.
            yield_now().await;
        }
        // A model changed meanwhile makes the slices a mix of two models: nothing is kept.
        complete &= state.slice_work.with_value(|w| w.generation) == generation;
        if complete {
            let labels = Arc::new(segmenter.finish());
            state.volume_labels.update_value(|m| {
                m.insert((shown.item, shown.frame), Arc::clone(&labels));
            });
            // Per-plane masks of the run give way to the label map, in every plane.
            state.slice_masks.update(|m| {
                m.retain(|k, _| (k.item, k.frame) != (shown.item, shown.frame));
            });
            let count = volume.slicing(shown.plane).count();
            for index in 0..count {
                show_from_labels(state, &volume, &labels, SliceKey { index, ..shown });
            }
            if export {
                let labels = edit::over_volume(state, shown.item, shown.frame, labels);
                let result = save_labels(&item.name, &labels);
                state
                    .notice
                    .set(result.err().map(|e| format!("export failed: {e}")));
            }
        }
        state.volume_job.update(|job| {
            if let Some(job) = job {
                job.running = false;
            }
        });
    });
}

/// Stops "segment all" before its next slice.
pub fn cancel_all(state: AppState) {
    state.slice_work.update_value(|w| w.cancel = true);
}

/// Saves `STEM.mask.nii.gz`: the label map on the input's grid.
fn save_labels(name: &str, labels: &LabelVolume) -> Result<(), String> {
    let bytes = labels.encode_nifti_gz();
    web::download::save(
        &format!("{}.mask.nii.gz", file_stem(name)),
        &bytes,
        "application/gzip",
    )
}
