//! The requests the page's [`EngineHandle`](super::EngineHandle) queues for the engine: run on
//! this thread by the actor, or forwarded to the worker. A module of their own so that neither
//! consumer depends on the other.

use std::sync::Arc;

use futures::channel::oneshot;
use unet_imaging::{Image, Normalization};

use super::{ModelInfo, Segmentation};

/// What the UI asks of the engine.
pub(super) enum Request {
    LoadModel {
        source: String,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<Arc<ModelInfo>, String>>,
    },
    SegmentImage {
        image: Arc<Image>,
        scaling: Option<Normalization>,
        keep_logits: bool,
        reply: oneshot::Sender<Result<Arc<Segmentation>, String>>,
    },
}
