//! The U-Net compiled for inference on the CPU: BatchNorm folded into the convolutions, and every
//! convolution `gemm` products written straight into its output planes: im2col for the first
//! layer, Winograd's F(2×2, 3×3) for the wider ones (`winograd`).
//!
//! burn's `flex` backend runs the same network 2–3× slower than PyTorch on the CPU (see
//! BENCHMARKS.md): its convolution converts to NHWC serially, packs the weights again for every
//! 512-pixel tile and scatters the result, and BatchNorm and ReLU are passes of their own. Here
//! the weights are read once from the milesial tensors (a checkpoint or a trained [`UNet`]), the
//! network is the same four blocks, and the burn model stays the reference that this is tested
//! against (and the one that trains and runs on the GPU).

mod conv;
mod matmul;
mod planes;
mod resample;
mod winograd;

pub use planes::Planes;
pub use resample::Placement;

use std::future::Future;

use crate::checkpoint::{tensors_of, Block, CheckpointError, NormField, Slot, Stage, TensorMap};
use crate::inference::{check_input, InferenceError, Logits};
use crate::model::{UNet, UNetConfig, BATCH_NORM_EPSILON};
use crate::ready::finish_ready;
use crate::tiles::Frame;
use conv::{conv1x1_bias, conv3x3_bias_relu, conv_transpose2x2_bias};
use resample::{max_pool2, pad_concat, upsample_bilinear2};

/// A 3×3 convolution with its BatchNorm folded in: `relu(conv(x, weight) + bias)`.
#[derive(Debug, Clone)]
struct FoldedConv {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// [`crate::DoubleConv`] with both BatchNorms folded.
#[derive(Debug, Clone)]
struct FoldedDoubleConv {
    first: FoldedConv,
    second: FoldedConv,
}

impl FoldedDoubleConv {
    fn forward(&self, x: &Planes) -> Planes {
        let mid = conv3x3_bias_relu(x, &self.first.weight, &self.first.bias);
        conv3x3_bias_relu(&mid, &self.second.weight, &self.second.bias)
    }
}

/// [`crate::Up`]: the transposed convolution's weights, or `None` for bilinear up-sampling.
#[derive(Debug, Clone)]
struct FoldedUp {
    transposed: Option<(Vec<f32>, Vec<f32>)>,
    conv: FoldedDoubleConv,
}

/// The U-Net ready for CPU inference; built from a checkpoint's tensors or a trained [`UNet`].
#[derive(Debug, Clone)]
pub struct CpuUNet {
    config: UNetConfig,
    inc: FoldedDoubleConv,
    down: [FoldedDoubleConv; 4],
    up: [FoldedUp; 4],
    outc: (Vec<f32>, Vec<f32>),
}

impl CpuUNet {
    /// Folds the milesial tensors of a U-Net of architecture `config` (checked by
    /// [`crate::Checkpoint::from_bytes`]) into the CPU network.
    pub fn from_tensors(config: UNetConfig, tensors: &TensorMap) -> Result<Self, CheckpointError> {
        let get = |slot: Slot| {
            let key = slot.key();
            tensors
                .get(&key)
                .map(|t| t.data.as_slice())
                .ok_or_else(|| CheckpointError::Mismatch {
                    config: crate::checkpoint::describe(&config),
                    details: format!("missing `{key}`"),
                })
        };
        let double = |block: Block| -> Result<FoldedDoubleConv, CheckpointError> {
            let folded = |stage: Stage| -> Result<FoldedConv, CheckpointError> {
                let norm = |field| get(Slot::Norm(block, stage, field));
                fold(
                    get(Slot::Conv(block, stage))?,
                    norm(NormField::Weight)?,
                    norm(NormField::Bias)?,
                    norm(NormField::RunningMean)?,
                    norm(NormField::RunningVar)?,
                )
            };
            Ok(FoldedDoubleConv {
                first: folded(Stage::First)?,
                second: folded(Stage::Second)?,
            })
        };
        let down = |level| double(Block::Down(level));
        let up = |step| -> Result<FoldedUp, CheckpointError> {
            let transposed = if config.bilinear {
                None
            } else {
                Some((
                    get(Slot::Transposed { step, bias: false })?.to_vec(),
                    get(Slot::Transposed { step, bias: true })?.to_vec(),
                ))
            };
            Ok(FoldedUp {
                transposed,
                conv: double(Block::Up(step))?,
            })
        };
        Ok(Self {
            config,
            inc: double(Block::Inc)?,
            down: [down(1)?, down(2)?, down(3)?, down(4)?],
            up: [up(1)?, up(2)?, up(3)?, up(4)?],
            outc: (
                get(Slot::Out { bias: false })?.to_vec(),
                get(Slot::Out { bias: true })?.to_vec(),
            ),
        })
    }

