//! What the convolutions share: the call into the `gemm` crate (the kernels burn's `flex` backend
//! uses too), each thread's scratch space, and how work is split over rayon's threads.

use gemm::{gemm, Parallelism};
use rayon::prelude::*;

/// A raw pointer that rayon tasks may share; every task writes a disjoint part of the buffer.
#[derive(Clone, Copy)]
pub(super) struct SharedMut(pub(super) *mut f32);
// SAFETY: the callers hand each task a disjoint range of the allocation behind the pointer.
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

impl SharedMut {
    // A method, not the field: closures then capture the whole (Send + Sync) wrapper.
    pub(super) fn get(self) -> *mut f32 {
        self.0
    }
}

// About 4 MB of im2col matrix per band: big enough for gemm's blocking, small enough that each
// thread's band stays in its cache hierarchy and memory stays bounded on huge images.
pub(super) const BAND_VALUES: usize = 1 << 20;
// Below this many output pixels one band with gemm's own threading beats several small bands,
// which would each repack the (then large) weight matrix.
pub(super) const SMALL_MAP: usize = 4096;

thread_local! {
    // Each thread's im2col matrix, kept between bands and layers: allocating and zeroing it
    // afresh cost as much memory traffic as filling it.
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on `len` values of this thread's scratch space (a fresh buffer if it is in use).
pub(super) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut buffer) => {
            if buffer.len() < len {
                buffer.resize(len, 0.0);
            }
            f(&mut buffer[..len])
        }
        Err(_) => f(&mut vec![0.0; len]),
    })
}

pub(super) fn threads() -> usize {
    rayon::current_num_threads().max(1)
}

/// `dst[m × n] = lhs[m × k] · rhs[k × n]`, all row-major except that `dst`'s rows are
/// `dst_stride` apart and `lhs` is read through the given strides.
///
/// # Safety
///
/// `dst` must be valid for writes of `m` rows of `n` values, `dst_stride` apart; `lhs` for reads
/// of `m × k` values at the given strides; `rhs` must hold `k · n` values.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_stride: usize,
    lhs: *const f32,
    lhs_row_stride: usize,
    lhs_col_stride: usize,
    rhs: &[f32],
    parallelism: Parallelism,
) {
    // A real check: gemm reads `rhs` through a raw pointer.
    assert!(
        rhs.len() >= k * n,
        "matmul: rhs holds {} values, needs {k}×{n}",
        rhs.len()
    );
    gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_stride as isize,
        false,
        lhs,
        lhs_col_stride as isize,
        lhs_row_stride as isize,
        rhs.as_ptr(),
        1,
        n as isize,
        0.0,
        1.0,
        false,
        false,
        false,
        parallelism,
    );
}

/// gemm's own threading for one product that is not split into bands.
pub(super) fn gemm_parallelism() -> Parallelism {
    match threads() {
        1 => Parallelism::None,
        n => Parallelism::Rayon(n),
    }
}

/// Splits `0..len` into bands of `size` and runs `run(start, end)` on each: the bands in parallel,
/// each single-threaded, when there are several and several threads; otherwise one after the
/// other, each with gemm's own threads.
pub(super) fn run_bands(len: usize, size: usize, run: impl Fn((usize, usize), Parallelism) + Sync) {
    let size = size.max(1);
    let bands: Vec<(usize, usize)> = (0..len)
        .step_by(size)
        .map(|start| (start, (start + size).min(len)))
        .collect();
    if bands.len() > 1 && threads() > 1 {
        bands
            .par_iter()
            .for_each(|&band| run(band, Parallelism::None));
    } else {
        let parallelism = gemm_parallelism();
        bands.into_iter().for_each(|band| run(band, parallelism));
    }
}
