//! One image through the model: decode, then [`unet::segment`]'s steps (the model input, the
//! network, the checks, the mask), the very function `unet predict` calls, so the browser's mask
//! equals the CLI's.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use unet::segment::segment_pausing;
use unet::{Logits, ModelCard, Runner, SegmentError};
use unet_imaging::{decode_image, Image, Mask, Normalization};

use crate::platform::{now_ms, yield_now};

/// Wall-clock cost of one image, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Decoding the file.
    pub decode_ms: f64,
    /// Building the model input, running the network, reading the logits back, taking the mask.
    pub inference_ms: f64,
    /// Decoding plus inference.
    pub total_ms: f64,
}

/// An image and its predicted mask.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    /// The decoded image, kept for display and overlays: the item's own copy, shared.
    pub image: Arc<Image>,
    /// Class index per pixel, at the image's resolution.
    pub mask: Mask,
    /// Conversions applied to the input (e.g. RGB → grey), for the user.
    pub notes: Vec<String>,
    /// The raw logits, when asked for (a volume slice whose planes are fused).
    pub logits: Option<Logits>,
    /// Where the time went.
    pub timings: Timings,
}

/// A decoded image and how to scale it, ready for any device.
#[derive(Debug, Clone)]
pub struct Prepared {
    image: Arc<Image>,
    scaling: Option<Normalization>,
    decode_ms: f64,
    keep_logits: bool,
}

impl Prepared {
    /// An image decoded earlier (at intake, or cut from a volume), scaled by `scaling` instead
    /// of the card's rule when given (a volume slice, by its volume's statistics).
    pub fn new(image: Arc<Image>, scaling: Option<Normalization>, keep_logits: bool) -> Self {
        Self {
            image,
            scaling,
            decode_ms: 0.0,
            keep_logits,
        }
    }

    /// Decodes an image file.
    pub fn decode(bytes: &[u8]) -> Result<Self, SegmentError> {
        let start = now_ms();
        let image = decode_image(bytes)?;
        Ok(Self {
            decode_ms: now_ms() - start,
            ..Self::new(Arc::new(image), None, false)
        })
    }

    /// Rows and columns of the model input.
    pub fn size(&self) -> (usize, usize) {
        (self.image.height as usize, self.image.width as usize)
    }
}

/// Segments a prepared image with `runner`, pausing between blocks so the page stays live.
pub async fn infer(
    card: &ModelCard,
    runner: &Runner,
    prepared: Prepared,
) -> Result<Segmentation, SegmentError> {
    let Prepared {
        image,
        scaling,
        decode_ms,
        keep_logits,
    } = prepared;
    let start = now_ms();
    let out = segment_pausing(card, runner, &image, scaling.as_ref(), yield_now).await?;
    let inference_ms = now_ms() - start;
    Ok(Segmentation {
        image,
        mask: out.mask,
        notes: out.notes,
        logits: keep_logits.then_some(out.logits),
        timings: Timings {
            decode_ms,
            inference_ms,
            total_ms: decode_ms + inference_ms,
        },
    })
}
