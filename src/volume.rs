//! Volumes in the app: slices are cut on demand ([`unet_imaging::slice_image`], the same cut
//! as `unet predict`), segmented by the same engine as 2-D images and cached per
//! (frame, plane, slice), so scrolling back is instant. "Segment all" walks one plane with
//! progress, returning to the event loop between slices; the export puts the slice masks back
//! on the input's voxel grid ([`unet_imaging::LabelVolume`]).

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use unet_imaging::{file_stem, slice_image, LabelVolume, Plane, Volume};

use crate::engine::{EngineHandle, Request, Response, Segmentation};
use crate::platform::yield_now;
use crate::state::{AppState, Item, SliceKey, VolumeJob};
use crate::web;

/// Drops every cached slice mask (the model changed).
pub fn forget_masks(state: AppState) {
    state.slice_work.update_value(|w| {
        w.generation += 1;
        w.wanted = None;
    });
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
    segment_slice(state, engine, volume, key).await
}

/// One slice through the engine; its mask goes into the cache unless the model changed meanwhile.
async fn segment_slice(
    state: AppState,
    engine: &EngineHandle,
    volume: &Volume,
    key: SliceKey,
) -> Result<Arc<Segmentation>, String> {
    let slicing = volume.slicing(key.plane);
    let image = slice_image(volume, key.frame, &slicing, key.index);
    let generation = state.slice_work.with_value(|w| w.generation);
    let request = Request::SegmentImage {
        image: Arc::new(image),
    };
    match engine.call(request).await {
        Response::Segmented(Ok(result)) => {
            if state.slice_work.with_value(|w| w.generation) == generation {
                let mask = Arc::new(result.mask.clone());
                state.slice_masks.update(|m| {
                    m.insert(key, mask);
                });
            }
            Ok(result)
        }
        Response::Segmented(Err(message)) => Err(format!(
            "{} slice {}: {message}",
            key.plane.name(),
            key.index + 1
        )),
        Response::ModelLoaded(_) => Err("internal: wrong reply".into()),
    }
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

/// Makes sure the slice on screen gets its mask: queued behind the slice being segmented now,
/// replacing any slice asked for earlier and not started (scrolling fast segments only where
/// the user stops).
pub fn show(state: AppState, key: SliceKey) {
    if cached(state, &key) || state.ready_model_untracked().is_none() {
        return;
    }
    let Some(engine) = state.engine.get_untracked() else {
        return;
    };
    let start = state.slice_work.try_update_value(|w| {
        w.wanted = Some(key);
        !std::mem::replace(&mut w.busy, true)
    });
    if start != Some(true) {
        return;
    }
    spawn_local(async move {
        loop {
            let next = state.slice_work.try_update_value(|w| w.wanted.take());
            let Some(key) = next.flatten() else {
                break;
            };
            if cached(state, &key) {
                continue;
            }
            let Some(volume) = volume_of(state, key.item) else {
                continue;
            };
            if let Err(message) = segment_slice(state, &engine, &volume, key).await {
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

/// Segments every slice of the selected volume's plane and frame, then, with `export`, saves
/// the label map. One run at a time; [`cancel_all`] stops it between slices.
pub fn segment_all(state: AppState, export: bool) {
    let running = state.volume_job.get_untracked().is_some_and(|j| j.running);
    if running || state.ready_model_untracked().is_none() {
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
    let total = volume.slicing(shown.plane).count();
    let key = move |index| SliceKey { index, ..shown };
    state.slice_work.update_value(|w| w.cancel = false);
    state.volume_job.set(Some(VolumeJob {
        item: item.id,
        done: 0,
        total,
        running: true,
    }));
    spawn_local(async move {
        let mut complete = true;
        for index in 0..total {
            if state.slice_work.with_value(|w| w.cancel) {
                complete = false;
                break;
            }
            if !cached(state, &key(index)) {
                if let Err(message) = segment_slice(state, &engine, &volume, key(index)).await {
                    state.notice.set(Some(message));
                    complete = false;
                    break;
                }
                // Let the page paint and take input between slices.
                yield_now().await;
            }
            state.volume_job.update(|job| {
                if let Some(job) = job {
                    job.done = index + 1;
                }
            });
        }
        // The model may have changed while the slices ran: only a full current set is saved.
        complete &= (0..total).all(|index| cached(state, &key(index)));
        if export && complete {
            let result = save_labels(state, &item.name, &volume, shown);
            state
                .notice
                .set(result.err().map(|e| format!("export failed: {e}")));
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

/// Saves `STEM.mask.nii.gz`: every slice of `shown`'s plane and frame, on the input's grid.
fn save_labels(
    state: AppState,
    name: &str,
    volume: &Volume,
    shown: SliceKey,
) -> Result<(), String> {
    let slicing = volume.slicing(shown.plane);
    let mut labels = LabelVolume::new(volume);
    state.slice_masks.with_untracked(|masks| {
        for index in 0..slicing.count() {
            let mask = masks
                .get(&SliceKey { index, ..shown })
                .ok_or_else(|| format!("slice {} has no mask", index + 1))?;
            labels.store(&slicing, index, &mask.data);
        }
        Ok::<(), String>(())
    })?;
    let bytes = labels.encode_nifti_gz();
    web::download::save(
        &format!("{}.mask.nii.gz", file_stem(name)),
        &bytes,
        "application/gzip",
    )
}
