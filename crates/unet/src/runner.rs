//! A checkpoint's network ready to run, the one the CLI and the page both use: the folded CPU
//! network ([`CpuUNet`]) or burn's module on a device, cut into tiles when an image is large.
//!
//! Everything is async with a `pause` between blocks and tiles, because on a page's only thread
//! the pass must hand control back to the event loop; a native caller passes pauses that are
//! ready at once and gets a plain blocking call ([`Runner::logits`]).

use std::future::Future;

use burn::tensor::Device;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::cpu::CpuUNet;
use crate::inference::{check_input, InferenceError, Logits};
use crate::model::{UNet, UNetConfig};
use crate::tiles::{predict_tiled, Frame, Tiling};

// Where callers have always found it.
pub use crate::ready::finish_ready;

enum Net {
    /// BatchNorm folded, im2col + gemm (`crate::cpu`).
    Folded(Box<CpuUNet>),
    /// burn's module on a device (a GPU, or burn's own CPU backend for comparison).
    Module(Box<UNet>, Device),
    /// A network that runs somewhere else and tiles for itself.
    Remote(Box<dyn RemoteNet>),
}

/// A network that runs outside this module and answers at once: in the browser, the folded
/// network on a pool of wasm threads in a second module (`crates/engine-threads`), which a
/// module without threads cannot host. It runs a whole image, cutting its own tiles; the runner
/// checks the input first, so a refusal reads the same on every path.
pub trait RemoteNet {
    /// The logits of one `[channels, height, width]` image, already checked.
    fn logits(
        &self,
        planes: &[f32],
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Logits, InferenceError>;
}

/// A checkpoint's network on one device, with the tiling it runs large images in.
pub struct Runner {
    config: UNetConfig,
    net: Net,
    tiling: Option<Tiling>,
}

impl Runner {
    /// The folded CPU network, tiled as [`Tiling::default`].
    pub fn folded(checkpoint: &Checkpoint) -> Result<Self, CheckpointError> {
        let net = CpuUNet::from_tensors(checkpoint.config, &checkpoint.tensors)?;
        Ok(Self {
            config: checkpoint.config,
            net: Net::Folded(Box::new(net)),
            tiling: Some(Tiling::default()),
        })
    }

    /// A network of architecture `config` that runs elsewhere (see [`RemoteNet`]).
    pub fn remote(config: UNetConfig, net: Box<dyn RemoteNet>) -> Self {
        Self {
            config,
            net: Net::Remote(net),
            tiling: None,
        }
    }

    /// burn's module on `device`, run whole (a GPU has no use for the CPU's tiles; give it a
    /// tiling with [`Self::with_tiling`] to bound its memory).
    pub fn module(checkpoint: &Checkpoint, device: &Device) -> Result<Self, CheckpointError> {
        Ok(Self {
            config: checkpoint.config,
            net: Net::Module(Box::new(checkpoint.build(device)?), device.clone()),
            tiling: None,
        })
    }

    /// The same network, cutting images with a side over `tiling.tile` (`None`: never).
    pub fn with_tiling(self, tiling: Option<Tiling>) -> Self {
        Self { tiling, ..self }
    }

    /// The architecture.
    pub fn config(&self) -> &UNetConfig {
        &self.config
    }

    /// Whether this runs on the CPU (the folded network, here or elsewhere).
    pub fn is_cpu(&self) -> bool {
        matches!(self.net, Net::Folded(_) | Net::Remote(_))
    }

    /// The logits of one `[channels, height, width]` image, tile by tile when it is large,
    /// awaiting `pause()` after every block of the folded network.
    pub async fn logits_pausing<F: Future<Output = ()>>(
        &self,
        planes: &[f32],
        channels: usize,
        height: usize,
        width: usize,
        pause: impl Fn() -> F,
    ) -> Result<Logits, InferenceError> {
        let pause = &pause;
        // One pass over a tile (or the whole image). burn's module does not know the frame: its
        // bilinear up-sampling samples a tile on the tile's own grid (see [`crate::tiles`]).
        let pass = async |part: &[f32], frame: Frame, h: usize, w: usize| match &self.net {
            Net::Folded(net) => {
                net.predict_pausing(part, channels, frame, h, w, pause)
                    .await
            }
            // Natively burn reads back synchronously, so a native caller's future stays ready.
            #[cfg(not(target_family = "wasm"))]
            Net::Module(model, device) => {
                crate::inference::predict(model, part, channels, h, w, device)
            }
            #[cfg(target_family = "wasm")]
            Net::Module(model, device) => {
                crate::inference::predict_async(model, part, channels, h, w, device).await
            }
            Net::Remote(net) => {
                check_input(self.config.n_channels, part, channels, h, w)?;
                net.logits(part, channels, h, w)
            }
        };
        match self.tiling {
            Some(tiling) => predict_tiled(planes, channels, height, width, tiling, pass).await,
            None => pass(planes, Frame::whole(height, width), height, width).await,
        }
    }

