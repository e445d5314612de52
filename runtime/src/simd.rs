//! Dense-layer kernels and fast activations on slices, with the widest
//! instructions the CPU has chosen at run time.
//!
//! The default `x86_64` target compiles for SSE2 only, whatever the CPU the
//! program runs on. The kernels here are each written once, as a plain loop
//! over slices that the compiler vectorises, and compiled twice on `x86_64`:
//! for the build's target (the *baseline*, the functions of [`baseline`]) and
//! inside a `#[target_feature(enable = "avx2,fma")]` function. The functions
//! at the top of this module check once whether the CPU has AVX2 and FMA
//! ([`has_avx2_fma`], cached after the first call) and run the AVX2 version
//! if it does, the baseline otherwise.
//!
//! | path | when | vectors |
//! |---|---|---|
//! | AVX2 | `x86_64`, feature `std`, the CPU has AVX2 and FMA, and enough work (below) | 256-bit |
//! | baseline | otherwise | those of the build's target (128-bit SSE2 on the default `x86_64` target) |
//!
//! Without the `std` feature there is no run-time detection (it needs the
//! operating system): the baseline runs, compiled for the build's target,
//! so a build with `-C target-cpu=native` or `-C target-feature=+avx2,+fma`
//! still gets AVX2. Small calls skip the dispatch and run the baseline,
//! where the call and the check would cost more than the wider vectors
//! save: fewer than 32 multiply-adds (`w.len()` or `g.len()` for the
//! matrix kernels, the length for `axpy`), and activations of fewer than
//! 16 elements.
//!
//! The kernels take their sizes at run time. For a layer of a few rows
//! (say, 10 outputs), nalgebra's code for statically sized matrices,
//! unrolled for exactly that size, is faster even than the AVX2 path; with
//! a hundred rows these are faster, the AVX2 path by about 1.5 to 2 times.
//!
//! Both paths give the same bits. Rust never contracts `a * b + c` into a
//! fused multiply-add, not even where the `fma` feature is enabled (the
//! AVX2 path is compiled for both, as Intel's and AMD's CPUs with AVX2 all
//! have FMA, but it uses no fused instruction), and the compiler may not reorder floating-point sums, so the vector width
//! changes how many elements are computed per instruction, never the
//! order of the arithmetic of each one. The sums are ordered as the source
//! writes them: the matrix-vector product adds four columns at a time, and
//! the dot products of [`gemv_t_f32`] keep 16 partial sums for columns of
//! at least 64 elements, 8 for shorter ones (8 and 4 for `f64`, from 16
//! elements on), and add them up pairwise at the end. Against a sum in
//! another order (nalgebra's, or a naive loop) results differ in the last
//! bits.
//!
//! Matrices are column-major slices, as nalgebra stores them: the `out ×
//! in` weight matrix of a dense layer has column `j`, the weights from input
//! `j`, at `w[j * out..(j + 1) * out]`. Every function panics when the
//! lengths do not fit together.
//!
//! ```
//! use staticnet::simd::{axpy_f32, gemv_f32, gemv_t_f32, ger_f32};
//!
//! // W = [1 2 3; 4 5 6] (2 × 3), stored column by column
//! let w = [1.0_f32, 4.0, 2.0, 5.0, 3.0, 6.0];
//! let mut z = [0.5_f32, 0.0];
//! gemv_f32(&w, &[1.0, 1.0, 1.0], &mut z); // z += W a
//! assert_eq!(z, [6.5, 15.0]);
//!
//! let mut back = [0.0_f32; 3];
//! gemv_t_f32(&w, &[1.0, -1.0], &mut back); // back = Wᵀ δ
//! assert_eq!(back, [-3.0, -3.0, -3.0]);
//!
//! let mut g = [0.0_f32; 6];
//! ger_f32(&[1.0, 2.0], &[1.0, 0.0, -1.0], &mut g); // G += δ aᵀ
//! assert_eq!(g, [1.0, 2.0, 0.0, 0.0, -1.0, -2.0]);
//!
//! let mut p = [1.0_f32, 1.0];
//! axpy_f32(-0.5, &[2.0, 4.0], &mut p); // the SGD step p -= 0.5 g
//! assert_eq!(p, [0.0, -1.0]);
//! ```

use crate::fastmath;

/// Below this many multiply-adds a matrix kernel or `axpy` runs the
/// baseline without asking which path to take: the call and the check cost
/// more than the wider vectors save.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const MIN_MULTIPLY_ADDS: usize = 32;

/// Below this many elements an activation runs the baseline without asking.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const MIN_ACTIVATIONS: usize = 16;

/// Whether the kernels of this module run compiled for AVX2 and FMA (the
/// calls large enough to be dispatched): on `x86_64` with the `std`
/// feature, whether the CPU has both (detected at the first call, then
/// cached); without `std` or on another architecture, whether the build's
/// target already enables both (so `false` on the default targets, and
/// `true` without `std` only for a build with `-C target-cpu` or
/// `-C target-feature` that has them).
///
/// ```
/// let wide = staticnet::simd::has_avx2_fma();
/// // the answer does not change during a run
/// assert_eq!(wide, staticnet::simd::has_avx2_fma());
/// # #[cfg(not(target_arch = "x86_64"))]
/// # assert!(!wide);
/// ```
#[inline]
#[must_use]
pub fn has_avx2_fma() -> bool {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        detect::avx2_fma()
    }
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        cfg!(all(
            target_arch = "x86_64",
            target_feature = "avx2",
            target_feature = "fma"
        ))
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod detect {
    use core::sync::atomic::{AtomicU8, Ordering};

    const UNKNOWN: u8 = 0;
    const NO: u8 = 1;
    const YES: u8 = 2;

    /// What the detection found: `UNKNOWN` before the first call.
    static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

    /// Whether the CPU has AVX2 and FMA, asked once.
    #[inline]
    pub(super) fn avx2_fma() -> bool {
        match STATE.load(Ordering::Relaxed) {
            YES => true,
            NO => false,
            _ => first(),
        }
    }

    /// The first call: ask the CPU (any thread may, they all find the same).
    #[cold]
    fn first() -> bool {
        let yes = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        STATE.store(if yes { YES } else { NO }, Ordering::Relaxed);
        yes
    }
}

