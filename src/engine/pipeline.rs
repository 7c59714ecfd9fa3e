//! One image file through the model: decode, preprocess, infer, threshold — the same steps,
//! in the same order, as `unet predict`, so the browser's mask equals the CLI's.

use std::sync::Arc;

use unet::{Logits, ModelCard, UNetConfig};
use unet_imaging::{decode_image, mask_from_logits, to_planes, Image, Mask, Normalization, Planes};

use super::net::Net;
use crate::platform::now_ms;

/// Wall-clock cost of one image, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Timings {
    /// Decoding the file and building the model input.
    pub decode_ms: f64,
    /// Running the network, reading the logits back and taking the mask.
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

/// Why an image could not be segmented.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SegmentError {
    /// The file itself: not an image, corrupt, too large or too small, wrong channels.
    #[error("{0}")]
    Input(String),
    /// The device failed; another backend may succeed.
    #[error("{0}")]
    Device(String),
}

/// A decoded image and its model input, ready for any device.
#[derive(Debug, Clone)]
pub struct Prepared {
    image: Arc<Image>,
    planes: Planes,
    decode_ms: f64,
    keep_logits: bool,
}

impl Prepared {
    /// Whether [`infer`] returns the logits with the mask.
    pub fn keeping_logits(self, keep_logits: bool) -> Self {
        Self {
            keep_logits,
            ..self
        }
    }

    /// Rows and columns of the model input.
    pub fn size(&self) -> (usize, usize) {
        (self.planes.height, self.planes.width)
    }
}

fn input_error(e: &dyn std::fmt::Display) -> SegmentError {
    SegmentError::Input(e.to_string())
}

/// Decodes the file and builds the model input (the CPU part, the same on every backend).
pub fn prepare(
    config: &UNetConfig,
    card: &ModelCard,
    bytes: &[u8],
) -> Result<Prepared, SegmentError> {
    let start = now_ms();
    let image = decode_image(bytes).map_err(|e| input_error(&e))?;
    let mut prepared = prepare_image(config, &card.preprocessing, Arc::new(image))?;
    prepared.decode_ms = now_ms() - start;
    Ok(prepared)
}

/// Builds the model input of an image decoded earlier (at intake, or cut from a volume), scaled
/// by `scaling` (the card's rule, or a volume's).
pub fn prepare_image(
    config: &UNetConfig,
    scaling: &Normalization,
    image: Arc<Image>,
) -> Result<Prepared, SegmentError> {
    let start = now_ms();
    let planes = to_planes(&image, config.n_channels, scaling).map_err(|e| input_error(&e))?;
    Ok(Prepared {
        image,
        planes,
        decode_ms: now_ms() - start,
        keep_logits: false,
    })
}

/// Runs `net` and turns the logits into the mask.
pub async fn infer(net: &Net, prepared: Prepared) -> Result<Segmentation, SegmentError> {
    let Prepared {
        image,
        planes,
        decode_ms,
        keep_logits,
    } = prepared;
    let inference_start = now_ms();
    let logits = logits(net, &planes).await?;
    if !(1..=256).contains(&logits.classes) {
        // Mask values are bytes; such a model cannot be shown or exported as a PNG mask.
        return Err(SegmentError::Input(format!(
            "the model has {} outputs; masks support 1 to 256 classes",
            logits.classes
        )));
    }
    let mask = mask_from_logits(&logits.data, logits.classes, logits.height, logits.width);
    let inference_ms = now_ms() - inference_start;
    Ok(Segmentation {
        image,
        mask,
        notes: planes.notes,
        logits: keep_logits.then_some(logits),
        timings: Timings {
            decode_ms,
            inference_ms,
            total_ms: decode_ms + inference_ms,
        },
    })
}

/// The network's raw output for `planes`, read back asynchronously: the part of [`infer`] that
/// depends on the backend, shared with the benchmark (`super::bench`) so that it times exactly
/// what the app runs.
pub async fn logits(net: &Net, planes: &Planes) -> Result<Logits, SegmentError> {
    net.logits(planes).await.map_err(|e| match e {
        unet::InferenceError::Device(message) => SegmentError::Device(message),
        other => input_error(&other),
    })
}
