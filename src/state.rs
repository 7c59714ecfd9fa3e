//! The UI's state: plain signals in one `Copy` struct handed down through context.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use leptos::prelude::*;
use unet_imaging::{FileInfo, Image, LabelVolume, Mask, Normalization, Plane, Volume, Window};

use crate::engine::{BackendInfo, EngineHandle, ModelInfo, Segmentation};
use crate::history::History;
use crate::manifest::{ModelEntry, SampleEntry};
pub use crate::slice_key::SliceKey;
use crate::stroke::{EditSettings, Stroke};

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

/// What a file decoded to at intake.
#[derive(Debug, Clone)]
pub enum Content {
    /// Nothing: the file could not be decoded (its state says why).
    Nothing,
    /// A 2-D image (a picture or a single-frame DICOM).
    Image(Arc<Image>),
    /// A volume (NIfTI, multi-frame DICOM, DICOM series), segmented slice by slice.
    Volume(Arc<Volume>),
}

impl Content {
    /// Bytes its decoded samples take (32-bit floats).
    pub fn bytes(&self) -> u64 {
        match self {
            Content::Nothing => 0,
            Content::Image(image) => image.bytes(),
            Content::Volume(volume) => volume.bytes(),
        }
    }
}

impl PartialEq for Content {
    /// By identity: comparing voxels by value would cost a pass over the volume.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Content::Nothing, Content::Nothing) => true,
            (Content::Image(a), Content::Image(b)) => Arc::ptr_eq(a, b),
            (Content::Volume(a), Content::Volume(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// One dropped, picked, pasted or sample file (or DICOM series).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Stable id (list key, selection).
    pub id: u64,
    /// The file name (for a series: its folder's name).
    pub name: String,
    /// The decoded pixels, kept to re-run after a model change.
    pub content: Content,
    /// What the file said about itself.
    pub info: Arc<FileInfo>,
    /// The window spanning every value (the display default when the file brings none).
    pub full_range: Window,
    /// Progress and result (for a volume: of the first slice shown).
    pub state: ItemState,
}

impl Item {
    /// The volume, for a volume item.
    pub fn volume(&self) -> Option<&Arc<Volume>> {
        match &self.content {
            Content::Volume(volume) => Some(volume),
            _ => None,
        }
    }

    /// Whether the display window applies (volumes and grey DICOM images; a PNG shows as is).
    pub fn windowed(&self) -> bool {
        match &self.content {
            Content::Volume(_) => true,
            Content::Image(image) => {
                self.info.format == "DICOM" && image.channels == unet_imaging::Channels::Gray
            }
            Content::Nothing => false,
        }
    }
}

/// A running "segment all slices" (and maybe export) of one volume.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolumeJob {
    /// The item.
    pub item: u64,
    /// Slices finished.
    pub done: usize,
    /// Slices in the plane.
    pub total: usize,
    /// False once finished or cancelled (the last count stays on screen).
    pub running: bool,
}

/// Bookkeeping of the volume tasks (not shown, so not a signal).
#[derive(Debug, Clone, Default)]
pub struct SliceWork {
    /// The slices the viewers want next, newest last: the newest goes first, and only the last
    /// [`SliceWork::WANTED`] are kept (one per pane of the three-plane view), so scrolling fast
    /// segments only where the user stops.
    pub wanted: Vec<SliceKey>,
    /// Whether the task segmenting shown slices runs.
    pub busy: bool,
    /// Set by the cancel button; the "segment all" loop stops at the next slice.
    pub cancel: bool,
    /// Bumped when the model changes: masks started before belong to the old model.
    pub generation: u64,
}

/// The display window chosen for one item.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowChoice {
    /// The item it belongs to.
    pub item: u64,
    /// "file", "full range", a preset name, or "custom" after editing.
    pub preset: String,
    /// The window itself.
    pub window: Window,
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
    /// The slice shown, for the volume item it names.
    pub slice: RwSignal<Option<SliceKey>>,
    /// Masks of volume slices segmented so far.
    pub slice_masks: RwSignal<HashMap<SliceKey, Arc<Mask>>>,
    /// The "segment all" run in progress, if any.
    pub volume_job: RwSignal<Option<VolumeJob>>,
    /// Finished label maps of whole volumes (fused, post-processed), by (item, frame): what
    /// the export saves and what the viewer shows once "segment all" has run.
    pub volume_labels: StoredValue<HashMap<(u64, usize), Arc<LabelVolume>>>,
    /// Each volume frame's scaling (the card's rule over the whole frame), by (item, frame).
    pub volume_scaling: StoredValue<HashMap<(u64, usize), Normalization>>,
    /// The display window, for the item it names.
    pub window: RwSignal<Option<WindowChoice>>,
    /// The volume tasks' bookkeeping.
    pub slice_work: StoredValue<SliceWork>,
    /// The editing tool, brush radius and class.
    pub edit: RwSignal<EditSettings>,
    /// Undo and redo of mask edits.
    pub history: StoredValue<History>,
    /// Hand edits of volume frames, by (item, frame): one byte a voxel, [`crate::edit::UNEDITED`]
    /// where the model's label stands.
    pub volume_edits: StoredValue<HashMap<(u64, usize), Vec<u8>>>,
    /// Bumped by every edit, undo and redo: what shows, measures or exports edits tracks it.
    pub edits: RwSignal<u64>,
    /// 2-D items whose mask was edited by hand.
    pub edited_items: RwSignal<HashSet<u64>>,
    /// The brush or eraser stroke in progress.
    pub stroke: StoredValue<Option<Stroke>>,
    /// Whether volumes also show in three planes side by side.
    pub three_planes: RwSignal<bool>,
    /// The three-plane view's crosshair: (item, linear voxel index).
    pub crosshair: RwSignal<Option<(u64, usize)>>,
    /// Whether the app is stored for offline use.
    pub offline: RwSignal<Offline>,
    next_id: StoredValue<u64>,
}