/// Runs `$avx2` (a function of the module `avx2`) when the work is large
/// enough and the CPU has AVX2 and FMA, `$baseline` otherwise.
macro_rules! dispatch {
    ($work:expr, $min:ident, $avx2:ident, $baseline:path, ($($arg:expr),*)) => {{
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if $work >= $min && has_avx2_fma() {
            // SAFETY: the function is safe but for its target features,
            // and `has_avx2_fma` has just found that this CPU has both
            // (AVX2 and FMA).
            return unsafe { avx2::$avx2($($arg),*) };
        }
        $baseline($($arg),*)
    }};
}

/// `z += W a` for `f32`, with `W` column-major `z.len() × a.len()`.
///
/// # Panics
///
/// If `w.len() != z.len() * a.len()`.
///
/// ```
/// use staticnet::simd::gemv_f32;
///
/// // W = [1 0 2; 0 1 3], columns (1, 0), (0, 1), (2, 3)
/// let w = [1.0_f32, 0.0, 0.0, 1.0, 2.0, 3.0];
/// let mut z = [1.0_f32, 1.0];
/// gemv_f32(&w, &[1.0, 2.0, 3.0], &mut z);
/// assert_eq!(z, [8.0, 12.0]);
/// ```
pub fn gemv_f32(w: &[f32], a: &[f32], z: &mut [f32]) {
    dispatch!(
        w.len(),
        MIN_MULTIPLY_ADDS,
        gemv_f32,
        baseline::gemv_f32,
        (w, a, z)
    )
}

/// `back = Wᵀ δ` for `f32` (overwriting `back`), with `W` column-major
/// `delta.len() × back.len()`: the delta that a dense layer passes back.
///
/// # Panics
///
/// If `w.len() != delta.len() * back.len()`.
///
/// ```
/// use staticnet::simd::gemv_t_f32;
///
/// // W = [1 0 2; 0 1 3]
/// let w = [1.0_f32, 0.0, 0.0, 1.0, 2.0, 3.0];
/// let mut back = [9.0_f32; 3];
/// gemv_t_f32(&w, &[1.0, -1.0], &mut back);
/// assert_eq!(back, [1.0, -1.0, -1.0]);
/// ```
pub fn gemv_t_f32(w: &[f32], delta: &[f32], back: &mut [f32]) {
    dispatch!(
        w.len(),
        MIN_MULTIPLY_ADDS,
        gemv_t_f32,
        baseline::gemv_t_f32,
        (w, delta, back)
    )
}

/// `G += δ aᵀ` for `f32`, with `G` column-major `delta.len() × a.len()`:
/// the weight gradient of a dense layer for one sample.
///
/// # Panics
///
/// If `g.len() != delta.len() * a.len()`.
///
/// ```
/// use staticnet::simd::ger_f32;
///
/// let mut g = [1.0_f32; 4];
/// ger_f32(&[1.0, 2.0], &[3.0, -1.0], &mut g);
/// // columns δ a₀ and δ a₁, added
/// assert_eq!(g, [4.0, 7.0, 0.0, -1.0]);
/// ```
pub fn ger_f32(delta: &[f32], a: &[f32], g: &mut [f32]) {
    dispatch!(
        g.len(),
        MIN_MULTIPLY_ADDS,
        ger_f32,
        baseline::ger_f32,
        (delta, a, g)
    )
}

/// `y += alpha x` for `f32`; with `alpha = -lr` it is the plain SGD step
/// `p -= lr g` (to the same bits).
///
/// # Panics
///
/// If `x.len() != y.len()`.
///
/// ```
/// use staticnet::simd::axpy_f32;
///
/// let mut y = [1.0_f32, 2.0, 3.0];
/// axpy_f32(2.0, &[1.0, 0.5, -1.0], &mut y);
/// assert_eq!(y, [3.0, 3.0, 1.0]);
/// ```
pub fn axpy_f32(alpha: f32, x: &[f32], y: &mut [f32]) {
    dispatch!(
        y.len(),
        MIN_MULTIPLY_ADDS,
        axpy_f32,
        baseline::axpy_f32,
        (alpha, x, y)
    )
}

/// `y += alpha x` through [`axpy_f32`] or [`axpy_f64`] when `T` is `f32` or
/// `f64`, saying whether it did; other scalars are left to the caller.
/// (The optimizers, which need std, are its only users.)
#[cfg(feature = "std")]
pub(crate) fn axpy_scalar<T: crate::Scalar>(alpha: T, x: &[T], y: &mut [T]) -> bool {
    use core::any::TypeId;
    let id = TypeId::of::<T>();
    if id == TypeId::of::<f32>() {
        // SAFETY: `T` is `f32` by its `TypeId`: the casts keep element type,
        // length and alignment, and the borrows are unchanged.
        unsafe {
            axpy_f32(
                *(&alpha as *const T).cast::<f32>(),
                core::slice::from_raw_parts(x.as_ptr().cast(), x.len()),
                core::slice::from_raw_parts_mut(y.as_mut_ptr().cast(), y.len()),
            );
        }
        true
    } else if id == TypeId::of::<f64>() {
        // SAFETY: as above, with `f64`.
        unsafe {
            axpy_f64(
                *(&alpha as *const T).cast::<f64>(),
                core::slice::from_raw_parts(x.as_ptr().cast(), x.len()),
                core::slice::from_raw_parts_mut(y.as_mut_ptr().cast(), y.len()),
            );
        }
        true
    } else {
        false
    }
}

