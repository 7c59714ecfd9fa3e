//! Inference behind a small message interface.
//!
//! The UI never touches burn: it sends a [`Request`] and gets exactly one [`Response`] back.
//! Today the [`Engine`] runs on the page's thread (yielding between steps, see
//! [`crate::platform::yield_now`]); because only these messages cross the boundary it can move
//! into a web worker without the UI changing.

pub mod backend;
pub mod bench;
mod net;
mod pipeline;

#[cfg(target_arch = "wasm32")]
mod actor;

#[cfg(target_arch = "wasm32")]
pub use actor::EngineHandle;
pub use backend::{AdapterProbe, BackendInfo, BackendKind};
pub use pipeline::{SegmentError, Segmentation, Timings};

use std::sync::Arc;

use burn::tensor::Device;
use net::Net;
use unet::{Checkpoint, ModelCard, UNetConfig};
use unet_imaging::{Image, Normalization};

use crate::platform::{now_ms, yield_now};

/// Side of the square zero image used for the warm-up run: big enough to exercise every
/// kernel of the four poolings, small enough to be quick on a software GPU.
const WARMUP_SIDE: usize = 4 * unet::model::MIN_SIDE;

/// What the UI asks of the engine.
#[derive(Debug, Clone)]
pub enum Request {
    /// Replace the current model with the checkpoint in `bytes`; `source` (a file name) names it.
    LoadModel {
        /// File name or manifest entry, shown in messages.
        source: String,
        /// The checkpoint file.
        bytes: Vec<u8>,
    },
    /// Segment one image file with the current model.
    Segment {
        /// The image file as dropped.
        bytes: Arc<Vec<u8>>,
    },
    /// Segment one decoded 2-D image (a picture, a DICOM image or a volume's slice).
    SegmentImage {
        /// The image, as decoded at intake.
        image: Arc<Image>,
        /// The scaling to use instead of the card's per-image rule: a volume slice is scaled
        /// by the whole volume's statistics ([`unet_imaging::VolumeSegmenter::scaling`]).
        scaling: Option<Normalization>,
        /// Return the logits too (a volume's planes are fused from them).
        keep_logits: bool,
    },
}

/// The engine's answer to one [`Request`].
#[derive(Debug, Clone)]
pub enum Response {
    /// Answer to [`Request::LoadModel`]: the model is ready (and warmed up) or why not.
    ModelLoaded(Result<Arc<ModelInfo>, String>),
    /// Answer to [`Request::Segment`]: the mask or a one-line message for that item.
    Segmented(Result<Arc<Segmentation>, String>),
}

/// A loaded model as the UI shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// Where it came from (file name).
    pub source: String,
    /// The embedded or default model card.
    pub card: ModelCard,
    /// The inferred architecture.
    pub config: UNetConfig,
    /// The container it came in, in words.
    pub format: String,
    /// Learnable parameters.
    pub parameters: usize,
    /// Parsing and building on the device.
    pub load_ms: f64,
    /// The warm-up run (compiles GPU kernels so the first real image is not the slow one).
    pub warmup_ms: f64,
    /// The backend the model ended up on (WebGPU may have fallen back to the CPU).
    pub backend: BackendInfo,
}

struct Loaded {
    // Kept so the model can be rebuilt on the CPU if the GPU fails mid-session.
    checkpoint: Checkpoint,
    net: Net,
    // A CPU copy for images too large for the GPU's buffers, built the first time one comes.
    cpu_net: Option<Net>,
}

/// Bytes of the largest tensor of a forward pass: the full-resolution concatenation before
/// `up4`, 2 × base channels of f32. WebGPU refuses buffers over the adapter's limit, and wgpu
/// treats that as a fatal error, so such images must not reach the GPU.
/// In u64: on wasm32 the product wraps for large images, and a wrapped size would pass the check.
fn largest_buffer_bytes(config: &UNetConfig, height: usize, width: usize) -> u64 {
    [2, config.base_channels, height, width, 4]
        .into_iter()
        .fold(1u64, |bytes, n| bytes.saturating_mul(n as u64))
}

/// Owns the device and the current model; answers [`Request`]s one at a time.
pub struct Engine {
    device: Device,
    backend: BackendInfo,
    model: Option<Loaded>,
}

impl Engine {
    /// An engine on `device`, described by `backend`, with no model yet.
    pub fn new(device: Device, backend: BackendInfo) -> Self {
        Self {
            device,
            backend,
            model: None,
        }
    }

    /// The backend currently in use.
    pub fn backend(&self) -> &BackendInfo {
        &self.backend
    }

    /// Answers one request.
    pub async fn handle(&mut self, request: Request) -> Response {
        match request {
            Request::LoadModel { source, bytes } => {
                Response::ModelLoaded(self.load(&source, &bytes).await.map(Arc::new))
            }
            Request::Segment { bytes } => {
                let prepared = self.model.as_ref().map(|loaded| {
                    pipeline::prepare(&loaded.checkpoint.config, &loaded.checkpoint.card, &bytes)
                });
                Response::Segmented(self.segment(prepared).await.map(Arc::new))
            }
            Request::SegmentImage {
                image,
                scaling,
                keep_logits,
            } => {
                let prepared = self.model.as_ref().map(|loaded| {
                    let card = &loaded.checkpoint.card;
                    let scaling = scaling.as_ref().unwrap_or(&card.preprocessing);
                    pipeline::prepare_image(&loaded.checkpoint.config, scaling, image)
                        .map(|p| p.keeping_logits(keep_logits))
                });
                Response::Segmented(self.segment(prepared).await.map(Arc::new))
            }
        }
    }

