//! Choosing the compute device from `--device`.

use anyhow::anyhow;
use burn::tensor::Device;
use clap::ValueEnum;
use unet::inference::cpu_device;

/// Where the model runs.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum DeviceChoice {
    /// burn's pure-Rust CPU backend (flex).
    Cpu,
    /// burn's Wgpu backend (Vulkan, Metal or DX12; Mesa's lavapipe on a CPU-only machine).
    Wgpu,
}

/// Initialises the chosen device, or says why it is unavailable.
pub fn open(choice: DeviceChoice) -> anyhow::Result<Device> {
    match choice {
        DeviceChoice::Cpu => Ok(cpu_device()),
        #[cfg(feature = "wgpu")]
        DeviceChoice::Wgpu => unet::inference::wgpu_device().map_err(|e| {
            anyhow!("no Wgpu adapter ({e}); on a machine without a GPU install Mesa's Vulkan drivers (apt-get install mesa-vulkan-drivers) or use --device cpu")
        }),
        #[cfg(not(feature = "wgpu"))]
        DeviceChoice::Wgpu => Err(anyhow!("this build of unet has no Wgpu support; use --device cpu")),
    }
}
