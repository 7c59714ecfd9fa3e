//! Inference behind a small typed interface.
//!
//! The UI never touches burn: it asks the [`EngineHandle`] to load a model or segment an image
//! and gets one answer back. In the browser the [`Engine`] runs in a Web Worker (`worker`), so
//! the page's thread only decodes, draws and edits; if the worker cannot start, it runs on the
//! page's thread, yielding between blocks (see [`crate::platform::yield_now`]).

pub mod backend;
pub mod bench;
mod pipeline;
mod threads;
// Only the worker's messages use it; natively it is compiled for its tests.
#[cfg(any(target_arch = "wasm32", test))]
mod wire;

#[cfg(target_arch = "wasm32")]
mod actor;
#[cfg(target_arch = "wasm32")]
mod request;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
pub use actor::{EngineHandle, EngineHome};
pub use backend::{AdapterProbe, BackendInfo, BackendKind};
pub use pipeline::{Segmentation, Timings};
pub use threads::ThreadsInfo;
#[cfg(target_arch = "wasm32")]
pub use worker::serve as serve_in_worker;

use std::sync::Arc;

use burn::tensor::Device;
use pipeline::Prepared;
use serde::{Deserialize, Serialize};
use threads::CpuThreads;
use unet::{Checkpoint, ModelCard, Runner, SegmentError, UNetConfig};
use unet_imaging::{Image, Normalization};

use crate::platform::{now_ms, yield_now};

/// Side of the square zero image used for the warm-up run: big enough to exercise every
/// kernel of the four poolings, small enough to be quick on a software GPU.
const WARMUP_SIDE: usize = 4 * unet::model::MIN_SIDE;

/// A loaded model as the UI shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    runner: Runner,
    // A CPU copy for images too large for the GPU's buffers, built the first time one comes.
    cpu_runner: Option<Runner>,
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

/// The checkpoint's network on `device`: the folded network on `threads` (started the first
/// time) on the CPU, burn's module on any other device.
async fn runner_on(
    threads: &mut CpuThreads,
    checkpoint: &Checkpoint,
    device: &Device,
) -> Result<Runner, String> {
    if *device == unet::inference::cpu_device() {
        threads.start().await;
        threads.runner(checkpoint)
    } else {
        Runner::module(checkpoint, device).map_err(|e| e.to_string())
    }
}

/// Owns the device and the current model; does one thing at a time.
pub struct Engine {
    device: Device,
    backend: BackendInfo,
    threads: CpuThreads,
    model: Option<Loaded>,
}

impl Engine {
    /// An engine on `device`, described by `backend`, with no model yet.
    pub fn new(device: Device, backend: BackendInfo) -> Self {
        Self {
            device,
            backend,
            threads: CpuThreads::default(),
            model: None,
        }
    }

    /// Starts the CPU path's threads if the backend is the CPU (see [`threads`]), so that the
    /// backend says how many there are before the first model.
    pub async fn start_cpu_threads(&mut self) {
        if self.backend.kind == BackendKind::Cpu {
            self.threads.start().await;
            self.backend.threads = self.threads.info();
        }
    }

    async fn runner(&mut self, checkpoint: &Checkpoint, device: &Device) -> Result<Runner, String> {
        let runner = runner_on(&mut self.threads, checkpoint, device).await;
        self.backend.threads = self.threads.info();
        runner
    }

    /// The backend currently in use.
    pub fn backend(&self) -> &BackendInfo {
        &self.backend
    }

    /// Replaces the current model with the checkpoint in `bytes` (`source`, a file name, names
    /// it) once it has run once; on any error the previous model stays.
    pub async fn load_model(
        &mut self,
        source: &str,
        bytes: &[u8],
    ) -> Result<Arc<ModelInfo>, String> {
        self.load(source, bytes).await.map(Arc::new)
    }

    /// Segments one image file with the current model.
    pub async fn segment_file(&mut self, bytes: &[u8]) -> Result<Arc<Segmentation>, String> {
        let prepared = self.model.as_ref().map(|_| Prepared::decode(bytes));
        self.segment(prepared).await.map(Arc::new)
    }

