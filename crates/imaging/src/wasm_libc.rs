//! The C library functions that `openjp2` (a C-to-Rust port of OpenJPEG, the JPEG 2000 codec
//! of the DICOM reader) calls: `malloc`, `calloc`, `realloc`, `free` and `strcpy`.
//! `wasm32-unknown-unknown` has no libc, so without these the linker leaves them as imports
//! from a module "env" that no browser provides, and the page fails before it starts
//! ("Failed to resolve module specifier \"env\""). Backed by Rust's allocator; the size lives
//! in a header in front of each block because `free` is not told it.

use std::alloc::{alloc, alloc_zeroed, dealloc, realloc as grow, Layout};
use std::ffi::c_char;
use std::ptr::null_mut;

/// Bytes in front of each block: the size, padded to malloc's 16-byte alignment promise.
const HEADER: usize = 16;

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(HEADER)?, HEADER).ok()
}

unsafe fn allocate(size: usize, zeroed: bool) -> *mut u8 {
    let Some(layout) = layout(size) else {
        return null_mut();
    };
    let base = if zeroed {
        alloc_zeroed(layout)
    } else {
        alloc(layout)
    };
    if base.is_null() {
        return base;
    }
    (base as *mut usize).write(size);
    base.add(HEADER)
}

/// C `malloc`.
///
/// # Safety
/// As in C: the block is released with [`free`] only.
#[no_mangle]
pub unsafe extern "C" fn malloc(size: usize) -> *mut u8 {
    allocate(size, false)
}

/// C `calloc`.
///
/// # Safety
/// As in C.
#[no_mangle]
pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut u8 {
    match count.checked_mul(size) {
        Some(total) => allocate(total, true),
        None => null_mut(),
    }
}

/// C `free`.
///
/// # Safety
/// `ptr` is null or came from [`malloc`], [`calloc`] or [`realloc`] and was not freed.
#[no_mangle]
pub unsafe extern "C" fn free(ptr: *mut u8) {
    if ptr.is_null() {
        return;
    }
    let base = ptr.sub(HEADER);
    let size = (base as *const usize).read();
    dealloc(
        base,
        Layout::from_size_align_unchecked(size + HEADER, HEADER),
    );
}

/// C `realloc`.
///
/// # Safety
/// As [`free`] for `ptr`.
#[no_mangle]
pub unsafe extern "C" fn realloc(ptr: *mut u8, size: usize) -> *mut u8 {
    if ptr.is_null() {
        return malloc(size);
    }
    let Some(new_layout) = layout(size) else {
        return null_mut();
    };
    let base = ptr.sub(HEADER);
    let old = (base as *const usize).read();
    let old_layout = Layout::from_size_align_unchecked(old + HEADER, HEADER);
    let moved = grow(base, old_layout, new_layout.size());
    if moved.is_null() {
        return moved;
    }
    (moved as *mut usize).write(size);
    moved.add(HEADER)
}

/// C `strcpy`.
///
/// # Safety
/// `src` is NUL-terminated and `dst` has room for it.
#[no_mangle]
pub unsafe extern "C" fn strcpy(dst: *mut c_char, src: *const c_char) -> *mut c_char {
    let mut i = 0;
    loop {
        let c = *src.add(i);
        *dst.add(i) = c;
        if c == 0 {
            return dst;
        }
        i += 1;
    }
}
