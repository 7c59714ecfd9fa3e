//! The image queue: items are segmented one after another by a single loop that returns to the
//! event loop between items, so the page stays usable and the cancel button works.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::engine::{Request, Response};
use crate::platform::yield_now;
use crate::state::{AppState, Item, ItemState};

/// Adds files as queued items, selects the first new one and makes sure the loop runs.
pub fn add(state: AppState, files: Vec<(String, Vec<u8>)>) {
    if files.is_empty() {
        return;
    }
    let count = files.len();
    let new_items: Vec<Item> = files
        .into_iter()
        .map(|(name, bytes)| Item {
            id: state.fresh_id(),
            name,
            bytes: Arc::new(bytes),
            state: ItemState::Queued,
        })
        .collect();
    let first = new_items[0].id;
    state.items.update(|items| items.extend(new_items));
    state.selected.set(Some(first));
    if state.batch_running.get_untracked() {
        state.progress.update(|(_, total)| *total += count);
    }
    start(state);
}

/// Queues every item again (after a model change: old masks belong to the old model).
pub fn rerun_all(state: AppState) {
    state.items.update(|items| {
        for item in items.iter_mut() {
            item.state = ItemState::Queued;
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
                items
                    .iter()
                    .find(|i| i.state == ItemState::Queued)
                    .map(|i| (i.id, Arc::clone(&i.bytes)))
            });
            let Some((id, bytes)) = next else {
                break;
            };
            state.set_item_state(id, ItemState::Running);
            // Let the list repaint "running" before the device gets busy.
            yield_now().await;
            let outcome = match engine.call(Request::Segment { bytes }).await {
                Response::Segmented(Ok(result)) => ItemState::Done(result),
                Response::Segmented(Err(message)) => ItemState::Failed(message),
                Response::ModelLoaded(_) => ItemState::Failed("internal: wrong reply".into()),
            };
            state.set_item_state(id, outcome);
            state.progress.update(|(done, _)| *done += 1);
            yield_now().await;
        }
        state.batch_running.set(false);
    });
}