    /// Segments one decoded 2-D image (a picture, a DICOM image or a volume's slice), scaled by
    /// `scaling` instead of the card's rule when given (a volume slice is scaled by the whole
    /// volume's statistics, [`unet_imaging::VolumeSegmenter::scaling`]); with `keep_logits` the
    /// result carries the logits (a volume's planes are fused from them).
    pub async fn segment_image(
        &mut self,
        image: Arc<Image>,
        scaling: Option<Normalization>,
        keep_logits: bool,
    ) -> Result<Arc<Segmentation>, String> {
        let prepared = self
            .model
            .as_ref()
            .map(|_| Ok(Prepared::new(image, scaling, keep_logits)));
        self.segment(prepared).await.map(Arc::new)
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
        let (runner, warmup_ms) = warmup?;
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
            runner,
            cpu_runner: None,
        });
        Ok(info)
    }

    /// Builds the network on the current device and runs it once on zeros; returns it and the
    /// warm-up time.
    async fn build_and_warm(&mut self, checkpoint: &Checkpoint) -> Result<(Runner, f64), String> {
        let device = self.device.clone();
        let runner = self.runner(checkpoint, &device).await?;
        yield_now().await;
        let start = now_ms();
        let c = checkpoint.config.n_channels;
        let zeros = vec![0.0; c * WARMUP_SIDE * WARMUP_SIDE];
        runner
            .logits_pausing(&zeros, c, WARMUP_SIDE, WARMUP_SIDE, yield_now)
            .await
            .map_err(|e| e.to_string())?;
        Ok((runner, now_ms() - start))
    }

    fn fall_back_to_cpu(&mut self, reason: String) {
        self.device = unet::inference::cpu_device();
        self.backend = BackendInfo::cpu(reason);
    }

    /// Runs a prepared input (`None`: there was no model to prepare it for).
    async fn segment(
        &mut self,
        prepared: Option<Result<Prepared, SegmentError>>,
    ) -> Result<Segmentation, String> {
        let (Some(loaded), Some(prepared)) = (&self.model, prepared) else {
            return Err("no model is loaded yet".into());
        };
        let config = loaded.checkpoint.config;
        let prepared = prepared.map_err(|e| e.to_string())?;
        yield_now().await;

        let (height, width) = prepared.size();
        let needed = largest_buffer_bytes(&config, height, width);
        let limit = self.backend.max_buffer_bytes;
        if !loaded.runner.is_cpu() && limit.is_some_and(|max| needed > max) {
            if loaded.cpu_runner.is_none() {
                // Out of `self` while the CPU copy is built (which may start the CPU threads).
                let mut taken = self.model.take().ok_or("no model is loaded yet")?;
                let built = self
                    .runner(&taken.checkpoint, &unet::inference::cpu_device())
                    .await;
                let built = built.map(|runner| taken.cpu_runner = Some(runner));
                self.model = Some(taken);
                built?;
            }
            let loaded = self.model.as_ref().ok_or("no model is loaded yet")?;
            let card = &loaded.checkpoint.card;
            let runner = loaded.cpu_runner.as_ref().ok_or("no CPU model")?;
            let mut result = pipeline::infer(card, runner, prepared)
                .await
                .map_err(|e| e.to_string())?;
            result.notes.push(format!(
                "Too large for this GPU's buffers ({} MB needed, {} MB allowed): segmented on the CPU.",
                needed >> 20,
                limit.unwrap_or(0) >> 20
            ));
            return Ok(result);
        }

        match pipeline::infer(&loaded.checkpoint.card, &loaded.runner, prepared.clone()).await {
            Ok(segmentation) => Ok(segmentation),
            Err(e) if e.is_device() && !loaded.runner.is_cpu() => {
                // A GPU that fails mid-session (lost device, out of memory) should not end the
                // session: rebuild on the CPU and try this image again there.
                let Some(Loaded { checkpoint, .. }) = self.model.take() else {
                    return Err(e.to_string());
                };
                self.fall_back_to_cpu(format!("WebGPU failed during inference ({e})"));
                let (runner, _) = self.build_and_warm(&checkpoint).await?;
                let loaded = self.model.insert(Loaded {
                    checkpoint,
                    runner,
                    cpu_runner: None,
                });
                pipeline::infer(&loaded.checkpoint.card, &loaded.runner, prepared)
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