    /// [`Self::logits_pausing`] without pauses, blocking (native only: a browser must await).
    #[cfg(not(target_family = "wasm"))]
    pub fn logits(
        &self,
        planes: &[f32],
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Logits, InferenceError> {
        finish_ready(self.logits_pausing(
            planes,
            channels,
            height,
            width,
            || std::future::ready(()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::tensors_of;
    use crate::inference::cpu_device;
    use crate::model::UNetConfig;
    use std::rc::Rc;

    fn checkpoint(config: UNetConfig) -> Checkpoint {
        Checkpoint {
            config,
            card: crate::ModelCard::for_bare_checkpoint("test", &config),
            format: crate::SourceFormat::Safetensors,
            tensors: tensors_of(&config.init(&cpu_device())).unwrap(),
        }
    }

    #[test]
    fn the_folded_network_tiled_or_not_agrees_with_burns_module() {
        let checkpoint = checkpoint(UNetConfig::new(1, 2).with_base_channels(4));
        let (h, w) = (300, 70);
        let planes: Vec<f32> = (0..h * w).map(|i| ((i * 13) % 29) as f32 / 29.0).collect();
        let folded = Runner::folded(&checkpoint).unwrap().with_tiling(None);
        assert!(folded.is_cpu());
        let whole = folded.logits(&planes, 1, h, w).unwrap();
        assert_eq!((whole.classes, whole.height, whole.width), (2, h, w));
        let module = Runner::module(&checkpoint, &cpu_device()).unwrap();
        assert!(!module.is_cpu());
        // Tiles whose overlap covers the receptive field keep exactly the whole image's logits.
        let tiling = Tiling {
            tile: 288,
            overlap: 128,
        };
        let tiled = Runner::folded(&checkpoint)
            .unwrap()
            .with_tiling(Some(tiling));
        let scale = whole.data.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(scale > 0.0);
        for other in [&module, &tiled] {
            let got = other.logits(&planes, 1, h, w).unwrap();
            let worst = whole
                .data
                .iter()
                .zip(&got.data)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(worst <= 1e-4 * scale, "max |Δ| {worst} of {scale}");
        }
    }

    /// A remote network that is the folded one, counting the images it is given.
    struct Counted(CpuUNet, std::rc::Rc<std::cell::Cell<usize>>);

    impl RemoteNet for Counted {
        fn logits(
            &self,
            planes: &[f32],
            channels: usize,
            height: usize,
            width: usize,
        ) -> Result<Logits, InferenceError> {
            self.1.set(self.1.get() + 1);
            self.0.predict(planes, channels, height, width)
        }
    }

    #[test]
    fn a_remote_network_gets_whole_checked_images_and_answers_as_the_folded_one() {
        let checkpoint = checkpoint(UNetConfig::new(1, 2).with_base_channels(4));
        let calls = std::rc::Rc::default();
        let net = CpuUNet::from_tensors(checkpoint.config, &checkpoint.tensors).unwrap();
        let remote = Runner::remote(checkpoint.config, Box::new(Counted(net, Rc::clone(&calls))));
        assert!(remote.is_cpu());
        // Larger than the folded runner's tile: the remote network still gets it whole.
        let (h, w) = (1100, 40);
        let planes: Vec<f32> = (0..h * w).map(|i| ((i * 7) % 31) as f32 / 31.0).collect();
        let got = remote.logits(&planes, 1, h, w).unwrap();
        let want = Runner::folded(&checkpoint)
            .unwrap()
            .logits(&planes, 1, h, w)
            .unwrap();
        assert_eq!((got.classes, got.height, got.width), (2, h, w));
        let worst = got
            .data
            .iter()
            .zip(&want.data)
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(worst <= 1e-4, "max |Δ| {worst}");
        assert_eq!(calls.get(), 1);
        assert!(matches!(
            remote.logits(&planes[..15 * 40], 1, 15, 40),
            Err(InferenceError::TooSmall { .. })
        ));
        assert!(matches!(
            remote.logits(&planes, 2, h / 2, w),
            Err(InferenceError::Channels { .. })
        ));
        assert_eq!(
            calls.get(),
            1,
            "refused inputs never reach the remote network"
        );
    }

    #[test]
    fn every_pause_is_awaited_and_the_input_is_checked() {
        let checkpoint = checkpoint(UNetConfig::new(1, 1).with_base_channels(2));
        let runner = Runner::folded(&checkpoint).unwrap();
        let pauses = std::cell::Cell::new(0);
        let planes = vec![0.5; 32 * 32];
        finish_ready(runner.logits_pausing(&planes, 1, 32, 32, || {
            pauses.set(pauses.get() + 1);
            std::future::ready(())
        }))
        .unwrap();
        assert_eq!(pauses.get(), 9, "a pause after each of the nine blocks");
        assert!(matches!(
            runner.logits(&planes, 2, 16, 32),
            Err(InferenceError::Channels { .. })
        ));
        assert!(matches!(
            runner.logits(&planes[..15 * 32], 1, 15, 32),
            Err(InferenceError::TooSmall { .. })
        ));
    }
}
