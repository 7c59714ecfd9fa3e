//! Asking the browser for a WebGPU adapter before burn does, so the page can say which GPU it
//! got, or precisely why there is none.
//!
//! Read through `js_sys::Reflect` because web-sys's WebGPU bindings need the
//! `web_sys_unstable_apis` cfg, i.e. custom RUSTFLAGS for every build.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::js_error;
use crate::engine::AdapterProbe;

fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// The adapter's description and buffer limit, or why WebGPU cannot be used here.
pub async fn probe() -> Result<AdapterProbe, String> {
    let window = web_sys::window().ok_or("no browser window")?;
    let gpu = get(&window.navigator(), "gpu").ok_or(
        "this browser does not offer WebGPU (navigator.gpu is missing; it needs a recent \
         Chrome, Edge or Safari and a secure https:// or localhost page)",
    )?;
    let request = get(&gpu, "requestAdapter")
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or("navigator.gpu.requestAdapter is missing")?;
    let promise: Promise = request
        .call0(&gpu)
        .map_err(|e| js_error(&e))?
        .dyn_into()
        .map_err(|_| "requestAdapter did not return a promise".to_string())?;
    let adapter = JsFuture::from(promise)
        .await
        .map_err(|e| format!("requestAdapter failed: {}", js_error(&e)))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("WebGPU is present but offers no adapter (GPU blocked or unsupported)".into());
    }
    Ok(AdapterProbe {
        description: describe(&adapter),
        max_buffer_bytes: max_buffer_bytes(&adapter),
    })
}

/// The smaller of `maxBufferSize` and `maxStorageBufferBindingSize` (burn asks for the
/// adapter's own limits, so these are what the device will enforce).
fn max_buffer_bytes(adapter: &JsValue) -> Option<u64> {
    let limits = get(adapter, "limits")?;
    let limit = |key: &str| get(&limits, key).and_then(|v| v.as_f64());
    match (limit("maxBufferSize"), limit("maxStorageBufferBindingSize")) {
        (Some(a), Some(b)) => Some(a.min(b) as u64),
        (a, b) => a.or(b).map(|v| v as u64),
    }
}

/// "vendor architecture description", plus a note for software (fallback) adapters.
fn describe(adapter: &JsValue) -> String {
    let info = get(adapter, "info");
    let field = |key: &str| {
        info.as_ref()
            .and_then(|i| get(i, key))
            .and_then(|v| v.as_string())
            .filter(|s| !s.is_empty())
    };
    let mut parts: Vec<String> = ["vendor", "architecture", "device", "description"]
        .iter()
        .filter_map(|k| field(k))
        .collect();
    parts.dedup();
    let fallback = info
        .as_ref()
        .and_then(|i| get(i, "isFallbackAdapter"))
        .or_else(|| get(adapter, "isFallbackAdapter"))
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let mut text = if parts.is_empty() {
        "unnamed adapter".to_string()
    } else {
        parts.join(" ")
    };
    if fallback {
        text.push_str(" (software fallback adapter: slow)");
    }
    text
}