/// `z += W a` for `f64`, with `W` column-major `z.len() × a.len()`.
///
/// # Panics
///
/// If `w.len() != z.len() * a.len()`.
///
/// ```
/// use staticnet::simd::gemv_f64;
///
/// // W = [1 0 2; 0 1 3]
/// let w = [1.0_f64, 0.0, 0.0, 1.0, 2.0, 3.0];
/// let mut z = [1.0_f64, 1.0];
/// gemv_f64(&w, &[1.0, 2.0, 3.0], &mut z);
/// assert_eq!(z, [8.0, 12.0]);
/// ```
pub fn gemv_f64(w: &[f64], a: &[f64], z: &mut [f64]) {
    dispatch!(
        w.len(),
        MIN_MULTIPLY_ADDS,
        gemv_f64,
        baseline::gemv_f64,
        (w, a, z)
    )
}

/// `back = Wᵀ δ` for `f64` (overwriting `back`), with `W` column-major
/// `delta.len() × back.len()`.
///
/// # Panics
///
/// If `w.len() != delta.len() * back.len()`.
///
/// ```
/// use staticnet::simd::gemv_t_f64;
///
/// // W = [1 0 2; 0 1 3]
/// let w = [1.0_f64, 0.0, 0.0, 1.0, 2.0, 3.0];
/// let mut back = [9.0_f64; 3];
/// gemv_t_f64(&w, &[1.0, -1.0], &mut back);
/// assert_eq!(back, [1.0, -1.0, -1.0]);
/// ```
pub fn gemv_t_f64(w: &[f64], delta: &[f64], back: &mut [f64]) {
    dispatch!(
        w.len(),
        MIN_MULTIPLY_ADDS,
        gemv_t_f64,
        baseline::gemv_t_f64,
        (w, delta, back)
    )
}

/// `G += δ aᵀ` for `f64`, with `G` column-major `delta.len() × a.len()`.
///
/// # Panics
///
/// If `g.len() != delta.len() * a.len()`.
///
/// ```
/// use staticnet::simd::ger_f64;
///
/// let mut g = [1.0_f64; 4];
/// ger_f64(&[1.0, 2.0], &[3.0, -1.0], &mut g);
/// assert_eq!(g, [4.0, 7.0, 0.0, -1.0]);
/// ```
pub fn ger_f64(delta: &[f64], a: &[f64], g: &mut [f64]) {
    dispatch!(
        g.len(),
        MIN_MULTIPLY_ADDS,
        ger_f64,
        baseline::ger_f64,
        (delta, a, g)
    )
}

/// `y += alpha x` for `f64`.
///
/// # Panics
///
/// If `x.len() != y.len()`.
///
/// ```
/// use staticnet::simd::axpy_f64;
///
/// let mut y = [1.0_f64, 2.0, 3.0];
/// axpy_f64(-0.5, &[2.0, 2.0, 2.0], &mut y);
/// assert_eq!(y, [0.0, 1.0, 2.0]);
/// ```
pub fn axpy_f64(alpha: f64, x: &[f64], y: &mut [f64]) {
    dispatch!(
        y.len(),
        MIN_MULTIPLY_ADDS,
        axpy_f64,
        baseline::axpy_f64,
        (alpha, x, y)
    )
}

/// [`fastmath::exp_f32`] of every element, in place; the same bits as
/// [`fastmath::exp_f32_slice`].
///
/// ```
/// use staticnet::simd::exp_f32_in_place;
///
/// let mut xs = [0.0_f32; 20];
/// xs[1] = f32::NEG_INFINITY;
/// exp_f32_in_place(&mut xs);
/// assert_eq!(xs[0], 1.0);
/// assert_eq!(xs[1], 0.0);
/// ```
pub fn exp_f32_in_place(xs: &mut [f32]) {
    dispatch!(
        xs.len(),
        MIN_ACTIVATIONS,
        exp_f32,
        fastmath::exp_f32_slice,
        (xs)
    )
}

/// [`fastmath::tanh_f32`] of every element, in place; the same bits as
/// [`fastmath::tanh_f32_slice`].
///
/// ```
/// use staticnet::simd::tanh_f32_in_place;
///
/// let mut xs = [30.0_f32; 20];
/// xs[0] = -30.0;
/// xs[1] = 0.0;
/// tanh_f32_in_place(&mut xs);
/// assert_eq!(xs[..3], [-1.0, 0.0, 1.0]);
/// ```
pub fn tanh_f32_in_place(xs: &mut [f32]) {
    dispatch!(
        xs.len(),
        MIN_ACTIVATIONS,
        tanh_f32,
        fastmath::tanh_f32_slice,
        (xs)
    )
}

/// [`fastmath::sigmoid_f32`] of every element, in place; the same bits as
/// [`fastmath::sigmoid_f32_slice`].
///
/// ```
/// use staticnet::simd::sigmoid_f32_in_place;
///
/// let mut xs = [200.0_f32; 20];
/// xs[0] = -200.0;
/// xs[1] = 0.0;
/// sigmoid_f32_in_place(&mut xs);
/// assert_eq!(xs[..3], [0.0, 0.5, 1.0]);
/// ```
pub fn sigmoid_f32_in_place(xs: &mut [f32]) {
    dispatch!(
        xs.len(),
        MIN_ACTIVATIONS,
        sigmoid_f32,
        fastmath::sigmoid_f32_slice,
        (xs)
    )
}

/// [`fastmath::gelu_tanh_f32`] of every element, in place; the same bits
/// as [`fastmath::gelu_tanh_f32_slice`].
///
/// ```
/// use staticnet::simd::gelu_tanh_f32_in_place;
///
/// let mut xs = [50.0_f32; 20];
/// xs[0] = -50.0;
/// xs[1] = 0.0;
/// gelu_tanh_f32_in_place(&mut xs);
/// assert_eq!(xs[..3], [0.0, 0.0, 50.0]);
/// ```
pub fn gelu_tanh_f32_in_place(xs: &mut [f32]) {
    dispatch!(
        xs.len(),
        MIN_ACTIVATIONS,
        gelu_tanh_f32,
        fastmath::gelu_tanh_f32_slice,
        (xs)
    )
}

