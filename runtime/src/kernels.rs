//! Matrix products over strided slices, for the batch passes.
//!
//! f32 and f64 go to matrixmultiply's packed, vectorised kernels (chosen at
//! run time for the CPU); other scalars take a plain generic loop. nalgebra's
//! own `gemm` only reaches matrixmultiply when one dimension is `Dyn` and its
//! fallback mishandles strided operands (it walks a strided column by its
//! backing slice's length), so the layers call this instead.

use core::any::TypeId;

use crate::Scalar;

/// A matrix operand: a slice and the strides between rows and columns.
#[derive(Clone, Copy)]
pub(crate) struct Strided<'a, T> {
    pub data: &'a [T],
    pub row_stride: usize,
    pub col_stride: usize,
}

/// `C ← α A B + β C` with `A` `m × k` and `B` `k × n`, each addressed as
/// `data[i * row_stride + j * col_stride]`, and `C` `m × n` contiguous in
/// column-major order. When `β` is zero, `C` is only written.
///
/// # Panics
///
/// If `C` is not `m × n` long or an operand's slice is too short for its
/// shape and strides.
#[allow(clippy::many_single_char_names)]
pub(crate) fn gemm<T: Scalar>(
    (m, k, n): (usize, usize, usize),
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    beta: T,
    c: &mut [T],
) {
    assert_eq!(c.len(), m * n, "gemm: C is not m × n");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for y in c.iter_mut() {
            *y = if beta == T::zero() {
                T::zero()
            } else {
                beta * *y
            };
        }
        return;
    }
    let reaches =
        |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(
        reaches(m, k, a.row_stride, a.col_stride) < a.data.len(),
        "gemm: A is too short"
    );
    assert!(
        reaches(k, n, b.row_stride, b.col_stride) < b.data.len(),
        "gemm: B is too short"
    );

    let cast = |s: usize| isize::try_from(s).expect("gemm: stride overflows isize");
    if TypeId::of::<T>() == TypeId::of::<f32>() || TypeId::of::<T>() == TypeId::of::<f64>() {
        let (rsa, csa, rsb, csb) = (
            cast(a.row_stride),
            cast(a.col_stride),
            cast(b.row_stride),
            cast(b.col_stride),
        );
        let (rsc, csc) = (1, cast(m));
        // SAFETY: `T` is exactly `f32` (or `f64`, below) by its `TypeId`, so
        // the pointer casts change no layout. Every element matrixmultiply
        // touches lies inside its slice, as asserted above, and `c` is a
        // unique borrow, contiguous, `m × n` long.
        unsafe {
            if TypeId::of::<T>() == TypeId::of::<f32>() {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    *(&alpha as *const T).cast::<f32>(),
                    a.data.as_ptr().cast::<f32>(),
                    rsa,
                    csa,
                    b.data.as_ptr().cast::<f32>(),
                    rsb,
                    csb,
                    *(&beta as *const T).cast::<f32>(),
                    c.as_mut_ptr().cast::<f32>(),
                    rsc,
                    csc,
                );
            } else {
                matrixmultiply::dgemm(
                    m,
                    k,
                    n,
                    *(&alpha as *const T).cast::<f64>(),
                    a.data.as_ptr().cast::<f64>(),
                    rsa,
                    csa,
                    b.data.as_ptr().cast::<f64>(),
                    rsb,
                    csb,
                    *(&beta as *const T).cast::<f64>(),
                    c.as_mut_ptr().cast::<f64>(),
                    rsc,
                    csc,
                );
            }
        }
        return;
    }
    gemm_generic((m, k, n), alpha, a, b, beta, c);
}

/// The generic path of [`gemm`], for any scalar.
#[allow(clippy::many_single_char_names)]
fn gemm_generic<T: Scalar>(
    (m, k, n): (usize, usize, usize),
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    beta: T,
    c: &mut [T],
) {
    for j in 0..n {
        for i in 0..m {
            let mut sum = T::zero();
            for p in 0..k {
                sum += a.data[i * a.row_stride + p * a.col_stride]
                    * b.data[p * b.row_stride + j * b.col_stride];
            }
            let y = &mut c[i + j * m];
            *y = if beta == T::zero() {
                alpha * sum
            } else {
                alpha * sum + beta * *y
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(
        m: usize,
        k: usize,
        n: usize,
        a: &[f64],
        (ra, ca): (usize, usize),
        b: &[f64],
        (rb, cb): (usize, usize),
    ) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i + j * m] = (0..k)
                    .map(|p| a[i * ra + p * ca] * b[p * rb + j * cb])
                    .sum();
            }
        }
        c
    }

    fn check<T: Scalar + Into<f64> + From<f32>>() {
        let (m, k, n) = (7, 5, 9);
        let a: Vec<T> = (0..m * k)
            .map(|i| T::from((i as f32 * 0.37).sin()))
            .collect();
        let b: Vec<T> = (0..k * n)
            .map(|i| T::from((i as f32 * 0.11).cos()))
            .collect();
        let a64: Vec<f64> = a.iter().map(|x| (*x).into()).collect();
        let b64: Vec<f64> = b.iter().map(|x| (*x).into()).collect();
        // A column-major, B row-major (a transposed view), C column-major
        let expected = naive(m, k, n, &a64, (1, m), &b64, (n, 1));
        let mut c = vec![T::from(1.0); m * n];
        let mut c_generic = c.clone();
        let (sa, sb) = (
            Strided {
                data: &a[..],
                row_stride: 1,
                col_stride: m,
            },
            Strided {
                data: &b[..],
                row_stride: n,
                col_stride: 1,
            },
        );
        gemm((m, k, n), T::from(2.0), sa, sb, T::from(0.5), &mut c);
        gemm_generic(
            (m, k, n),
            T::from(2.0),
            sa,
            sb,
            T::from(0.5),
            &mut c_generic,
        );
        for ((got, generic), want) in c.iter().zip(&c_generic).zip(&expected) {
            let (got, generic): (f64, f64) = ((*got).into(), (*generic).into());
            assert!(
                (got - (2.0 * want + 0.5)).abs() < 1e-5,
                "{got} vs {}",
                2.0 * want + 0.5
            );
            assert!(
                (generic - (2.0 * want + 0.5)).abs() < 1e-5,
                "{generic} vs {}",
                2.0 * want + 0.5
            );
        }
    }

    #[test]
    fn strided_products_match_a_naive_loop_on_both_paths() {
        check::<f32>();
        check::<f64>();
    }

    #[test]
    #[should_panic(expected = "A is too short")]
    fn short_operand_is_refused() {
        let mut c = [0.0_f32; 4];
        gemm(
            (2, 2, 2),
            1.0,
            Strided {
                data: &[1.0; 3],
                row_stride: 1,
                col_stride: 2,
            },
            Strided {
                data: &[1.0; 4],
                row_stride: 1,
                col_stride: 2,
            },
            0.0,
            &mut c,
        );
    }
}
