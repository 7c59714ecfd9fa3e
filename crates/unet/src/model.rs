//! The classic U-Net (Ronneberger et al., 2015) as four reusable blocks and the net that wires them.
//!
//! ```text
//!  input ─ inc ──────────────────────────────────────────── up4 ─ outc ─ logits
//!           └ down1 ─────────────────────────────────── up3 ┘
//!               └ down2 ─────────────────────────── up2 ┘
//!                   └ down3 ─────────────────── up1 ┘
//!                       └ down4 (bottleneck) ───┘
//! ```
//!
//! Field names follow milesial/Pytorch-UNet's module tree (`inc`, `down1`…`down4`, `up1`…`up4`,
//! `outc`), so a checkpoint's keys map one to one onto this tree (see [`crate::checkpoint`]).

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d, Relu};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor};

// PyTorch's BatchNorm2d default; milesial never changes it, and inference must use the same value.
pub(crate) const BATCH_NORM_EPSILON: f64 = 1e-5;

/// Configuration of a [`DoubleConv`]: (3×3 conv → BatchNorm → ReLU) twice.
#[derive(Config, Debug)]
pub struct DoubleConvConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Channels between the two convolutions; `None` means `out_channels`.
    #[config(default = "None")]
    pub mid_channels: Option<usize>,
}

/// (3×3 convolution without bias → BatchNorm → ReLU) × 2, keeping the spatial size.
#[derive(Module, Debug)]
pub struct DoubleConv {
    /// First 3×3 convolution (`double_conv.0`).
    pub conv1: Conv2d,
    /// First batch norm (`double_conv.1`).
    pub norm1: BatchNorm,
    /// Second 3×3 convolution (`double_conv.3`).
    pub conv2: Conv2d,
    /// Second batch norm (`double_conv.4`).
    pub norm2: BatchNorm,
    relu: Relu,
}

impl DoubleConvConfig {
    /// Builds a [`DoubleConv`] with freshly initialised weights.
    pub fn init(&self, device: &Device) -> DoubleConv {
        let mid = self.mid_channels.unwrap_or(self.out_channels);
        // The convolutions carry no bias: the batch norm that follows would cancel it.
        let conv = |from, to| {
            Conv2dConfig::new([from, to], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(device)
        };
        let norm = |channels| {
            BatchNormConfig::new(channels)
                .with_epsilon(BATCH_NORM_EPSILON)
                .init(device)
        };
        DoubleConv {
            conv1: conv(self.in_channels, mid),
            norm1: norm(mid),
            conv2: conv(mid, self.out_channels),
            norm2: norm(self.out_channels),
            relu: Relu::new(),
        }
    }
}

impl DoubleConv {
    /// Applies both convolution stages.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, out_channels, height, width]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.relu.forward(self.norm1.forward(self.conv1.forward(x)));
        self.relu.forward(self.norm2.forward(self.conv2.forward(x)))
    }
}

/// Configuration of a [`Down`] block: 2×2 max-pool, then a [`DoubleConv`].
#[derive(Config, Debug)]
pub struct DownConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
}

/// One encoder step: halve the resolution, then convolve (`maxpool_conv.1` is the DoubleConv).
#[derive(Module, Debug)]
pub struct Down {
    pool: MaxPool2d,
    /// The convolutions after pooling.
    pub conv: DoubleConv,
}

impl DownConfig {
    /// Builds a [`Down`] block.
    pub fn init(&self, device: &Device) -> Down {
        Down {
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            conv: DoubleConvConfig::new(self.in_channels, self.out_channels).init(device),
        }
    }
}

impl Down {
    /// Pools and convolves.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, out_channels, floor(height / 2), floor(width / 2)]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.conv.forward(self.pool.forward(x))
    }
}

/// Configuration of an [`Up`] block.
#[derive(Config, Debug)]
pub struct UpConfig {
    /// Channels of the concatenation of the skip tensor and the up-sampled tensor.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Bilinear up-sampling (no weights) instead of a 2×2 transposed convolution.
    #[config(default = true)]
    pub bilinear: bool,
}

/// One decoder step: up-sample, pad to the skip tensor's size, concatenate `[skip, up]`, convolve.
#[derive(Module, Debug)]
pub struct Up {
    /// The transposed convolution (`up`); `None` for bilinear up-sampling.
    pub up: Option<ConvTranspose2d>,
    /// The convolutions after concatenation.
    pub conv: DoubleConv,
}

