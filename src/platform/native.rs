//! Native stand-ins: a monotonic clock and a no-op yield (nothing else shares the thread).

use std::sync::OnceLock;
use std::time::Instant;

/// Milliseconds since the first call, monotonic.
pub fn now_ms() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// Returns at once: natively there is no event loop to feed.
pub async fn yield_now() {}
