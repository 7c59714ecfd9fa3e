//! Aborts on any single allocation above [`LIMIT`], like libFuzzer's `-malloc_limit_mb` under
//! AddressSanitizer, so the targets also catch oversized reservations when built with
//! `--sanitizer none` (faster). A `try_reserve` that succeeds is as real an allocation in
//! wasm32 (linear memory grows) as a filled one, even though it would not raise the RSS here.

use std::alloc::{GlobalAlloc, Layout, System};

/// The same as the `-rss_limit_mb=2048` the README's commands pass.
pub const LIMIT: usize = 2048 << 20;

pub struct Limited;

unsafe impl GlobalAlloc for Limited {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

fn check(size: usize) {
    if size > LIMIT {
        // A fixed message and the stack, then abort, which libFuzzer reports as a crash and
        // saves the input.
        use std::io::Write;
        let _ = std::io::stderr().write_all(b"==alloc_limit== single allocation above 2048 MiB\n");
        // Small allocations only, so no recursion into this branch.
        eprintln!("{}", std::backtrace::Backtrace::force_capture());
        std::process::abort();
    }
}

#[global_allocator]
static GLOBAL: Limited = Limited;
