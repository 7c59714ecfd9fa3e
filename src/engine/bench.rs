//! Timing the app's own forward pass, for the browser benchmark (`scripts/bench/browser.sh`).
//!
//! Builds the model as [`super::Engine`] does and runs it through [`unet::Runner::logits_pausing`],
//! the step every segmentation goes through, so a faster inference path shows up here unchanged.
//! It does not pause between blocks, as the engine in its Web Worker does not
//! ([`crate::platform::yield_now`] returns at once there): the pauses only ever served a page
//! whose own thread ran the network, and `setTimeout`'s 4 ms clamp made them cost 10–40 % of a
//! pass.
//! The input is pseudo-random but fixed, like the native `unet bench`; each pass is read back,
//! as the app must before it can draw a mask.

use burn::tensor::Device;
use unet::{Checkpoint, UNetConfig};

use super::{runner_on, CpuThreads, ThreadsInfo};

use crate::platform::{now_ms, yield_now};

/// What one benchmark call measured, in milliseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ForwardTimes {
    /// The architecture read off the checkpoint.
    pub n_channels: usize,
    /// Output classes.
    pub n_classes: usize,
    /// Channels of the first level.
    pub base_channels: usize,
    /// Bilinear up-sampling (else transposed convolutions).
    pub bilinear: bool,
    /// Learnable parameters.
    pub parameters: usize,
    /// The CPU path's threads (`None` on WebGPU).
    pub threads: Option<ThreadsInfo>,
    /// Parsing the file and building the net on the device (and starting the CPU threads).
    pub load_ms: f64,
    /// The untimed first pass at the benchmark size (on WebGPU it compiles the kernels).
    pub warmup_ms: f64,
    /// Each timed pass: upload, forward, read-back.
    pub times_ms: Vec<f64>,
}

/// Loads `bytes` (any checkpoint the app accepts) on `device`, as the engine would here (on the
/// CPU, on the threads it may use where this runs), and times one warm-up plus `runs` forward
/// passes on a fixed `height`×`width` input.
pub async fn time_forward(
    bytes: &[u8],
    source: &str,
    device: &Device,
    height: usize,
    width: usize,
    runs: usize,
) -> Result<ForwardTimes, String> {
    let start = now_ms();
    let checkpoint = Checkpoint::from_bytes(bytes, source).map_err(|e| e.to_string())?;
    let mut threads = CpuThreads::default();
    let runner = runner_on(&mut threads, &checkpoint, device).await?;
    let load_ms = now_ms() - start;
    let UNetConfig {
        n_channels,
        n_classes,
        base_channels,
        bilinear,
        ..
    } = checkpoint.config;
    let planes = unet::inference::fixed_noise(n_channels * height * width);
    let no_pause = || std::future::ready(());
    let forward = || runner.logits_pausing(&planes, n_channels, height, width, no_pause);
    yield_now().await;
    let start = now_ms();
    forward().await.map_err(|e| e.to_string())?;
    let warmup_ms = now_ms() - start;
    let mut times_ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        // Between passes, not inside the timed span: the page stays responsive over a long run.
        yield_now().await;
        let start = now_ms();
        forward().await.map_err(|e| e.to_string())?;
        times_ms.push(now_ms() - start);
    }
    Ok(ForwardTimes {
        n_channels,
        n_classes,
        base_channels,
        bilinear,
        parameters: checkpoint.parameter_count(),
        threads: threads.info(),
        load_ms,
        warmup_ms,
        times_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    // Natively the CPU backend is synchronous and `yield_now` is ready at once.
    use unet::runner::finish_ready as run;

    #[test]
    fn times_every_run_of_a_bundled_model() {
        let bytes = include_bytes!("../../assets/models/untrained-placeholder.unet.safetensors");
        let device = unet::inference::cpu_device();
        let times = run(time_forward(bytes, "placeholder", &device, 32, 48, 3)).unwrap();
        assert_eq!(times.times_ms.len(), 3);
        assert!(times.times_ms.iter().all(|t| *t >= 0.0));
        assert_eq!((times.n_channels, times.n_classes), (1, 1));
        assert_eq!(
            times.threads.map(|t| t.count),
            Some(1),
            "the CPU path reports its threads"
        );
        assert!(times.parameters > 0);
    }

    #[test]
    fn a_bad_file_is_an_error_not_a_panic() {
        let device = unet::inference::cpu_device();
        assert!(run(time_forward(b"not a model", "x", &device, 32, 32, 1)).is_err());
    }
}
