//! The UI's state: plain signals in one `Copy` struct handed down through context.

use std::sync::Arc;

use leptos::prelude::*;

use crate::engine::{BackendInfo, EngineHandle, ModelInfo, Segmentation};
use crate::manifest::{ModelEntry, SampleEntry};

/// Where an item is in its life.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemState {
    /// Waiting for its turn.
    Queued,
    /// Being segmented now.
    Running,
    /// Mask ready.
    Done(Arc<Segmentation>),
    /// Could not be segmented; the message says why.
    Failed(String),
    /// The user cancelled the batch before its turn.
    Cancelled,
}

impl ItemState {
    /// Short word for the item's `data-state` attribute and its badge.
    pub fn word(&self) -> &'static str {
        match self {
            ItemState::Queued => "queued",
            ItemState::Running => "running",
            ItemState::Done(_) => "done",
            ItemState::Failed(_) => "error",
            ItemState::Cancelled => "cancelled",
        }
    }
}

/// One dropped, picked, pasted or sample file.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Stable id (list key, selection).
    pub id: u64,
    /// The file name.
    pub name: String,
    /// The file's bytes, kept to re-run after a model change.
    pub bytes: Arc<Vec<u8>>,
    /// Progress and result.
    pub state: ItemState,
}

/// The model's state.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelStatus {
    /// Fetching or building `name`; `progress` is 0–1 while downloading, when known.
    Loading {
        /// What is loading.
        name: String,
        /// Fraction downloaded.
        progress: Option<f64>,
    },
    /// Ready and warmed up.
    Ready(Arc<ModelInfo>),
    /// Could not load; the message says why.
    Failed(String),
}

/// How the mask is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewSettings {
    /// Whether the mask is drawn at all.
    pub show_mask: bool,
    /// Weight of the class colour, 0–1.
    pub opacity: f32,
    /// Outlines instead of filled regions.
    pub outline: bool,
}

impl Default for ViewSettings {
    fn default() -> Self {
        Self {
            show_mask: true,
            opacity: 0.5,
            outline: false,
        }
    }
}

/// Every signal the components share.
#[derive(Clone, Copy)]
pub struct AppState {
    /// The files, in the order they arrived.
    pub items: RwSignal<Vec<Item>>,
    /// The item shown in the viewer.
    pub selected: RwSignal<Option<u64>>,
    /// The current model.
    pub model: RwSignal<ModelStatus>,
    /// The backend, once known.
    pub backend: RwSignal<Option<BackendInfo>>,
    /// The engine, once started.
    pub engine: RwSignal<Option<EngineHandle>>,
    /// How the mask is drawn.
    pub view: RwSignal<ViewSettings>,
    /// Whether the batch loop is running (at most one at a time).
    pub batch_running: RwSignal<bool>,
    /// Items finished and items in the current batch, for the progress bar.
    pub progress: RwSignal<(usize, usize)>,
    /// A message about something that is not one item's fault (e.g. a failed export).
    pub notice: RwSignal<Option<String>>,
    /// The bundled models (from the manifest).
    pub models: RwSignal<Vec<ModelEntry>>,
    /// The manifest id of the loaded (or loading) model; `None` for the user's own file.
    pub model_id: RwSignal<Option<String>>,
    /// Why the last model the user chose could not be loaded (the previous one stays).
    pub model_error: RwSignal<Option<String>>,
    /// The bundled sample images (from the manifest).
    pub samples: RwSignal<Vec<SampleEntry>>,
    next_id: StoredValue<u64>,
}

impl AppState {
    /// Fresh state: nothing loaded.
    pub fn new() -> Self {
        Self {
            items: RwSignal::new(Vec::new()),
            selected: RwSignal::new(None),
            // An empty name means "starting up" (backend and model list not known yet).
            model: RwSignal::new(ModelStatus::Loading {
                name: String::new(),
                progress: None,
            }),
            backend: RwSignal::new(None),
            engine: RwSignal::new(None),
            view: RwSignal::new(ViewSettings::default()),
            batch_running: RwSignal::new(false),
            progress: RwSignal::new((0, 0)),
            notice: RwSignal::new(None),
            models: RwSignal::new(Vec::new()),
            model_id: RwSignal::new(None),
            model_error: RwSignal::new(None),
            samples: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(1),
        }
    }

    /// A new item id.
    pub fn fresh_id(&self) -> u64 {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        id
    }

    /// The selected item, if any (tracks the signals it reads).
    pub fn selected_item(&self) -> Option<Item> {
        let id = self.selected.get()?;
        self.items
            .with(|items| items.iter().find(|i| i.id == id).cloned())
    }

    /// The selected item without tracking (for event handlers).
    pub fn selected_item_untracked(&self) -> Option<Item> {
        let id = self.selected.get_untracked()?;
        self.items
            .with_untracked(|items| items.iter().find(|i| i.id == id).cloned())
    }

    /// The ready model, if any.
    pub fn ready_model(&self) -> Option<Arc<ModelInfo>> {
        match self.model.get() {
            ModelStatus::Ready(info) => Some(info),
            _ => None,
        }
    }

    /// The ready model, if any, without tracking (for event handlers and tasks).
    pub fn ready_model_untracked(&self) -> Option<Arc<ModelInfo>> {
        match self.model.get_untracked() {
            ModelStatus::Ready(info) => Some(info),
            _ => None,
        }
    }

    /// Sets the state of item `id`.
    pub fn set_item_state(&self, id: u64, state: ItemState) {
        self.items.update(|items| {
            if let Some(item) = items.iter_mut().find(|i| i.id == id) {
                item.state = state;
            }
        });
    }

    /// The page-level state word for `[data-testid=status]`'s `data-state`.
    pub fn status_word(&self) -> &'static str {
        match self.model.get() {
            ModelStatus::Loading { .. } => return "loading",
            ModelStatus::Failed(_) => return "error",
            ModelStatus::Ready(_) => {}
        }
        if self.batch_running.get() {
            return "running";
        }
        match self.selected_item().map(|i| i.state) {
            Some(ItemState::Done(_)) => "done",
            Some(ItemState::Failed(_)) => "error",
            Some(ItemState::Running | ItemState::Queued) => "running",
            _ => "idle",
        }
    }
}

impl Default for AppState {
    fn default() -> Self {
        Self::new()
    }
}

/// The shared state from context (provided by the app root).
pub fn use_state() -> AppState {
    expect_context::<AppState>()
}
