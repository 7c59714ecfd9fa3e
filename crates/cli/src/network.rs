//! The model ready to run where `--device` says: the folded CPU network ([`CpuUNet`]) or burn's
//! module on a Wgpu device (or burn's own CPU backend, for comparison), with tiling for large images.

use crate::device::{open, DeviceChoice};
use burn::tensor::Device;
use clap::{Args, ValueEnum};
use unet::tiles::{predict_tiled, Frame};
use unet::{Checkpoint, CpuUNet, InferenceError, Logits, Tiling, UNet};

/// Which implementation runs the network on the CPU.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum CpuEngine {
    /// BatchNorm folded into the convolutions, im2col + gemm (the fast path).
    Folded,
    /// burn's module on its `flex` backend (the reference implementation).
    Burn,
}

/// `--device`, `--cpu-engine`, `--tile` and `--tile-overlap`, shared by predict, eval and bench.
#[derive(Args, Clone, Debug)]
pub struct RunArgs {
    /// Where the model runs.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceChoice,
    /// The CPU implementation: the folded network, or burn's module as it trains.
    #[arg(long, value_enum, default_value = "folded")]
    pub cpu_engine: CpuEngine,
    /// Images with a side over this many pixels run in overlapping tiles of this size, so memory
    /// stays bounded (a multiple of 16; 0: never tile).
    #[arg(long, default_value_t = Tiling::default().tile)]
    pub tile: usize,
    /// Context each tile reads beyond the part it keeps, on every side (a multiple of 16).
    #[arg(long, default_value_t = Tiling::default().overlap)]
    pub tile_overlap: usize,
}

enum Engine {
    Folded(Box<CpuUNet>),
    Burn(Box<UNet>, Device),
}

/// A checkpoint's network, opened on a device.
pub struct Network {
    engine: Engine,
    tiling: Option<Tiling>,
}

impl Network {
    /// Builds the network that `args` ask for.
    pub fn open(checkpoint: &Checkpoint, args: &RunArgs) -> Result<Self, String> {
        let tiling = match args.tile {
            0 => None,
            tile => {
                let tiling = Tiling {
                    tile,
                    overlap: args.tile_overlap,
                };
                tiling.validate().map_err(|e| format!("--tile: {e}"))?;
                Some(tiling)
            }
        };
        let engine = match (args.device, args.cpu_engine) {
            (DeviceChoice::Cpu, CpuEngine::Folded) => Engine::Folded(Box::new(
                CpuUNet::from_tensors(checkpoint.config, &checkpoint.tensors)
                    .map_err(|e| e.to_string())?,
            )),
            (choice, _) => {
                let device = open(choice)?;
                let model = checkpoint.build(&device).map_err(|e| e.to_string())?;
                Engine::Burn(Box::new(model), device)
            }
        };
        Ok(Self { engine, tiling })
    }

    /// Logits of one `[channels, height, width]` image, tile by tile when it is large.
    pub fn predict(
        &self,
        planes: &[f32],
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Logits, InferenceError> {
        match self.tiling {
            Some(tiling) => {
                predict_tiled(planes, channels, height, width, tiling, |p, frame, h, w| {
                    self.predict_in(p, channels, frame, h, w)
                })
            }
            None => self.predict_in(planes, channels, Frame::whole(height, width), height, width),
        }
    }

    /// Logits of one tile (or the whole image) in one pass. burn's module does not know the
    /// frame: its bilinear up-sampling samples a tile on the tile's own grid (see `unet::tiles`).
    fn predict_in(
        &self,
        planes: &[f32],
        channels: usize,
        frame: Frame,
        height: usize,
        width: usize,
    ) -> Result<Logits, InferenceError> {
        match &self.engine {
            Engine::Folded(net) => net.predict_in(planes, channels, frame, height, width),
            Engine::Burn(model, device) => {
                unet::inference::predict(model, planes, channels, height, width, device)
            }
        }
    }
}
