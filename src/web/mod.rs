//! Browser glue the UI needs and the engine must not know about: fetching assets, reading
//! dropped files, saving downloads, probing WebGPU, reporting panics. Compiled only for wasm32.

pub mod bench;
pub mod download;
pub mod fetch;
pub mod files;
pub mod gpu;
pub mod offline;
pub mod panic;

use wasm_bindgen::JsValue;

/// A JS exception as one line of text (its `message` when it has one).
pub fn js_error(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        return text;
    }
    js_sys::Reflect::get(value, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

/// The page's query parameter `key`, e.g. `backend` in `?backend=cpu`.
pub fn query_param(key: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}
