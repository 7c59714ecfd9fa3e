//! The browser benchmark's entry point (`scripts/bench/browser.sh`): a JS-callable export that
//! times the app's forward pass on the backend asked for. Trunk's loader puts the exports on
//! `window.wasmBindings`, so the benchmark calls `wasmBindings.bench_forward(...)` once the
//! page has started; the app itself never calls it.

use wasm_bindgen::prelude::*;

use super::gpu;
use crate::engine::{backend, bench, BackendKind};

/// Times `runs` forward passes (after one warm-up) of the checkpoint `model` on a fixed
/// `height`×`width` input, on `"webgpu"` or `"cpu"`. Resolves to
/// `{backend, adapter, n_channels, ..., load_ms, warmup_ms, times_ms: [...]}`; rejects with a
/// message when the backend cannot be opened or the model cannot run.
///
/// burn opens the WebGPU runtime once per page, so for `"webgpu"` load the page with
/// `?backend=cpu`: the app then leaves WebGPU to this call.
#[wasm_bindgen]
pub async fn bench_forward(
    model: Vec<u8>,
    height: usize,
    width: usize,
    runs: usize,
    backend_name: String,
) -> Result<JsValue, JsValue> {
    let (device, info) = match backend_name.as_str() {
        "cpu" => (
            unet::inference::cpu_device(),
            backend::BackendInfo::cpu("asked for by the benchmark"),
        ),
        "webgpu" => {
            let (device, info) = backend::open(gpu::probe().await).await;
            if info.kind != BackendKind::WebGpu {
                return Err(JsValue::from_str(&format!(
                    "WebGPU is not available: {}",
                    info.fallback_reason.unwrap_or_default()
                )));
            }
            (device, info)
        }
        other => {
            return Err(JsValue::from_str(&format!(
                "unknown backend {other:?}: use \"webgpu\" or \"cpu\""
            )))
        }
    };
    let times = bench::time_forward(&model, "benchmark model", &device, height, width, runs)
        .await
        .map_err(|e| JsValue::from_str(&e))?;
    let mut report = serde_json::to_value(&times).map_err(|e| JsValue::from_str(&e.to_string()))?;
    report["backend"] = backend_name.into();
    report["adapter"] = info.adapter.into();
    js_sys::JSON::parse(&report.to_string())
}
