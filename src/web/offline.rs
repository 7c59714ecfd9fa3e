//! Keeping the app for offline use: registering the service worker (`sw.js`, written into the
//! build by scripts/pwa.py from src/web/pwa/sw.js), which stores every file of the build and
//! makes the page cross-origin isolated on later visits.
//!
//! Called once the first model works, so that storing the app (the wasm and the models a
//! second time) never competes with the first mask.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::js_error;

const WORKER: &str = "sw.js";

fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let function: Function = get(target, method)
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| format!("{method} is missing"))?;
    let args: js_sys::Array = args.iter().collect();
    let promise: Promise = function
        .apply(target, &args)
        .map_err(|e| js_error(&e))?
        .dyn_into()
        .map_err(|_| format!("{method} did not return a promise"))?;
    JsFuture::from(promise).await.map_err(|e| js_error(&e))
}

/// Registers the service worker and waits until it is active, i.e. until every file of the
/// app is stored; `Err` says why the app cannot work offline here.
pub async fn keep() -> Result<(), String> {
    let window = web_sys::window().ok_or("no browser window")?;
    let container = get(&window.navigator(), "serviceWorker").ok_or(
        "this browser offers no service workers here (they need https:// or localhost, and \
         private windows may block them)",
    )?;
    call(&container, "register", &[JsValue::from_str(WORKER)])
        .await
        .map_err(|e| format!("the offline copy could not be made ({e})"))?;
    // `ready` resolves once a worker is active, i.e. after its install stored every file.
    let ready = get(&container, "ready")
        .and_then(|p| p.dyn_into::<Promise>().ok())
        .ok_or("serviceWorker.ready is missing")?;
    JsFuture::from(ready)
        .await
        .map(|_| ())
        .map_err(|e| format!("the offline copy could not be made ({})", js_error(&e)))
}
