//! Browser clock and yield.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// `performance.now()` of the page or of the engine's worker: sub-millisecond and monotonic;
/// 0 where there is none (timings are only displayed).
pub fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Seconds since 1970 (UTC), from `Date.now()`.
pub fn unix_seconds() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// Resolves on a fresh macrotask (`setTimeout(0)`), so the browser can paint and handle input
/// between steps; a resolved promise alone would only queue a microtask and never let it paint.
/// In the engine's worker (no window) it returns at once: nothing there needs the time, and
/// `setTimeout`'s clamping to 4 ms would only slow inference down.
pub async fn yield_now() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        // If scheduling fails we resolve at once rather than hang the caller.
        if window
            .set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), 0)
            .is_err()
        {
            let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }
    });
    let _ = JsFuture::from(promise).await;
}
