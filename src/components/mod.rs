//! The page's parts, one feature per file. Each reads the shared [`crate::state::AppState`]
//! from context; none talks to the engine except through [`crate::batch`] and
//! [`crate::models`].

mod controls;
mod drop_zone;
mod edit_tools;
mod export;
mod file_list;
mod item_info;
mod legend;
mod model_picker;
mod plane_views;
mod samples;
mod stats;
mod status;
mod thumbnail;
mod viewer;
mod volume_controls;
mod window_controls;

pub use controls::Controls;
pub use drop_zone::{DropOverlay, DropZone};
pub use edit_tools::EditTools;
pub use export::ExportButtons;
pub use file_list::FileList;
pub use item_info::ItemInfo;
pub use legend::Legend;
pub use model_picker::ModelPicker;
pub use plane_views::PlaneViews;
pub use samples::Samples;
pub use stats::StatsTable;
pub use status::{BackendBadge, OfflineNote, Status};
pub use viewer::Viewer;
pub use volume_controls::VolumeControls;
pub use window_controls::WindowControls;
