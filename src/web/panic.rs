//! The last line of defence: a panic must not leave a silently dead page.
//!
//! With `panic = "abort"` a panic ends the wasm instance, so the UI cannot react any more.
//! The hook logs it to the console and rewrites the status element directly in the DOM so the
//! user (and tests) see an error state instead of a spinner that never stops.

/// Installs the hook once, before anything else runs.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if let Ok(Some(status)) = document.query_selector("[data-testid=status]") {
            let _ = status.set_attribute("data-state", "error");
            status.set_text_content(Some(&format!(
                "Internal error — please reload the page. ({info})"
            )));
        }
    }));
}
