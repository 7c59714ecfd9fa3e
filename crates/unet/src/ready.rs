//! Running an async path synchronously where nothing in it really waits.

use std::future::Future;
use std::task::{Context, Poll, Waker};

/// Finishes a future whose every await is ready at once (a synchronous call through an async
/// path: the pauses of a native run, the CPU backend natively).
///
/// # Panics
///
/// If the future waits: that is a caller's error (a real wait on a thread that cannot wait).
pub fn finish_ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("finish_ready: the future waited; await it instead"),
    }
}