    /// Folds a burn [`UNet`] (for example one just trained); reads its weights synchronously.
    pub fn from_model(model: &UNet) -> Result<Self, CheckpointError> {
        let tensors = tensors_of(model)?;
        let config = crate::checkpoint::infer_config(&tensors)?;
        Self::from_tensors(config, &tensors)
    }

    /// The architecture.
    pub fn config(&self) -> &UNetConfig {
        &self.config
    }

    /// Runs the network on one image's planes (`[channels, height, width]` row-major).
    pub fn predict(
        &self,
        planes: &[f32],
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Logits, InferenceError> {
        let frame = Frame::whole(height, width);
        self.predict_in(planes, channels, frame, height, width)
    }

    /// [`Self::predict`] on a tile of `height × width` placed in a larger image by `frame`, so
    /// that the tile's logits equal the whole image's wherever the tile holds the receptive field
    /// (see [`crate::tiles`]).
    pub fn predict_in(
        &self,
        planes: &[f32],
        channels: usize,
        frame: Frame,
        height: usize,
        width: usize,
    ) -> Result<Logits, InferenceError> {
        finish_ready(
            self.predict_pausing(planes, channels, frame, height, width, || {
                std::future::ready(())
            }),
        )
    }

    /// [`Self::predict`], awaiting `pause()` after every block: on a page's only thread this
    /// hands control back to the event loop, so the tab stays responsive during a long pass.
    pub async fn predict_pausing<F: Future<Output = ()>>(
        &self,
        planes: &[f32],
        channels: usize,
        frame: Frame,
        height: usize,
        width: usize,
        pause: impl Fn() -> F,
    ) -> Result<Logits, InferenceError> {
        check_input(self.config.n_channels, planes, channels, height, width)?;
        let x = Planes {
            channels,
            height,
            width,
            data: planes.to_vec(),
        };
        let out = self.forward_pausing(x, frame, pause).await;
        Ok(Logits {
            classes: out.channels,
            height: out.height,
            width: out.width,
            data: out.data,
        })
    }

    /// The network on planes of at least [`crate::model::MIN_SIDE`] per side, placed in the image by `frame`,
    /// awaiting `pause()` between blocks.
    ///
    /// # Shapes
    ///
    /// - x: `[n_channels, height, width]`
    /// - output: `[n_classes, height, width]`
    pub async fn forward_pausing<F: Future<Output = ()>>(
        &self,
        x: Planes,
        frame: Frame,
        pause: impl Fn() -> F,
    ) -> Planes {
        // Up-sampling from level l (1/2^l of the full size) samples on the whole image's grid.
        let place = |level: u32| {
            let at = |extent: usize, offset: usize| Placement {
                extent: extent >> level,
                offset: offset >> level,
            };
            (at(frame.height, frame.top), at(frame.width, frame.left))
        };
        let x1 = self.inc.forward(&x);
        drop(x);
        pause().await;
        let x2 = self.down[0].forward(&max_pool2(&x1));
        pause().await;
        let x3 = self.down[1].forward(&max_pool2(&x2));
        pause().await;
        let x4 = self.down[2].forward(&max_pool2(&x3));
        pause().await;
        let x5 = self.down[3].forward(&max_pool2(&x4));
        pause().await;
        let x = self.up[0].forward(x5, x4, place(4));
        pause().await;
        let x = self.up[1].forward(x, x3, place(3));
        pause().await;
        let x = self.up[2].forward(x, x2, place(2));
        pause().await;
        let x = self.up[3].forward(x, x1, place(1));
        pause().await;
        conv1x1_bias(&x, &self.outc.0, &self.outc.1)
    }
}

impl FoldedUp {
    fn forward(&self, x: Planes, skip: Planes, (rows, cols): (Placement, Placement)) -> Planes {
        let up = match &self.transposed {
            Some((weight, bias)) => conv_transpose2x2_bias(&x, weight, bias),
            None => upsample_bilinear2(&x, rows, cols),
        };
        drop(x);
        self.conv.forward(&pad_concat(skip, &up))
    }
}

/// `conv → BatchNorm (running statistics)` as one convolution with a bias: each output channel's
/// weights scaled by `γ / √(σ² + ε)`, and the bias `β − μ · γ / √(σ² + ε)`.
fn fold(
    weight: &[f32],
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
) -> Result<FoldedConv, CheckpointError> {
    let c_out = gamma.len();
    let per_channel = weight.len() / c_out.max(1);
    let mut folded = weight.to_vec();
    let mut bias = Vec::with_capacity(c_out);
    for (c, row) in folded.chunks_mut(per_channel.max(1)).enumerate() {
        // In f64, so the folding itself adds no rounding beyond the final f32 store.
        let scale = f64::from(gamma[c]) / (f64::from(var[c]) + BATCH_NORM_EPSILON).sqrt();
        row.iter_mut()
            .for_each(|w| *w = (f64::from(*w) * scale) as f32);
        bias.push((f64::from(beta[c]) - f64::from(mean[c]) * scale) as f32);
    }
    Ok(FoldedConv {
        weight: folded,
        bias,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::load_into;
    use crate::inference::{cpu_device, predict};

    /// Random weights and BatchNorm statistics far from the identity, so folding is exercised.
    fn random_tensors(config: &UNetConfig) -> TensorMap {
        let model = config.init(&cpu_device());
        let mut tensors = tensors_of(&model).unwrap();
        let mut state = 0x9E37_79B9u32;
        for (key, t) in tensors.iter_mut() {
            for v in t.data.iter_mut() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let u = (state % 10_000) as f32 / 10_000.0;
                if key.ends_with("running_var") {
                    *v = 0.5 + u;
                } else if key.ends_with("running_mean") || key.ends_with(".bias") {
                    *v = u - 0.5;
                } else if key.contains("double_conv.1.weight")
                    || key.contains("double_conv.4.weight")
                {
                    *v = 0.5 + u;
                }
            }
        }
        tensors
    }

    #[test]
    fn matches_the_burn_model_on_odd_sizes_both_up_samplings() {
        for bilinear in [true, false] {
            let config = UNetConfig::new(2, 3)
                .with_base_channels(4)
                .with_bilinear(bilinear);
            let tensors = random_tensors(&config);
            let mut model = config.init(&cpu_device());
            load_into(&mut model, &config, &tensors, &cpu_device()).unwrap();
            let cpu = CpuUNet::from_tensors(config, &tensors).unwrap();
            let (h, w) = (37, 45);
            let planes: Vec<f32> = (0..2 * h * w)
                .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
                .collect();
            let want = predict(&model, &planes, 2, h, w, &cpu_device()).unwrap();
            let got = cpu.predict(&planes, 2, h, w).unwrap();
            assert_eq!((got.classes, got.height, got.width), (3, h, w));
            let scale = want.data.iter().fold(0f32, |m, v| m.max(v.abs()));
            let worst = got
                .data
                .iter()
                .zip(&want.data)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(scale > 0.1, "degenerate output");
            assert!(
                worst <= 1e-4 * scale,
                "bilinear={bilinear}: max |Δ| {worst} of {scale}"
            );
        }
    }

    #[test]
    fn refuses_what_the_burn_path_refuses() {
        let config = UNetConfig::new(1, 1).with_base_channels(2);
        let cpu = CpuUNet::from_model(&config.init(&cpu_device())).unwrap();
        assert!(matches!(
            cpu.predict(&[0.0; 2 * 16 * 16], 2, 16, 16),
            Err(InferenceError::Channels {
                expected: 1,
                got: 2
            })
        ));
        assert!(matches!(
            cpu.predict(&[0.0; 15 * 40], 1, 15, 40),
            Err(InferenceError::TooSmall { .. })
        ));
        assert!(matches!(
            cpu.predict(&[0.0; 10], 1, 16, 16),
            Err(InferenceError::Shape { .. })
        ));
    }
}
