//! The editing tools' settings and the stroke in progress: the part of editing that the app's
//! state holds (see `edit` for what the tools do).

use std::sync::Arc;

use unet_imaging::{Slicing, Volume};

use crate::slice_key::SliceKey;

/// What a press on the image does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tool {
    /// Drag pans (no editing).
    #[default]
    Pan,
    /// Paints the chosen class.
    Brush,
    /// Paints background.
    Eraser,
    /// Fills the connected region under the pointer with the chosen class.
    Fill,
}

impl Tool {
    /// The name used in `data-testid="tool-NAME"` and `data-tool`.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Pan => "pan",
            Tool::Brush => "brush",
            Tool::Eraser => "eraser",
            Tool::Fill => "fill",
        }
    }
}

/// The tool, the brush's radius in image pixels and the class it paints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EditSettings {
    /// The active tool.
    pub tool: Tool,
    /// Brush and eraser radius, image pixels.
    pub radius: f64,
    /// Class painted by the brush and the fill (1 for a one-class model).
    pub class: u8,
}

impl Default for EditSettings {
    fn default() -> Self {
        Self {
            tool: Tool::Pan,
            radius: 4.0,
            class: 1,
        }
    }
}

/// A brush or eraser stroke in progress.
#[derive(Debug, Clone)]
pub struct Stroke {
    pub(crate) target: Target,
    /// The slice's values before the stroke, for its undo patch.
    pub(crate) before: Vec<u8>,
    /// The last pointer position, image pixels.
    pub(crate) last: (f64, f64),
    pub(crate) value: u8,
}

/// Where edits of the slice shown go.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Image {
        item: u64,
        width: usize,
        height: usize,
    },
    Slice {
        key: SliceKey,
        volume: Arc<Volume>,
        slicing: Slicing,
    },
}
