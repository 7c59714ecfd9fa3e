//! The image queue: items are segmented one after another by a single loop that returns to the
//! event loop between items, so the page stays usable and the cancel button works.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use unet_imaging::{decode_file, decode_files, is_dicom, Decoded, FileInfo, ImagingError, Window};

use crate::platform::yield_now;
use crate::state::{AppState, Content, Item, ItemState};
use crate::volume;

/// Decodes files (DICOM files grouped into series), adds them as queued items (a file that
/// cannot be decoded, or would take the page past [`crate::limits::MAX_HELD_BYTES`], as a failed one with its
/// message), selects the first new one and makes sure the loop runs.
pub fn add(state: AppState, files: Vec<(String, Vec<u8>)>) {
    add_with_refusals(state, files, Vec::new());
}

/// As [`add`], plus `refused` files, `(name, message)`, that were never read.
pub fn add_with_refusals(
    state: AppState,
    files: Vec<(String, Vec<u8>)>,
    refused: Vec<(String, String)>,
) {
    if files.is_empty() && refused.is_empty() {
        return;
    }
    let mut held = state
        .items
        .with_untracked(|items| items.iter().map(|i| i.content.bytes()).sum::<u64>());
    let mut new_items: Vec<Item> = Vec::new();
    for (name, decoded) in decode_all(files) {
        let decoded = decoded.map_err(|e| e.to_string()).and_then(|d| {
            let adding = match &d.content {
                unet_imaging::Content::Image(image) => image.bytes(),
                unet_imaging::Content::Volume(volume) => volume.bytes(),
            };
            crate::limits::over_budget(held, adding).map_or(Ok(d), Err)
        });
        let item = item(state.fresh_id(), name, decoded);
        held += item.content.bytes();
        new_items.push(item);
    }
    for (name, message) in refused {
        new_items.push(item(state.fresh_id(), name, Err(message)));
    }
    let queued = new_items
        .iter()
        .filter(|i| i.state == ItemState::Queued)
        .count();
    let first = new_items[0].id;
    state.items.update(|items| items.extend(new_items));
    state.selected.set(Some(first));
    if state.batch_running.get_untracked() {
        state.progress.update(|(_, total)| *total += queued);
    }
    start(state);
}

/// Every file decoded, in order; DICOM files go through [`decode_files`] together so a series
/// becomes one volume. A result keeps its file's name (folders dropped), a series its folder's.
fn decode_all(files: Vec<(String, Vec<u8>)>) -> Vec<(String, Result<Decoded, ImagingError>)> {
    let base = |name: &str| name.rsplit(['/', '\\']).next().unwrap_or(name).to_string();
    let (dicoms, others): (Vec<_>, Vec<_>) = files.into_iter().partition(|(_, b)| is_dicom(b));
    let mut out: Vec<_> = others
        .into_iter()
        .map(|(name, bytes)| (base(&name), decode_file(&bytes)))
        .collect();
    for group in decode_files(dicoms) {
        // A lone file keeps its whole name (`CT_small.dcm`), as other items do.
        let name = group.single_source().map(base).unwrap_or(group.name);
        out.push((name, group.result));
    }
    out
}

fn item(id: u64, name: String, decoded: Result<Decoded, String>) -> Item {
    let (content, info, state) = match decoded {
        Ok(Decoded { content, info }) => {
            let content = match content {
                unet_imaging::Content::Image(image) => Content::Image(Arc::new(image)),
                unet_imaging::Content::Volume(volume) => Content::Volume(Arc::new(volume)),
            };
            (content, info, ItemState::Queued)
        }
        Err(message) => (
            Content::Nothing,
            FileInfo::default(),
            ItemState::Failed(message),
        ),
    };
    let full_range = match &content {
        Content::Image(image) if image.channel_count() == 1 => Window::full_range(&image.pixels),
        Content::Volume(volume) => Window::full_range(&volume.data),
        _ => Window::new(127.5, 255.0),
    };
    Item {
        id,
        name,
        content,
        info: Arc::new(info),
        full_range,
        state,
    }
}

/// Queues every item again (after a model change: old masks belong to the old model).
pub fn rerun_all(state: AppState) {
    volume::forget_masks(state);
    state.items.update(|items| {
        for item in items.iter_mut() {
            if item.content != Content::Nothing {
                item.state = ItemState::Queued;
            }
        }
    });
    if state.batch_running.get_untracked() {
        let queued = queued_count(state);
        state
            .progress
            .update(|(done, total)| *total = *done + queued + 1);
    }
    start(state);
}

/// Cancels the items still waiting; the one on the device now finishes (a GPU submission
/// cannot be recalled) and keeps its result.
pub fn cancel(state: AppState) {
    state.items.update(|items| {
        for item in items.iter_mut().filter(|i| i.state == ItemState::Queued) {
            item.state = ItemState::Cancelled;
        }
    });
    let running = state.items.with_untracked(|items| {
        items
            .iter()
            .filter(|i| i.state == ItemState::Running)
            .count()
    });
    state
        .progress
        .update(|(done, total)| *total = (*total).min(*done + running));
}

/// Re-queues one item (a cancelled or failed one) and makes sure the loop runs.
pub fn retry(state: AppState, id: u64) {
    if state.items.with_untracked(|items| {
        items
            .iter()
            .any(|i| i.id == id && i.content == Content::Nothing)
    }) {
        return; // Undecodable: running it again cannot help.
    }
    state.set_item_state(id, ItemState::Queued);
    if state.batch_running.get_untracked() {
        state.progress.update(|(_, total)| *total += 1);
    }
    start(state);
}

fn queued_count(state: AppState) -> usize {
    state.items.with_untracked(|items| {
        items
            .iter()
            .filter(|i| i.state == ItemState::Queued)
            .count()
    })
}

/// Starts the loop unless it runs already or there is no model yet (model loading calls
/// [`rerun_all`] when it is done).
pub fn start(state: AppState) {
    if state.batch_running.get_untracked() || state.ready_model_untracked().is_none() {
        return;
    }
    let Some(engine) = state.engine.get_untracked() else {
        return;
    };
    let pending = queued_count(state);
    if pending == 0 {
        return;
    }
    state.progress.set((0, pending));
    state.batch_running.set(true);
    spawn_local(async move {
        loop {
            let next = state.items.with_untracked(|items| {
                items.iter().find(|i| i.state == ItemState::Queued).cloned()
            });
            let Some(item) = next else {
                break;
            };
            let id = item.id;
            state.set_item_state(id, ItemState::Running);
            // Let the list repaint "running" before the device gets busy.
            yield_now().await;
            let outcome = match &item.content {
                Content::Image(image) => {
                    match engine.segment_image(Arc::clone(image), None, false).await {
                        Ok(result) => ItemState::Done(result),
                        Err(message) => ItemState::Failed(message),
                    }
                }
                // A volume is done once the slice it opens on is segmented; the viewer does
                // the others as they are shown.
                Content::Volume(_) => match volume::segment_first(state, &engine, &item).await {
                    Ok(result) => ItemState::Done(result),
                    Err(message) => ItemState::Failed(message),
                },
                Content::Nothing => ItemState::Failed("the file could not be read".into()),
            };
            state.set_item_state(id, outcome);
            state.progress.update(|(done, _)| *done += 1);
            yield_now().await;
        }
        state.batch_running.set(false);
    });
}