impl UpConfig {
    /// Builds an [`Up`] block.
    ///
    /// Bilinear up-sampling keeps the channel count, so the deeper input already carries only half
    /// of `in_channels` and the DoubleConv narrows through `in_channels / 2`; the transposed
    /// convolution halves the channels itself. Both exactly as in milesial/Pytorch-UNet.
    pub fn init(&self, device: &Device) -> Up {
        if self.bilinear {
            Up {
                up: None,
                conv: DoubleConvConfig::new(self.in_channels, self.out_channels)
                    .with_mid_channels(Some(self.in_channels / 2))
                    .init(device),
            }
        } else {
            Up {
                up: Some(
                    ConvTranspose2dConfig::new([self.in_channels, self.in_channels / 2], [2, 2])
                        .with_stride([2, 2])
                        .init(device),
                ),
                conv: DoubleConvConfig::new(self.in_channels, self.out_channels).init(device),
            }
        }
    }
}

impl Up {
    /// Up-samples `x` by two, pads it to `skip`'s size and convolves the concatenation.
    ///
    /// # Shapes
    ///
    /// - x: `[batch, in_channels / 2, h, w]` when bilinear, `[batch, in_channels, h, w]` otherwise
    /// - skip: `[batch, in_channels / 2, H, W]` with `H ∈ {2h, 2h + 1}`, `W ∈ {2w, 2w + 1}`
    /// - output: `[batch, out_channels, H, W]`
    pub fn forward(&self, x: Tensor<4>, skip: Tensor<4>) -> Tensor<4> {
        let x = match &self.up {
            Some(transposed) => transposed.forward(x),
            None => {
                let [_, _, h, w] = x.dims();
                interpolate(
                    x,
                    InterpolateOptions::new(InterpolateMode::Bilinear)
                        .with_align_corners(true)
                        .with_output_size([2 * h, 2 * w]),
                )
            }
        };
        // Pooling floors odd sizes, so the up-sampled tensor can be one row or column short;
        // padding (not cropping) keeps every skip pixel, and odd sizes put the extra pixel last.
        let [_, _, h, w] = x.dims();
        let [_, _, skip_h, skip_w] = skip.dims();
        let (dh, dw) = (skip_h - h, skip_w - w);
        let x = if dh == 0 && dw == 0 {
            x
        } else {
            x.pad(
                [(dh / 2, dh - dh / 2), (dw / 2, dw - dw / 2)],
                burn::tensor::ops::PadMode::Constant(0.0),
            )
        };
        self.conv.forward(Tensor::cat(vec![skip, x], 1))
    }
}

/// Configuration of an [`OutConv`]: a 1×1 convolution to class logits.
#[derive(Config, Debug)]
pub struct OutConvConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Number of classes (output channels).
    pub n_classes: usize,
}

/// The 1×1 convolution that maps features to per-class logits (`outc.conv`).
#[derive(Module, Debug)]
pub struct OutConv {
    /// The 1×1 convolution, with bias.
    pub conv: Conv2d,
}

impl OutConvConfig {
    /// Builds an [`OutConv`].
    pub fn init(&self, device: &Device) -> OutConv {
        OutConv {
            conv: Conv2dConfig::new([self.in_channels, self.n_classes], [1, 1]).init(device),
        }
    }
}

impl OutConv {
    /// Maps features to logits.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, in_channels, height, width]`
    /// - output: `[batch, n_classes, height, width]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.conv.forward(x)
    }
}

/// Configuration of a [`UNet`]; what [`crate::checkpoint::infer_config`] reads off a checkpoint.
#[derive(Config, Debug, PartialEq, Eq, Copy)]
pub struct UNetConfig {
    /// Input channels (1 for grey, 3 for RGB).
    pub n_channels: usize,
    /// Output classes; 1 means a sigmoid (binary) model, more an argmax over classes.
    pub n_classes: usize,
    /// Bilinear up-sampling instead of transposed convolutions.
    #[config(default = false)]
    pub bilinear: bool,
    /// Channels of the first level; level `i` has `base_channels · 2^i` (classic: 64…1024).
    #[config(default = 64)]
    pub base_channels: usize,
}

/// The U-Net: four [`Down`]s, four [`Up`]s with skip connections, one [`OutConv`].
#[derive(Module, Debug)]
pub struct UNet {
    /// First DoubleConv at full resolution.
    pub inc: DoubleConv,
    /// Encoder steps, shallow to deep.
    pub down1: Down,
    /// Second encoder step.
    pub down2: Down,
    /// Third encoder step.
    pub down3: Down,
    /// Bottleneck encoder step.
    pub down4: Down,
    /// Decoder steps, deep to shallow.
    pub up1: Up,
    /// Second decoder step.
    pub up2: Up,
    /// Third decoder step.
    pub up3: Up,
    /// Last decoder step, back at full resolution.
    pub up4: Up,
    /// The logits head.
    pub outc: OutConv,
}

