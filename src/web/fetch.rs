//! Fetching the page's own assets (manifests, models, samples) with progress.
//!
//! URLs are relative, so they resolve against the document: the build works from any subpath.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Response};

use super::js_error;

async fn response(url: &str) -> Result<Response, String> {
    let window = web_sys::window().ok_or("no browser window")?;
    let response: Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{url}: {}", js_error(&e)))?
        .dyn_into()
        .map_err(|_| format!("{url}: not a fetch response"))?;
    if !response.ok() {
        return Err(format!(
            "{url}: HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    Ok(response)
}

/// The body of `url` as bytes; `progress(loaded, total)` is called after each chunk
/// (`total` from Content-Length, when the server sends it).
pub async fn bytes(url: &str, progress: impl Fn(u64, Option<u64>)) -> Result<Vec<u8>, String> {
    let response = response(url).await?;
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok());
    let Some(body) = response.body() else {
        let buffer = JsFuture::from(response.array_buffer().map_err(|e| js_error(&e))?)
            .await
            .map_err(|e| format!("{url}: {}", js_error(&e)))?;
        return Ok(Uint8Array::new(&buffer).to_vec());
    };
    let reader: ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("{url}: cannot read the response body"))?;
    let mut out = Vec::with_capacity(total.unwrap_or(0).min(1 << 30) as usize);
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("{url}: download interrupted: {}", js_error(&e)))?;
        let done = Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        if let Ok(value) = Reflect::get(&chunk, &JsValue::from_str("value")) {
            out.extend_from_slice(&Uint8Array::new(&value).to_vec());
        }
        progress(out.len() as u64, total);
    }
    Ok(out)
}

/// The body of `url` as text.
pub async fn text(url: &str) -> Result<String, String> {
    let bytes = bytes(url, |_, _| {}).await?;
    String::from_utf8(bytes).map_err(|_| format!("{url}: not UTF-8 text"))
}
