//! A one-line progress bar on stderr, redrawn in place when stderr is a terminal and printed
//! every tenth of an epoch otherwise (so CI logs and `tee` stay readable).

use std::io::{IsTerminal, Write};
use std::time::Instant;

/// Progress through one epoch.
pub struct Bar {
    epoch: usize,
    epochs: usize,
    total: usize,
    start: Instant,
    tty: bool,
    last_printed: usize,
}

impl Bar {
    /// A bar for `total` steps of epoch `epoch` (1-based) of `epochs`.
    pub fn new(epoch: usize, epochs: usize, total: usize) -> Bar {
        Bar {
            epoch,
            epochs,
            total,
            start: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            last_printed: 0,
        }
    }

    /// Records that `done` steps are finished, with the running mean loss.
    pub fn update(&mut self, done: usize, loss: f32) {
        let tenth = (self.total / 10).max(1);
        if !self.tty && done < self.total && done - self.last_printed < tenth {
            return;
        }
        self.last_printed = done;
        let secs = self.start.elapsed().as_secs_f32();
        let per_step = secs / done.max(1) as f32;
        let eta = per_step * (self.total - done) as f32;
        let width = 24;
        let filled = width * done / self.total.max(1);
        let line = format!(
            "epoch {}/{} [{}{}] {done}/{} loss {loss:.4} {per_step:.2} s/step eta {}",
            self.epoch,
            self.epochs,
            "#".repeat(filled),
            "-".repeat(width - filled),
            self.total,
            clock(eta),
        );
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r{line}\x1b[K");
            if done == self.total {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{line}");
        }
    }
}

/// `1h02m`, `3m20s` or `12s`.
pub fn clock(seconds: f32) -> String {
    let s = seconds.max(0.0).round() as u64;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}