impl UNetConfig {
    /// Channel width of encoder level `level` (0 = `inc`, 4 = bottleneck), before the bilinear
    /// halving of the bottleneck.
    pub fn width(&self, level: u32) -> usize {
        self.base_channels << level
    }

    /// Builds a [`UNet`] with freshly initialised weights.
    pub fn init(&self, device: &Device) -> UNet {
        // Bilinear up-sampling adds no channels, so the bottleneck and the decoder are half as wide.
        let factor = if self.bilinear { 2 } else { 1 };
        let w = |level| self.width(level);
        let up = |level: u32, out| UpConfig::new(w(level), out).with_bilinear(self.bilinear);
        UNet {
            inc: DoubleConvConfig::new(self.n_channels, w(0)).init(device),
            down1: DownConfig::new(w(0), w(1)).init(device),
            down2: DownConfig::new(w(1), w(2)).init(device),
            down3: DownConfig::new(w(2), w(3)).init(device),
            down4: DownConfig::new(w(3), w(4) / factor).init(device),
            up1: up(4, w(3) / factor).init(device),
            up2: up(3, w(2) / factor).init(device),
            up3: up(2, w(1) / factor).init(device),
            up4: up(1, w(0)).init(device),
            outc: OutConvConfig::new(w(0), self.n_classes).init(device),
        }
    }
}

impl UNet {
    /// Runs the network.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, n_channels, height, width]`, any height and width ≥ 16
    /// - output: `[batch, n_classes, height, width]` (raw logits)
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x1 = self.inc.forward(x);
        let x2 = self.down1.forward(x1.clone());
        let x3 = self.down2.forward(x2.clone());
        let x4 = self.down3.forward(x3.clone());
        let x5 = self.down4.forward(x4.clone());
        let x = self.up1.forward(x5, x4);
        let x = self.up2.forward(x, x3);
        let x = self.up3.forward(x, x2);
        let x = self.up4.forward(x, x1);
        self.outc.forward(x)
    }
}

/// The smallest height or width the four poolings accept: each level needs at least one pixel.
pub const MIN_SIDE: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> Device {
        Device::flex()
    }

    #[test]
    fn double_conv_keeps_spatial_size() {
        let block = DoubleConvConfig::new(3, 8).init(&device());
        let out = block.forward(Tensor::zeros([2, 3, 13, 7], &device()));
        assert_eq!(out.dims(), [2, 8, 13, 7]);
    }

    #[test]
    fn down_floors_odd_sizes() {
        let block = DownConfig::new(4, 8).init(&device());
        let out = block.forward(Tensor::zeros([1, 4, 13, 7], &device()));
        assert_eq!(out.dims(), [1, 8, 6, 3]);
    }

    #[test]
    fn up_pads_to_the_skip_size_in_both_modes() {
        for bilinear in [true, false] {
            let block = UpConfig::new(16, 4).with_bilinear(bilinear).init(&device());
            // Bilinear keeps the deep tensor's channels; the transposed conv halves them itself.
            let deep_channels = if bilinear { 8 } else { 16 };
            let x = Tensor::zeros([1, deep_channels, 6, 3], &device());
            let skip = Tensor::zeros([1, 8, 13, 7], &device());
            assert_eq!(block.forward(x, skip).dims(), [1, 4, 13, 7]);
        }
    }

    #[test]
    fn unet_output_matches_input_size_for_odd_sizes() {
        for bilinear in [true, false] {
            let net = UNetConfig::new(3, 2)
                .with_bilinear(bilinear)
                .with_base_channels(4)
                .init(&device());
            let out = net.forward(Tensor::zeros([1, 3, 97, 131], &device()));
            assert_eq!(out.dims(), [1, 2, 97, 131]);
        }
    }

    #[test]
    fn classic_widths_and_bilinear_halving() {
        let classic = UNetConfig::new(1, 2).init(&device());
        assert_eq!(classic.down4.conv.conv2.weight.dims(), [1024, 1024, 3, 3]);
        assert_eq!(
            classic.up1.up.as_ref().unwrap().weight.dims(),
            [1024, 512, 2, 2]
        );
        let bilinear = UNetConfig::new(1, 2).with_bilinear(true).init(&device());
        assert_eq!(bilinear.down4.conv.conv2.weight.dims(), [512, 512, 3, 3]);
        // up1 concatenates 512 + 512, narrows through 512 and emits 256.
        assert_eq!(bilinear.up1.conv.conv1.weight.dims(), [512, 1024, 3, 3]);
        assert_eq!(bilinear.up1.conv.conv2.weight.dims(), [256, 512, 3, 3]);
        assert_eq!(bilinear.outc.conv.weight.dims(), [2, 64, 1, 1]);
    }
}