/// The kernels compiled for the build's target only, without dispatch:
/// the bodies that the functions of [`simd`](crate::simd) run on either
/// path, for comparisons and benchmarks. They give the same bits as the
/// dispatched functions.
pub mod baseline {
    /// `true` when `w.len() == rows * cols` (without overflowing).
    #[inline(always)]
    fn fits(w: usize, rows: usize, cols: usize) -> bool {
        rows.checked_mul(cols) == Some(w)
    }

    /// The four kernels for one scalar type. The dot products of `gemv_t`
    /// keep `$wide` partial sums for columns of at least `$min_wide`
    /// elements and `$narrow` for shorter ones (the sizes that measured
    /// fastest on both paths).
    macro_rules! kernels {
        (
            $t:ty, $wide:literal, $narrow:literal, $min_wide:literal,
            $gemv:ident, $gemv_t:ident, $ger:ident, $axpy:ident, $dot:ident,
            $gemv_doc:literal, $gemv_t_doc:literal, $ger_doc:literal, $axpy_doc:literal
        ) => {
            /// `x · y` over the common length with `L` (a power of two)
            /// partial sums: element `k` of each chunk of `L` goes to sum
            /// `k`, the sums are added pairwise (`L / 2` pairs `(k, k +
            /// L / 2)`, then the same on the first half, ...), and the
            /// remaining elements, summed in order, last.
            #[inline(always)]
            fn $dot<const L: usize>(x: &[$t], y: &[$t]) -> $t {
                let (xs, x_tail) = x.as_chunks::<L>();
                let (ys, y_tail) = y.as_chunks::<L>();
                let mut acc = [0.0 as $t; L];
                for (xc, yc) in xs.iter().zip(ys) {
                    for k in 0..L {
                        acc[k] += xc[k] * yc[k];
                    }
                }
                let mut tail = 0.0 as $t;
                for (&xi, &yi) in x_tail.iter().zip(y_tail) {
                    tail += xi * yi;
                }
                let mut width = L;
                while width > 1 {
                    width /= 2;
                    for k in 0..width {
                        acc[k] += acc[k + width];
                    }
                }
                acc[0] + tail
            }

            #[doc = $gemv_doc]
            #[inline(always)]
            pub fn $gemv(w: &[$t], a: &[$t], z: &mut [$t]) {
                let (rows, cols) = (z.len(), a.len());
                assert!(
                    fits(w.len(), rows, cols),
                    "gemv: w has {} elements, not z.len() * a.len() = {rows} * {cols}",
                    w.len()
                );
                // four columns at a time: one load and store of z for four
                // multiply-adds (and no division by `rows` anywhere: it
                // would cost more than a small product)
                let (a4, a_tail) = a.as_chunks::<4>();
                let mut rest = w;
                for &[a0, a1, a2, a3] in a4 {
                    let (w0, r) = rest.split_at(rows);
                    let (w1, r) = r.split_at(rows);
                    let (w2, r) = r.split_at(rows);
                    let (w3, r) = r.split_at(rows);
                    rest = r;
                    for ((((zi, &x0), &x1), &x2), &x3) in
                        z.iter_mut().zip(w0).zip(w1).zip(w2).zip(w3)
                    {
                        *zi += x0 * a0 + x1 * a1 + x2 * a2 + x3 * a3;
                    }
                }
                for &aj in a_tail {
                    let (column, r) = rest.split_at(rows);
                    rest = r;
                    for (zi, &x) in z.iter_mut().zip(column) {
                        *zi += x * aj;
                    }
                }
            }

            #[doc = $gemv_t_doc]
            #[inline(always)]
            pub fn $gemv_t(w: &[$t], delta: &[$t], back: &mut [$t]) {
                let (rows, cols) = (delta.len(), back.len());
                assert!(
                    fits(w.len(), rows, cols),
                    "gemv_t: w has {} elements, not delta.len() * back.len() = {rows} * {cols}",
                    w.len()
                );
                // one column at a time (the compiler vectorises a dot
                // product across its partial sums, but several at once
                // across the columns, with shuffles)
                let mut rest = w;
                if rows >= $min_wide {
                    for out in back {
                        let (column, r) = rest.split_at(rows);
                        rest = r;
                        *out = $dot::<$wide>(column, delta);
                    }
                } else {
                    for out in back {
                        let (column, r) = rest.split_at(rows);
                        rest = r;
                        *out = $dot::<$narrow>(column, delta);
                    }
                }
            }

            #[doc = $ger_doc]
            #[inline(always)]
            pub fn $ger(delta: &[$t], a: &[$t], g: &mut [$t]) {
                let (rows, cols) = (delta.len(), a.len());
                assert!(
                    fits(g.len(), rows, cols),
                    "ger: g has {} elements, not delta.len() * a.len() = {rows} * {cols}",
                    g.len()
                );
                // two columns at a time, one load of δ for both
                let (a2, a_tail) = a.as_chunks::<2>();
                let mut rest = g;
                for &[a0, a1] in a2 {
                    let (g0, r) = rest.split_at_mut(rows);
                    let (g1, r) = r.split_at_mut(rows);
                    rest = r;
                    for ((x0, x1), &d) in g0.iter_mut().zip(g1.iter_mut()).zip(delta) {
                        *x0 += d * a0;
                        *x1 += d * a1;
                    }
                }
                for &aj in a_tail {
                    let (column, r) = rest.split_at_mut(rows);
                    rest = r;
                    for (x, &d) in column.iter_mut().zip(delta) {
                        *x += d * aj;
                    }
                }
            }

            #[doc = $axpy_doc]
            #[inline(always)]
            pub fn $axpy(alpha: $t, x: &[$t], y: &mut [$t]) {
                assert_eq!(x.len(), y.len(), "axpy: x and y differ in length");
                for (yi, &xi) in y.iter_mut().zip(x) {
                    *yi += alpha * xi;
                }
            }
        };
    }

