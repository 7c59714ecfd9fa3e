//! `unet bench`: forward-pass timing of a model on a random input, for BENCHMARKS.md.

use crate::device::DeviceChoice;
use crate::network::{CpuEngine, RunArgs};
use crate::output::load_model;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `unet bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// A .pth, .safetensors or unet-web model file.
    #[arg(long)]
    model: PathBuf,
    /// Input size as HxW, e.g. 256x256.
    #[arg(long, default_value = "256x256", value_parser = parse_size)]
    size: (usize, usize),
    #[command(flatten)]
    run: RunArgs,
    /// Timed runs after one warm-up run.
    #[arg(long, default_value_t = 10)]
    runs: usize,
}

fn parse_size(text: &str) -> Result<(usize, usize), String> {
    let (h, w) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("`{text}` is not HxW"))?;
    let parse = |s: &str| s.trim().parse::<usize>().map_err(|e| format!("`{s}`: {e}"));
    Ok((parse(h)?, parse(w)?))
}

/// Times `runs` forward passes (each read back, so the GPU work is finished) and prints one line.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let checkpoint = load_model(&args.model)?;
    let runner = args.run.runner(&checkpoint)?;
    let (h, w) = args.size;
    let channels = checkpoint.config.n_channels;
    let input = unet::inference::fixed_noise(channels * h * w);
    let forward = || runner.logits(&input, channels, h, w).map(|_| ());
    forward()?;
    let mut times_ms = Vec::with_capacity(args.runs);
    for _ in 0..args.runs.max(1) {
        let start = Instant::now();
        forward()?;
        times_ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times_ms.sort_by(f64::total_cmp);
    let median = times_ms[times_ms.len() / 2];
    let engine = match (args.run.device, args.run.cpu_engine) {
        (DeviceChoice::Cpu, CpuEngine::Folded) => "folded",
        _ => "burn",
    };
    println!(
        "model={} size={h}x{w} device={:?} engine={engine} runs={} median_ms={median:.2} min_ms={:.2} max_ms={:.2}",
        checkpoint.card.name,
        args.run.device,
        times_ms.len(),
        times_ms[0],
        times_ms[times_ms.len() - 1]
    );
    Ok(())
}
