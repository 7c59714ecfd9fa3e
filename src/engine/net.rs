//! The network as built for the engine's device: the folded CPU network ([`CpuUNet`]) or
//! burn's module on WebGPU.
//!
//! On the CPU everything runs on the page's only thread, so the pass pauses after every block
//! (about a tenth of the work each) and between tiles, and images larger than one tile are cut
//! ([`Tiling`]) so that memory stays bounded whatever the image size. The tiles sample on the
//! whole image's grid, so the mask is the one the whole image would give (and the CLI's). On
//! WebGPU the device works asynchronously anyway; images too large for its buffers go to the CPU
//! (see [`super::Engine`]).

use burn::tensor::Device;
use unet::{Checkpoint, CpuUNet, InferenceError, Logits, Tiling, UNet};
use unet_imaging::Planes;

use crate::platform::yield_now;

/// A checkpoint's network on one device.
pub enum Net {
    /// BatchNorm folded, im2col + gemm (`crates/unet/src/cpu`).
    Cpu(Box<CpuUNet>),
    /// burn's module on a GPU device.
    Gpu(Box<UNet>, Device),
}

impl Net {
    /// Builds the network for `device`: the folded network for the CPU, burn's module otherwise.
    pub fn build(checkpoint: &Checkpoint, device: &Device) -> Result<Self, String> {
        if *device == unet::inference::cpu_device() {
            let net = CpuUNet::from_tensors(checkpoint.config, &checkpoint.tensors)
                .map_err(|e| e.to_string())?;
            return Ok(Net::Cpu(Box::new(net)));
        }
        let net = checkpoint.build(device).map_err(|e| e.to_string())?;
        Ok(Net::Gpu(Box::new(net), device.clone()))
    }

    /// Whether this runs on the CPU.
    pub fn is_cpu(&self) -> bool {
        matches!(self, Net::Cpu(_))
    }

    /// The logits of `planes`, read back asynchronously.
    pub async fn logits(&self, planes: &Planes) -> Result<Logits, InferenceError> {
        let (c, h, w) = (planes.channels, planes.height, planes.width);
        match self {
            Net::Gpu(net, device) => {
                unet::inference::predict_async(net, &planes.data, c, h, w, device).await
            }
            Net::Cpu(net) => {
                let tiling = Tiling::default();
                if !tiling.cuts(h, w) {
                    let frame = unet::tiles::Frame::whole(h, w);
                    return net
                        .predict_pausing(&planes.data, c, frame, h, w, yield_now)
                        .await;
                }
                let mut out = None;
                for tile in tiling.tiles(h, w) {
                    let part = tile.cut(&planes.data, c);
                    let logits = net
                        .predict_pausing(
                            &part,
                            c,
                            tile.frame,
                            tile.height(),
                            tile.width(),
                            yield_now,
                        )
                        .await?;
                    tile.paste(&logits, &mut out);
                }
                out.ok_or_else(|| InferenceError::Device("an image without tiles".into()))
            }
        }
    }
}