    kernels!(
        f32,
        16,
        8,
        64,
        gemv_f32,
        gemv_t_f32,
        ger_f32,
        axpy_f32,
        dot_f32,
        "[`simd::gemv_f32`](crate::simd::gemv_f32) on the baseline path.\n\n\
         ```\n\
         let w = [1.0_f32, 0.0, 0.0, 1.0, 2.0, 3.0];\n\
         let mut z = [1.0_f32, 1.0];\n\
         staticnet::simd::baseline::gemv_f32(&w, &[1.0, 2.0, 3.0], &mut z);\n\
         assert_eq!(z, [8.0, 12.0]);\n\
         ```",
        "[`simd::gemv_t_f32`](crate::simd::gemv_t_f32) on the baseline path.\n\n\
         ```\n\
         let w = [1.0_f32, 0.0, 0.0, 1.0, 2.0, 3.0];\n\
         let mut back = [9.0_f32; 3];\n\
         staticnet::simd::baseline::gemv_t_f32(&w, &[1.0, -1.0], &mut back);\n\
         assert_eq!(back, [1.0, -1.0, -1.0]);\n\
         ```",
        "[`simd::ger_f32`](crate::simd::ger_f32) on the baseline path.\n\n\
         ```\n\
         let mut g = [1.0_f32; 4];\n\
         staticnet::simd::baseline::ger_f32(&[1.0, 2.0], &[3.0, -1.0], &mut g);\n\
         assert_eq!(g, [4.0, 7.0, 0.0, -1.0]);\n\
         ```",
        "[`simd::axpy_f32`](crate::simd::axpy_f32) on the baseline path.\n\n\
         ```\n\
         let mut y = [1.0_f32, 2.0];\n\
         staticnet::simd::baseline::axpy_f32(2.0, &[1.0, -1.0], &mut y);\n\
         assert_eq!(y, [3.0, 0.0]);\n\
         ```"
    );

    kernels!(
        f64,
        8,
        4,
        16,
        gemv_f64,
        gemv_t_f64,
        ger_f64,
        axpy_f64,
        dot_f64,
        "[`simd::gemv_f64`](crate::simd::gemv_f64) on the baseline path.\n\n\
         ```\n\
         let w = [1.0_f64, 0.0, 0.0, 1.0, 2.0, 3.0];\n\
         let mut z = [1.0_f64, 1.0];\n\
         staticnet::simd::baseline::gemv_f64(&w, &[1.0, 2.0, 3.0], &mut z);\n\
         assert_eq!(z, [8.0, 12.0]);\n\
         ```",
        "[`simd::gemv_t_f64`](crate::simd::gemv_t_f64) on the baseline path.\n\n\
         ```\n\
         let w = [1.0_f64, 0.0, 0.0, 1.0, 2.0, 3.0];\n\
         let mut back = [9.0_f64; 3];\n\
         staticnet::simd::baseline::gemv_t_f64(&w, &[1.0, -1.0], &mut back);\n\
         assert_eq!(back, [1.0, -1.0, -1.0]);\n\
         ```",
        "[`simd::ger_f64`](crate::simd::ger_f64) on the baseline path.\n\n\
         ```\n\
         let mut g = [1.0_f64; 4];\n\
         staticnet::simd::baseline::ger_f64(&[1.0, 2.0], &[3.0, -1.0], &mut g);\n\
         assert_eq!(g, [4.0, 7.0, 0.0, -1.0]);\n\
         ```",
        "[`simd::axpy_f64`](crate::simd::axpy_f64) on the baseline path.\n\n\
         ```\n\
         let mut y = [1.0_f64, 2.0];\n\
         staticnet::simd::baseline::axpy_f64(2.0, &[1.0, -1.0], &mut y);\n\
         assert_eq!(y, [3.0, 0.0]);\n\
         ```"
    );
}