/// The app's offline copy (the service worker's store).
#[derive(Debug, Clone, PartialEq)]
pub enum Offline {
    /// Not asked for yet: it is made once the first model works.
    NotYet,
    /// The service worker is storing the app's files.
    Storing,
    /// Every file is stored: the page works without the network.
    Kept,
    /// It cannot be made here, and why.
    Unavailable(String),
}

impl SliceWork {
    /// Slices kept waiting: the three panes of the three-plane view.
    pub const WANTED: usize = 3;

    /// Asks for `key`, newest; drops the oldest beyond [`SliceWork::WANTED`].
    pub fn want(&mut self, key: SliceKey) {
        self.wanted.retain(|k| *k != key);
        self.wanted.push(key);
        if self.wanted.len() > Self::WANTED {
            self.wanted.remove(0);
        }
    }
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
            slice: RwSignal::new(None),
            slice_masks: RwSignal::new(HashMap::new()),
            volume_job: RwSignal::new(None),
            volume_labels: StoredValue::new(HashMap::new()),
            volume_scaling: StoredValue::new(HashMap::new()),
            window: RwSignal::new(None),
            slice_work: StoredValue::new(SliceWork::default()),
            edit: RwSignal::new(EditSettings::default()),
            history: StoredValue::new(History::default()),
            volume_edits: StoredValue::new(HashMap::new()),
            edits: RwSignal::new(0),
            edited_items: RwSignal::new(HashSet::new()),
            stroke: StoredValue::new(None),
            three_planes: RwSignal::new(false),
            crosshair: RwSignal::new(None),
            offline: RwSignal::new(Offline::NotYet),
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

    /// The loaded model's classes with their indices (0 is background); none while loading.
    pub fn classes(&self) -> Vec<(usize, unet::ClassInfo)> {
        self.ready_model()
            .map(|m| m.card.classes.clone())
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .collect()
    }

    /// The slice shown for `item` (a volume): the one chosen, else the default: the model
    /// card's plane (else axial), its middle slice, frame 0.
    pub fn slice_for(&self, item: &Item) -> Option<SliceKey> {
        let volume = item.volume()?;
        if let Some(key) = self.slice.get().filter(|k| k.item == item.id) {
            return Some(key);
        }
        let plane = self
            .ready_model()
            .map(|m| m.card.display_plane())
            .unwrap_or(Plane::Axial);
        Some(SliceKey {
            item: item.id,
            frame: 0,
            plane,
            index: volume.slicing(plane).count() / 2,
        })
    }

    /// The display window of `item`: the one chosen, else the file's own, else its full range.
    pub fn window_for(&self, item: &Item) -> WindowChoice {
        if let Some(choice) = self.window.get().filter(|w| w.item == item.id) {
            return choice;
        }
        match item.info.window {
            Some(window) => WindowChoice {
                item: item.id,
                preset: "file".into(),
                window,
            },
            None => WindowChoice {
                item: item.id,
                preset: "full range".into(),
                window: item.full_range,
            },
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
