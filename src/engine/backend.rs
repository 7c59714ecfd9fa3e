//! Choosing where the model runs: burn's Wgpu backend on WebGPU when the browser has it,
//! the CPU otherwise (the folded network of `unet::cpu`) — and saying which, and why.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::ThreadsInfo;

/// Which of the two backends is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendKind {
    /// burn's Wgpu backend on the browser's WebGPU.
    WebGpu,
    /// The CPU: the folded network (`unet::cpu`; in wasm: SIMD128, on wasm threads where the
    /// page allows them, see [`super::threads`]).
    Cpu,
}

/// The backend in use, as shown to the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// WebGPU or CPU.
    pub kind: BackendKind,
    /// The GPU adapter's description, when on WebGPU.
    pub adapter: String,
    /// Why the CPU is used, when it is.
    pub fallback_reason: Option<String>,
    /// The largest GPU buffer the adapter allows, when on WebGPU and known.
    pub max_buffer_bytes: Option<u64>,
    /// The CPU path's threads, once it has run (or is the backend).
    #[serde(default)]
    pub threads: Option<ThreadsInfo>,
}

/// What the browser said about its WebGPU adapter before burn opened it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterProbe {
    /// Vendor, architecture and description, for the page.
    pub description: String,
    /// `min(maxBufferSize, maxStorageBufferBindingSize)`, when the browser reports them.
    pub max_buffer_bytes: Option<u64>,
}

impl BackendInfo {
    /// The CPU backend, chosen because of `reason`.
    pub fn cpu(reason: impl Into<String>) -> Self {
        Self {
            kind: BackendKind::Cpu,
            adapter: String::new(),
            fallback_reason: Some(reason.into()),
            max_buffer_bytes: None,
            threads: None,
        }
    }

    /// One line for the page: contains `WebGPU` or `CPU` (tests look for these words).
    pub fn label(&self) -> String {
        match self.kind {
            BackendKind::WebGpu if self.adapter.is_empty() => "WebGPU".into(),
            BackendKind::WebGpu => format!("WebGPU · {}", self.adapter),
            BackendKind::Cpu => match &self.fallback_reason {
                Some(reason) => format!("CPU (fallback: {reason})"),
                None => "CPU".into(),
            },
        }
    }
}

/// Opens the Wgpu device, or the CPU when `webgpu` says there is no usable GPU or the
/// device cannot be created. `webgpu` is the adapter as probed, or why WebGPU is missing.
pub async fn open(webgpu: Result<AdapterProbe, String>) -> (Device, BackendInfo) {
    let probe = match webgpu {
        Ok(probe) => probe,
        Err(reason) => return (unet::inference::cpu_device(), BackendInfo::cpu(reason)),
    };
    match unet::inference::wgpu_device_async().await {
        Ok(device) => (
            device,
            BackendInfo {
                kind: BackendKind::WebGpu,
                adapter: probe.description,
                fallback_reason: None,
                max_buffer_bytes: probe.max_buffer_bytes,
                threads: None,
            },
        ),
        Err(e) => (
            unet::inference::cpu_device(),
            BackendInfo::cpu(format!("WebGPU could not be initialised: {e}")),
        ),
    }
}