/// The same bodies compiled with AVX2 and FMA enabled. Each function is
/// safe to call only on a CPU that has both.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod avx2 {
    use crate::fastmath;

    /// Wraps a slice kernel of [`baseline`](super::baseline) in a function
    /// compiled for AVX2 and FMA.
    macro_rules! wide {
        ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
            #[target_feature(enable = "avx2,fma")]
            pub(super) fn $name($($arg: $ty),*) {
                super::baseline::$name($($arg),*)
            }
        )*};
    }

    wide! {
        gemv_f32(w: &[f32], a: &[f32], z: &mut [f32]);
        gemv_t_f32(w: &[f32], delta: &[f32], back: &mut [f32]);
        ger_f32(delta: &[f32], a: &[f32], g: &mut [f32]);
        axpy_f32(alpha: f32, x: &[f32], y: &mut [f32]);
        gemv_f64(w: &[f64], a: &[f64], z: &mut [f64]);
        gemv_t_f64(w: &[f64], delta: &[f64], back: &mut [f64]);
        ger_f64(delta: &[f64], a: &[f64], g: &mut [f64]);
        axpy_f64(alpha: f64, x: &[f64], y: &mut [f64]);
    }

    /// Wraps the loop of a `fastmath` slice function (over its
    /// `#[inline(always)]` scalar kernel) in a function compiled for AVX2
    /// and FMA.
    macro_rules! wide_map {
        ($($name:ident => $kernel:path;)*) => {$(
            #[target_feature(enable = "avx2,fma")]
            pub(super) fn $name(xs: &mut [f32]) {
                for x in xs {
                    *x = $kernel(*x);
                }
            }
        )*};
    }

    wide_map! {
        exp_f32 => fastmath::exp_f32;
        tanh_f32 => fastmath::tanh_f32;
        sigmoid_f32 => fastmath::sigmoid_f32;
        gelu_tanh_f32 => fastmath::gelu_tanh_f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in `[-1, 1)` (a 64-bit LCG), different for
    /// each `seed`.
    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
            })
            .collect()
    }

    fn to_f32(xs: &[f64]) -> Vec<f32> {
        xs.iter().map(|&x| x as f32).collect()
    }

    /// Lengths around the block sizes (4 columns; 4, 8 and 16 partial sums
    /// and the lengths that choose between them), and those of MNIST's dense
    /// layers.
    const SIZES: [usize; 12] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 33];
    const LARGE: [(usize, usize); 10] = [
        (15, 9),
        (63, 9),
        (64, 9),
        (79, 5),
        (128, 784),
        (784, 128),
        (10, 128),
        (1000, 3),
        (3, 1000),
        (37, 61),
    ];

    fn shapes() -> impl Iterator<Item = (usize, usize)> {
        SIZES
            .iter()
            .flat_map(|&r| SIZES.iter().map(move |&c| (r, c)))
            .chain(LARGE)
    }

    /// Checks `got[i]` against the exact `want[i]` (each computed in f64 as
    /// a sum of products), within `rel` of `scale[i]`, the sum of the
    /// absolute values of the terms: the error bound of a sum in any order.
    #[track_caller]
    fn close(got: &[f64], want: &[f64], scale: &[f64], rel: f64, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        for (i, ((&g, &w), &s)) in got.iter().zip(want).zip(scale).enumerate() {
            let err = (g - w).abs();
            assert!(
                err <= rel * s,
                "{what}[{i}]: {g} against {w}, error {err:e} > {rel:e} × {s}"
            );
        }
    }

    /// Naive `z + W a` and the sums of the absolute terms, in f64.
    fn naive_gemv(w: &[f64], a: &[f64], z: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let rows = z.len();
        let mut want = z.to_vec();
        let mut scale: Vec<f64> = z.iter().map(|z| z.abs()).collect();
        for (j, &aj) in a.iter().enumerate() {
            for i in 0..rows {
                want[i] += w[j * rows + i] * aj;
                scale[i] += (w[j * rows + i] * aj).abs();
            }
        }
        (want, scale)
    }

    /// Naive `Wᵀ δ` and the sums of the absolute terms, in f64.
    fn naive_gemv_t(w: &[f64], delta: &[f64], cols: usize) -> (Vec<f64>, Vec<f64>) {
        let rows = delta.len();
        let mut want = vec![0.0; cols];
        let mut scale = vec![0.0; cols];
        for j in 0..cols {
            for (i, &d) in delta.iter().enumerate() {
                want[j] += w[j * rows + i] * d;
                scale[j] += (w[j * rows + i] * d).abs();
            }
        }
        (want, scale)
    }

    /// Naive `G + δ aᵀ` and the sums of the absolute terms, in f64.
    fn naive_ger(delta: &[f64], a: &[f64], g: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let rows = delta.len();
        let mut want = g.to_vec();
        let mut scale: Vec<f64> = g.iter().map(|g| g.abs()).collect();
        for (j, &aj) in a.iter().enumerate() {
            for (i, &d) in delta.iter().enumerate() {
                want[j * rows + i] += d * aj;
                scale[j * rows + i] += (d * aj).abs();
            }
        }
        (want, scale)
    }

    type Kernels32 = (
        fn(&[f32], &[f32], &mut [f32]),
        fn(&[f32], &[f32], &mut [f32]),
        fn(&[f32], &[f32], &mut [f32]),
        fn(f32, &[f32], &mut [f32]),
    );
    type Kernels64 = (
        fn(&[f64], &[f64], &mut [f64]),
        fn(&[f64], &[f64], &mut [f64]),
        fn(&[f64], &[f64], &mut [f64]),
        fn(f64, &[f64], &mut [f64]),
    );

    const DISPATCHED_32: Kernels32 = (gemv_f32, gemv_t_f32, ger_f32, axpy_f32);
    const BASELINE_32: Kernels32 = (
        baseline::gemv_f32,
        baseline::gemv_t_f32,
        baseline::ger_f32,
        baseline::axpy_f32,
    );
    const DISPATCHED_64: Kernels64 = (gemv_f64, gemv_t_f64, ger_f64, axpy_f64);
    const BASELINE_64: Kernels64 = (
        baseline::gemv_f64,
        baseline::gemv_t_f64,
        baseline::ger_f64,
        baseline::axpy_f64,
    );

    /// Every f32 kernel of `kernels` against the naive f64 loops, within
    /// `rel` (relative to the sum of absolute terms), on every shape.
    fn check_f32(kernels: Kernels32, rel: f64, shapes: impl Iterator<Item = (usize, usize)>) {
        let (gemv, gemv_t, ger, axpy) = kernels;
        for (seed, (rows, cols)) in shapes.enumerate() {
            let seed = seed as u64 * 4;
            // inputs rounded to f32 first, so that the f64 reference
            // computes exactly the same products
            let w = to_f32(&values(rows * cols, seed));
            let a = to_f32(&values(cols, seed + 1));
            let z = to_f32(&values(rows, seed + 2));
            let delta = to_f32(&values(rows, seed + 3));
            let w64: Vec<f64> = w.iter().map(|&x| f64::from(x)).collect();
            let a64: Vec<f64> = a.iter().map(|&x| f64::from(x)).collect();
            let z64: Vec<f64> = z.iter().map(|&x| f64::from(x)).collect();
            let d64: Vec<f64> = delta.iter().map(|&x| f64::from(x)).collect();
            let what = |name: &str| format!("{name} {rows}x{cols}");

            let mut got = z.clone();
            gemv(&w, &a, &mut got);
            let (want, scale) = naive_gemv(&w64, &a64, &z64);
            let got64: Vec<f64> = got.iter().map(|&x| f64::from(x)).collect();
            close(&got64, &want, &scale, rel, &what("gemv_f32"));

            // garbage in `back` must be overwritten
            let mut got = vec![f32::NAN; cols];
            gemv_t(&w, &delta, &mut got);
            let (want, scale) = naive_gemv_t(&w64, &d64, cols);
            let got64: Vec<f64> = got.iter().map(|&x| f64::from(x)).collect();
            close(&got64, &want, &scale, rel, &what("gemv_t_f32"));

            let mut got = w.clone();
            ger(&delta, &a, &mut got);
            let (want, scale) = naive_ger(&d64, &a64, &w64);
            let got64: Vec<f64> = got.iter().map(|&x| f64::from(x)).collect();
            close(&got64, &want, &scale, rel, &what("ger_f32"));

            let mut got = w.clone();
            let x = to_f32(&values(rows * cols, seed + 5));
            axpy(-0.375, &x, &mut got);
            let want: Vec<f64> = w
                .iter()
                .zip(&x)
                .map(|(&p, &g)| f64::from(p) - 0.375 * f64::from(g))
                .collect();
            let scale: Vec<f64> = w
                .iter()
                .zip(&x)
                .map(|(&p, &g)| f64::from(p).abs() + 0.375 * f64::from(g).abs())
                .collect();
            let got64: Vec<f64> = got.iter().map(|&x| f64::from(x)).collect();
            close(&got64, &want, &scale, rel, &what("axpy_f32"));
        }
    }

    /// Every f64 kernel of `kernels` against the naive loops, within `rel`.
    fn check_f64(kernels: Kernels64, rel: f64) {
        let (gemv, gemv_t, ger, axpy) = kernels;
        for (seed, (rows, cols)) in shapes().enumerate() {
            let seed = seed as u64 * 4 + 1000;
            let w = values(rows * cols, seed);
            let a = values(cols, seed + 1);
            let z = values(rows, seed + 2);
            let delta = values(rows, seed + 3);
            let what = |name: &str| format!("{name} {rows}x{cols}");

            let mut got = z.clone();
            gemv(&w, &a, &mut got);
            let (want, scale) = naive_gemv(&w, &a, &z);
            close(&got, &want, &scale, rel, &what("gemv_f64"));

            let mut got = vec![f64::NAN; cols];
            gemv_t(&w, &delta, &mut got);
            let (want, scale) = naive_gemv_t(&w, &delta, cols);
            close(&got, &want, &scale, rel, &what("gemv_t_f64"));

            let mut got = w.clone();
            ger(&delta, &a, &mut got);
            let (want, scale) = naive_ger(&delta, &a, &w);
            close(&got, &want, &scale, rel, &what("ger_f64"));

            let mut got = w.clone();
            let x = values(rows * cols, seed + 5);
            axpy(-0.375, &x, &mut got);
            let want: Vec<f64> = w.iter().zip(&x).map(|(&p, &g)| p - 0.375 * g).collect();
            let scale: Vec<f64> = w
                .iter()
                .zip(&x)
                .map(|(&p, &g)| p.abs() + 0.375 * g.abs())
                .collect();
            close(&got, &want, &scale, rel, &what("axpy_f64"));
        }
    }

    #[test]
    fn dispatched_f32_kernels_match_naive_loops() {
        check_f32(DISPATCHED_32, 1e-5, shapes());
    }

    #[test]
    fn baseline_f32_kernels_match_naive_loops() {
        check_f32(BASELINE_32, 1e-5, shapes());
    }

    #[test]
    fn dispatched_f64_kernels_match_naive_loops() {
        check_f64(DISPATCHED_64, 1e-13);
    }

    #[test]
    fn baseline_f64_kernels_match_naive_loops() {
        check_f64(BASELINE_64, 1e-13);
    }

    /// The check catches a kernel that drops a single term: here the last
    /// of 784 columns of the matrix-vector product.
    #[test]
    #[should_panic(expected = "gemv_f32 128x784")]
    fn naive_check_catches_a_missing_column() {
        fn gemv_without_last_column(w: &[f32], a: &[f32], z: &mut [f32]) {
            let rows = z.len();
            let n = a.len().saturating_sub(1);
            baseline::gemv_f32(&w[..rows * n], &a[..n], z);
        }
        let (_, gemv_t, ger, axpy) = BASELINE_32;
        check_f32(
            (gemv_without_last_column, gemv_t, ger, axpy),
            1e-5,
            [(128, 784)].into_iter(),
        );
    }

    /// Whether the CPU has AVX2 and FMA, so that the AVX2 path can be
    /// called directly; says so on stderr when not.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    fn avx2_available() -> bool {
        let yes = has_avx2_fma();
        if !yes {
            std::eprintln!("no AVX2 and FMA on this CPU: the AVX2 path is not tested");
        }
        yes
    }

    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[test]
    fn has_avx2_fma_reports_the_cpu() {
        assert_eq!(
            has_avx2_fma(),
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        );
    }

    /// The two paths of every matrix kernel give the same bits.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[test]
    fn avx2_matrix_kernels_give_the_baseline_bits() {
        if !avx2_available() {
            return;
        }
        for (seed, (rows, cols)) in shapes().enumerate() {
            let seed = seed as u64 * 4 + 7;
            let w = values(rows * cols, seed);
            let a = values(cols, seed + 1);
            let z = values(rows, seed + 2);
            let delta = values(rows, seed + 3);
            let w32 = to_f32(&w);
            let a32 = to_f32(&a);
            let z32 = to_f32(&z);
            let d32 = to_f32(&delta);
            let bits32 = |xs: &[f32]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let bits64 = |xs: &[f64]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let what = format!("{rows}x{cols}");

            let (mut base, mut wide) = (z32.clone(), z32.clone());
            baseline::gemv_f32(&w32, &a32, &mut base);
            // SAFETY: `avx2_available` found AVX2 and FMA on this CPU.
            unsafe { avx2::gemv_f32(&w32, &a32, &mut wide) };
            assert_eq!(bits32(&base), bits32(&wide), "gemv_f32 {what}");

            let (mut base, mut wide) = (vec![0.0; cols], vec![0.0; cols]);
            baseline::gemv_t_f32(&w32, &d32, &mut base);
            // SAFETY: as above.
            unsafe { avx2::gemv_t_f32(&w32, &d32, &mut wide) };
            assert_eq!(bits32(&base), bits32(&wide), "gemv_t_f32 {what}");

            let (mut base, mut wide) = (w32.clone(), w32.clone());
            baseline::ger_f32(&d32, &a32, &mut base);
            // SAFETY: as above.
            unsafe { avx2::ger_f32(&d32, &a32, &mut wide) };
            assert_eq!(bits32(&base), bits32(&wide), "ger_f32 {what}");

            let (mut base, mut wide) = (z32.clone(), z32.clone());
            baseline::axpy_f32(0.3, &d32, &mut base);
            // SAFETY: as above.
            unsafe { avx2::axpy_f32(0.3, &d32, &mut wide) };
            assert_eq!(bits32(&base), bits32(&wide), "axpy_f32 {what}");

            let (mut base, mut wide) = (z.clone(), z.clone());
            baseline::gemv_f64(&w, &a, &mut base);
            // SAFETY: as above.
            unsafe { avx2::gemv_f64(&w, &a, &mut wide) };
            assert_eq!(bits64(&base), bits64(&wide), "gemv_f64 {what}");

            let (mut base, mut wide) = (vec![0.0; cols], vec![0.0; cols]);
            baseline::gemv_t_f64(&w, &delta, &mut base);
            // SAFETY: as above.
            unsafe { avx2::gemv_t_f64(&w, &delta, &mut wide) };
            assert_eq!(bits64(&base), bits64(&wide), "gemv_t_f64 {what}");

            let (mut base, mut wide) = (w.clone(), w.clone());
            baseline::ger_f64(&delta, &a, &mut base);
            // SAFETY: as above.
            unsafe { avx2::ger_f64(&delta, &a, &mut wide) };
            assert_eq!(bits64(&base), bits64(&wide), "ger_f64 {what}");

            let (mut base, mut wide) = (z.clone(), z.clone());
            baseline::axpy_f64(0.3, &delta, &mut base);
            // SAFETY: as above.
            unsafe { avx2::axpy_f64(0.3, &delta, &mut wide) };
            assert_eq!(bits64(&base), bits64(&wide), "axpy_f64 {what}");
        }
    }

    /// Inputs for the activations: a grid over `[-110, 110]` (every branch
    /// of every kernel, both ends of `exp`'s range), tiny and huge
    /// magnitudes, zeros, infinities and NaN.
    fn activation_inputs() -> Vec<f32> {
        let mut xs: Vec<f32> = (0..100_003)
            .map(|i| -110.0 + 220.0 * i as f32 / 100_002.0)
            .collect();
        xs.extend([
            0.0,
            -0.0,
            1e-30,
            -1e-30,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            0.625,
            -0.625,
            9.01,
        ]);
        xs
    }

    type Activation = (&'static str, fn(&mut [f32]), fn(&mut [f32]));
    const ACTIVATIONS: [Activation; 4] = [
        ("exp", exp_f32_in_place, fastmath::exp_f32_slice),
        ("tanh", tanh_f32_in_place, fastmath::tanh_f32_slice),
        ("sigmoid", sigmoid_f32_in_place, fastmath::sigmoid_f32_slice),
        (
            "gelu",
            gelu_tanh_f32_in_place,
            fastmath::gelu_tanh_f32_slice,
        ),
    ];

    /// The dispatched activations give the bits of the `fastmath` slice
    /// functions, for every length up to 40 (below and above the dispatch
    /// threshold and the vector widths) and on the whole input set.
    #[test]
    fn dispatched_activations_give_the_fastmath_bits() {
        let inputs = activation_inputs();
        for (name, dispatched, slice) in ACTIVATIONS {
            let mut lengths: Vec<usize> = (0..=40).collect();
            lengths.push(inputs.len());
            for len in lengths {
                let (mut got, mut want) = (inputs[..len].to_vec(), inputs[..len].to_vec());
                dispatched(&mut got);
                slice(&mut want);
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(g.to_bits(), w.to_bits(), "{name}, length {len}, [{i}]");
                }
            }
        }
    }

    /// The AVX2 activations called directly (whatever the length) give
    /// the baseline's bits.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[test]
    fn avx2_activations_give_the_baseline_bits() {
        if !avx2_available() {
            return;
        }
        let inputs = activation_inputs();
        for (name, _, baseline) in ACTIVATIONS {
            for len in [1, 7, 8, 9, 15, 33, inputs.len()] {
                let (mut got, mut want) = (inputs[..len].to_vec(), inputs[..len].to_vec());
                match name {
                    // SAFETY: `avx2_available` found AVX2 and FMA on this CPU.
                    "exp" => unsafe { avx2::exp_f32(&mut got) },
                    // SAFETY: as above.
                    "tanh" => unsafe { avx2::tanh_f32(&mut got) },
                    // SAFETY: as above.
                    "sigmoid" => unsafe { avx2::sigmoid_f32(&mut got) },
                    // SAFETY: as above.
                    "gelu" => unsafe { avx2::gelu_tanh_f32(&mut got) },
                    _ => unreachable!("{name}"),
                }
                baseline(&mut want);
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(g.to_bits(), w.to_bits(), "{name}, length {len}, [{i}]");
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "gemv: w has 5 elements")]
    fn gemv_panics_on_a_wrong_length() {
        gemv_f32(&[0.0; 5], &[0.0; 2], &mut [0.0; 3]);
    }

    #[test]
    #[should_panic(expected = "gemv_t: w has 64 elements")]
    fn gemv_t_panics_on_a_wrong_length() {
        gemv_t_f64(&[0.0; 64], &[0.0; 8], &mut [0.0; 9]);
    }

    #[test]
    #[should_panic(expected = "ger: g has 6 elements")]
    fn ger_panics_on_a_wrong_length() {
        ger_f32(&[0.0; 2], &[0.0; 2], &mut [0.0; 6]);
    }

    #[test]
    #[should_panic(expected = "axpy: x and y differ in length")]
    fn axpy_panics_on_a_wrong_length() {
        axpy_f64(1.0, &[0.0; 20], &mut [0.0; 21]);
    }
}