    async fn load(&mut self, source: &str, bytes: &[u8]) -> Result<ModelInfo, String> {
        let start = now_ms();
        let checkpoint = Checkpoint::from_bytes(bytes, source).map_err(|e| e.to_string())?;
        // The previous model stays in place until this one has run once: a bad file never
        // leaves the page without a model.
        yield_now().await;
        let mut warmup = self.build_and_warm(&checkpoint).await;
        if let (Err(e), BackendKind::WebGpu) = (&warmup, &self.backend.kind) {
            self.fall_back_to_cpu(format!("WebGPU failed to run the model ({e})"));
            warmup = self.build_and_warm(&checkpoint).await;
        }
        let (net, warmup_ms) = warmup?;
        let info = ModelInfo {
            source: source.to_string(),
            card: checkpoint.card.clone(),
            config: checkpoint.config,
            format: checkpoint.format.to_string(),
            parameters: checkpoint.parameter_count(),
            load_ms: now_ms() - start - warmup_ms,
            warmup_ms,
            backend: self.backend.clone(),
        };
        self.model = Some(Loaded {
            checkpoint,
            net,
            cpu_net: None,
        });
        Ok(info)
    }

    /// Builds the net on the current device and runs it once on zeros; returns it and the
    /// warm-up time.
    async fn build_and_warm(&self, checkpoint: &Checkpoint) -> Result<(Net, f64), String> {
        let net = Net::build(checkpoint, &self.device)?;
        yield_now().await;
        let start = now_ms();
        let c = checkpoint.config.n_channels;
        let zeros = unet_imaging::Planes {
            channels: c,
            height: WARMUP_SIDE,
            width: WARMUP_SIDE,
            data: vec![0.0; c * WARMUP_SIDE * WARMUP_SIDE],
            notes: Vec::new(),
        };
        net.logits(&zeros).await.map_err(|e| e.to_string())?;
        Ok((net, now_ms() - start))
    }

    fn fall_back_to_cpu(&mut self, reason: String) {
        self.device = unet::inference::cpu_device();
        self.backend = BackendInfo::cpu(reason);
    }

    /// Runs a prepared input (`None`: there was no model to prepare it for).
    async fn segment(
        &mut self,
        prepared: Option<Result<pipeline::Prepared, SegmentError>>,
    ) -> Result<Segmentation, String> {
        let (Some(loaded), Some(prepared)) = (&mut self.model, prepared) else {
            return Err("no model is loaded yet".into());
        };
        let config = loaded.checkpoint.config;
        let prepared = prepared.map_err(|e| e.to_string())?;
        yield_now().await;

        let cpu = unet::inference::cpu_device();
        let (height, width) = prepared.size();
        let needed = largest_buffer_bytes(&config, height, width);
        let limit = self.backend.max_buffer_bytes;
        if !loaded.net.is_cpu() && limit.is_some_and(|max| needed > max) {
            if loaded.cpu_net.is_none() {
                loaded.cpu_net = Some(Net::build(&loaded.checkpoint, &cpu)?);
            }
            let net = loaded.cpu_net.as_ref().ok_or("no CPU model")?;
            let mut result = pipeline::infer(net, prepared)
                .await
                .map_err(|e| e.to_string())?;
            result.notes.push(format!(
                "Too large for this GPU's buffers ({} MB needed, {} MB allowed): segmented on the CPU.",
                needed >> 20,
                limit.unwrap_or(0) >> 20
            ));
            return Ok(result);
        }

        match pipeline::infer(&loaded.net, prepared.clone()).await {
            Ok(segmentation) => Ok(segmentation),
            Err(SegmentError::Device(message)) if !loaded.net.is_cpu() => {
                // A GPU that fails mid-session (lost device, out of memory) should not end the
                // session: rebuild on the CPU and try this image again there.
                let Some(Loaded { checkpoint, .. }) = self.model.take() else {
                    return Err(message);
                };
                self.fall_back_to_cpu(format!("WebGPU failed during inference ({message})"));
                let (net, _) = self.build_and_warm(&checkpoint).await?;
                let loaded = self.model.insert(Loaded {
                    checkpoint,
                    net,
                    cpu_net: None,
                });
                pipeline::infer(&loaded.net, prepared)
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_sizes_are_exact_beyond_32_bits() {
        let config = UNetConfig::new(1, 1).with_base_channels(64);
        // 34 GB: past u32 (and past wasm32's usize, where the old product wrapped).
        assert_eq!(
            largest_buffer_bytes(&config, 32768, 32768),
            2 * 64 * 32768 * 32768 * 4
        );
        assert_eq!(largest_buffer_bytes(&config, usize::MAX, 2), u64::MAX);
    }
}
