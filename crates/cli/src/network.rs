//! `--device`, `--cpu-engine` and the tiling: which [`Runner`] a command runs the model on (the
//! folded CPU network, or burn's module on a Wgpu device or on burn's own CPU backend).

use crate::device::{open, DeviceChoice};
use anyhow::Context;
use clap::{Args, ValueEnum};
use unet::{Checkpoint, Runner, Tiling};

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

impl RunArgs {
    /// The checkpoint's network where these arguments say, tiled as they say.
    pub fn runner(&self, checkpoint: &Checkpoint) -> anyhow::Result<Runner> {
        let tiling = match self.tile {
            0 => None,
            tile => {
                let tiling = Tiling {
                    tile,
                    overlap: self.tile_overlap,
                };
                tiling.validate().context("--tile")?;
                Some(tiling)
            }
        };
        let runner = match (self.device, self.cpu_engine) {
            (DeviceChoice::Cpu, CpuEngine::Folded) => Runner::folded(checkpoint),
            (choice, _) => Runner::module(checkpoint, &open(choice)?),
        };
        Ok(runner?.with_tiling(tiling))
    }
}
