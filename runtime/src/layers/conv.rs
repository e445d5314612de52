//! Two-dimensional (and, with height 1, one-dimensional) convolution:
//! [`Geometry2d`] and [`Conv2d`].
//!
//! A sample is an image of `in_channels × in_height × in_width` values,
//! flattened row-major (index `c·H·W + h·W + w`), as PyTorch lays out one
//! sample of an NCHW tensor. The layer computes
//! `z[o, y, x] = b[o] + Σ_{c, i, j} W[o, c, i, j] · a[c, y·sy + i − py, x·sx + j − px]`
//! with zeros outside the input (the padding). It does so by copying the
//! receptive field of every output position into a column of a
//! `K_LEN × (out_height · out_width)` matrix (im2col) and multiplying by the
//! weight matrix once.
//!
//! Without the `alloc` feature there is no buffer for the patches: the
//! single-sample passes then loop over the kernel taps directly (slower for
//! large layers, the same results up to rounding), and the batch passes do
//! not exist.

#[cfg(feature = "alloc")]
use alloc::{vec, vec::Vec};
use core::fmt;
use core::ops::Range;

#[cfg(feature = "alloc")]
use nalgebra::{Const, Dyn, OMatrix};
use nalgebra::{SMatrix, SVector};
use rand::Rng;

use super::storage::{Inline, InlineMatrix, Storage};
use crate::Scalar;
use crate::init::Init;
#[cfg(feature = "alloc")]
use crate::kernels::{Strided, gemm};
use crate::network::ParamName;

/// Geometry of a 2-D convolution or pool (a 1-D one has height 1 and kernel
/// height 1).
///
/// Each output axis has `(in − kernel + 2 · padding) / stride + 1` positions,
/// with `padding` zeros added on both sides of the axis. Build it with
/// [`Geometry2d::new`], which refuses a geometry whose division is not exact;
/// the fields are public so that it can be matched on and printed, and the
/// layers check (in debug builds) that a geometry they are given is one that
/// `new` returns. For a pool, `out_channels == in_channels`.
///
/// ```
/// use staticnet::layers::Geometry2d;
///
/// // 3 × 32 × 32 images, 10 filters of 5 × 5, stride 1, padding 2
/// const G: Geometry2d = Geometry2d::new(3, 32, 32, 10, (5, 5), (1, 1), (2, 2)).unwrap();
/// assert_eq!((G.out_channels, G.out_height, G.out_width), (10, 32, 32));
/// assert_eq!(G.kernel_len(), 75);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry2d {
    /// Channels of the input.
    pub in_channels: usize,
    /// Rows of the input.
    pub in_height: usize,
    /// Columns of the input.
    pub in_width: usize,
    /// Channels of the output: filters of a convolution, `in_channels` for a
    /// pool.
    pub out_channels: usize,
    /// The window, `(height, width)`.
    pub kernel: (usize, usize),
    /// The step between windows, `(vertical, horizontal)`.
    pub stride: (usize, usize),
    /// Zeros added on each side, `(top and bottom, left and right)`.
    pub padding: (usize, usize),
    /// Rows of the output.
    pub out_height: usize,
    /// Columns of the output.
    pub out_width: usize,
}

/// Positions along one axis: `(len − kernel + 2 · padding) / stride + 1`, or
/// `None` when a size or the stride is zero, the kernel is larger than the
/// padded axis, the division is not exact, or the arithmetic overflows.
const fn axis(len: usize, kernel: usize, stride: usize, padding: usize) -> Option<usize> {
    if len == 0 || kernel == 0 || stride == 0 {
        return None;
    }
    let Some(twice) = padding.checked_mul(2) else {
        return None;
    };
    let Some(padded) = len.checked_add(twice) else {
        return None;
    };
    if kernel > padded {
        return None;
    }
    let span = padded - kernel;
    if !span.is_multiple_of(stride) {
        return None;
    }
    Some(span / stride + 1)
}

/// The product of `factors`, or `None` when it overflows.
const fn product(factors: &[usize]) -> Option<usize> {
    let mut result = 1_usize;
    let mut i = 0;
    while i < factors.len() {
        match result.checked_mul(factors[i]) {
            Some(p) => result = p,
            None => return None,
        }
        i += 1;
    }
    Some(result)
}

/// The input positions that a window covers along one axis, without the
/// padding, and the kernel tap of the first of them.
fn span(
    out: usize,
    stride: usize,
    kernel: usize,
    padding: usize,
    len: usize,
) -> (Range<usize>, usize) {
    // in padded coordinates the window is [start, start + kernel)
    let start = out * stride;
    let first = start.max(padding);
    let end = (start + kernel).min(padding + len);
    if end <= first {
        (0..0, 0)
    } else {
        (first - padding..end - padding, first - start)
    }
}

/// The part of the input under one window: channel `channel`, input rows
/// `rows` and columns `cols` (padding left out). `row_tap` and `col_tap` are
/// the kernel row and column of the first row and column.
#[derive(Clone, Debug)]
pub(super) struct Window {
    /// The output index, `c·OH·OW + y·OW + x`.
    pub out: usize,
    /// The channel.
    pub channel: usize,
    /// The input rows under the window.
    pub rows: Range<usize>,
    /// The input columns under the window.
    pub cols: Range<usize>,
    /// The kernel row over `rows.start`.
    pub row_tap: usize,
    /// The kernel column over `cols.start`.
    pub col_tap: usize,
}

impl Geometry2d {
    /// The geometry of a layer that maps `in_channels × in_height ×
    /// in_width` inputs to `out_channels` channels with a `kernel` window
    /// moved by `stride` over the input padded with `padding` zeros on each
    /// side; `None` when a size or a stride is zero, the kernel does not fit
    /// the padded input, `(in − kernel + 2 · padding) / stride` is not exact
    /// on either axis, or a size overflows `usize`.
    ///
    /// ```
    /// use staticnet::layers::Geometry2d;
    ///
    /// let g = Geometry2d::new(1, 28, 28, 8, (4, 4), (2, 2), (1, 1)).unwrap();
    /// assert_eq!((g.out_height, g.out_width), (14, 14)); // (28 − 4 + 2) / 2 + 1
    /// // (32 − 5) / 2 is not exact
    /// assert_eq!(Geometry2d::new(3, 32, 32, 10, (5, 5), (2, 2), (0, 0)), None);
    /// // the kernel is larger than the padded input
    /// assert_eq!(Geometry2d::new(1, 2, 2, 1, (5, 5), (1, 1), (1, 1)), None);
    /// assert_eq!(Geometry2d::new(1, 4, 4, 1, (2, 2), (0, 0), (0, 0)), None);
    /// ```
    #[must_use]
    pub const fn new(
        in_channels: usize,
        in_height: usize,
        in_width: usize,
        out_channels: usize,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Option<Self> {
        if in_channels == 0 || out_channels == 0 {
            return None;
        }
        let Some(out_height) = axis(in_height, kernel.0, stride.0, padding.0) else {
            return None;
        };
        let Some(out_width) = axis(in_width, kernel.1, stride.1, padding.1) else {
            return None;
        };
        // every size the accessors compute must fit
        if product(&[in_channels, in_height, in_width]).is_none()
            || product(&[
                out_channels,
                out_height,
                out_width,
                in_channels,
                kernel.0,
                kernel.1,
            ])
            .is_none()
        {
            return None;
        }
        Some(Self {
            in_channels,
            in_height,
            in_width,
            out_channels,
            kernel,
            stride,
            padding,
            out_height,
            out_width,
        })
    }

    /// The input size, `in_channels · in_height · in_width`.
    ///
    /// ```
    /// use staticnet::layers::Geometry2d;
    ///
    /// let g = Geometry2d::new(3, 4, 5, 2, (3, 3), (1, 1), (1, 1)).unwrap();
    /// assert_eq!(g.in_len(), 60);
    /// ```
    #[must_use]
    pub const fn in_len(&self) -> usize {
        self.in_channels * self.in_height * self.in_width
    }

    /// The output size, `out_channels · out_height · out_width`.
    ///
    /// ```
    /// use staticnet::layers::Geometry2d;
    ///
    /// let g = Geometry2d::new(3, 4, 5, 2, (3, 3), (1, 1), (0, 0)).unwrap();
    /// assert_eq!(g.out_len(), 2 * 2 * 3);
    /// ```
    #[must_use]
    pub const fn out_len(&self) -> usize {
        self.out_channels * self.out_height * self.out_width
    }

    /// The length of one filter, `in_channels · kernel height · kernel
    /// width`: the `K_LEN` of [`Conv2d`].
    ///
    /// ```
    /// use staticnet::layers::Geometry2d;
    ///
    /// let g = Geometry2d::new(3, 8, 8, 16, (2, 3), (1, 1), (0, 0)).unwrap();
    /// assert_eq!(g.kernel_len(), 18);
    /// ```
    #[must_use]
    pub const fn kernel_len(&self) -> usize {
        self.in_channels * self.kernel.0 * self.kernel.1
    }

    /// The multiply-adds of a convolution's forward pass for one sample,
    /// `out_channels · out_height · out_width · in_channels · kernel height ·
    /// kernel width` (a pool instead reads `out_len() · kernel height ·
    /// kernel width` inputs).
    ///
    /// ```
    /// use staticnet::layers::Geometry2d;
    ///
    /// let g = Geometry2d::new(3, 32, 32, 10, (5, 5), (1, 1), (2, 2)).unwrap();
    /// assert_eq!(g.multiply_adds(), 768_000);
    /// ```
    #[must_use]
    pub const fn multiply_adds(&self) -> usize {
        self.out_len() * self.kernel_len()
    }

    /// Output positions per channel, `out_height · out_width`.
    pub(super) const fn positions(&self) -> usize {
        self.out_height * self.out_width
    }

    /// Whether [`Geometry2d::new`] returns this geometry from its inputs.
    pub(super) fn is_valid(&self) -> bool {
        Self::new(
            self.in_channels,
            self.in_height,
            self.in_width,
            self.out_channels,
            self.kernel,
            self.stride,
            self.padding,
        ) == Some(*self)
    }

    /// Calls `f` with every window, channel by channel over
    /// `0..channels`, then row by row, in the order of the output index.
    pub(super) fn for_each_window(&self, channels: usize, mut f: impl FnMut(Window)) {
        let mut out = 0;
        for channel in 0..channels {
            for y in 0..self.out_height {
                let (rows, row_tap) = span(
                    y,
                    self.stride.0,
                    self.kernel.0,
                    self.padding.0,
                    self.in_height,
                );
                for x in 0..self.out_width {
                    let (cols, col_tap) = span(
                        x,
                        self.stride.1,
                        self.kernel.1,
                        self.padding.1,
                        self.in_width,
                    );
                    f(Window {
                        out,
                        channel,
                        rows: rows.clone(),
                        cols,
                        row_tap,
                        col_tap,
                    });
                    out += 1;
                }
            }
        }
    }
}

/// Writes the `kernel_len × positions` patch matrix of one sample `x` into
/// `cols`, column-major: column `q = y·OW + x` holds the receptive field of
/// output position `q` in `(c, i, j)` order, zeros where it covers padding.
#[cfg(feature = "alloc")]
fn im2col<T: Scalar>(g: &Geometry2d, x: &[T], cols: &mut [T]) {
    let k_len = g.kernel_len();
    let (kh, kw) = g.kernel;
    let plane = g.in_height * g.in_width;
    debug_assert_eq!(x.len(), g.in_len());
    debug_assert_eq!(cols.len(), k_len * g.positions());
    g.for_each_window(1, |w| {
        let column = &mut cols[w.out * k_len..(w.out + 1) * k_len];
        if w.rows.len() < kh || w.cols.len() < kw {
            column.fill(T::zero());
        }
        let n = w.cols.len();
        for c in 0..g.in_channels {
            for (i, h) in w.rows.clone().enumerate() {
                let at = (c * kh + w.row_tap + i) * kw + w.col_tap;
                let from = c * plane + h * g.in_width + w.cols.start;
                column[at..at + n].copy_from_slice(&x[from..from + n]);
            }
        }
    });
}

/// The adjoint of [`im2col`]: adds every entry of the patch matrix `cols` to
/// the input position it was copied from (overlapping windows accumulate,
/// padding is dropped).
#[cfg(feature = "alloc")]
fn col2im<T: Scalar>(g: &Geometry2d, cols: &[T], back: &mut [T]) {
    let k_len = g.kernel_len();
    let (kh, kw) = g.kernel;
    let plane = g.in_height * g.in_width;
    debug_assert_eq!(back.len(), g.in_len());
    debug_assert_eq!(cols.len(), k_len * g.positions());
    g.for_each_window(1, |w| {
        let column = &cols[w.out * k_len..(w.out + 1) * k_len];
        let n = w.cols.len();
        for c in 0..g.in_channels {
            for (i, h) in w.rows.clone().enumerate() {
                let at = (c * kh + w.row_tap + i) * kw + w.col_tap;
                let to = c * plane + h * g.in_width + w.cols.start;
                for (b, v) in back[to..to + n].iter_mut().zip(&column[at..at + n]) {
                    *b += *v;
                }
            }
        }
    });
}

/// Calls `f(q, k, i)` for every output position `q` of one channel, every
/// kernel tap `k` (in `(c, i, j)` order) over it and the input index `i`
/// under that tap, padding left out: the entries of [`im2col`]'s patch
/// matrix without the matrix, for builds without `alloc`.
#[cfg(not(feature = "alloc"))]
fn for_each_tap(g: &Geometry2d, mut f: impl FnMut(usize, usize, usize)) {
    let (kh, kw) = g.kernel;
    let plane = g.in_height * g.in_width;
    g.for_each_window(1, |w| {
        for c in 0..g.in_channels {
            for (i, h) in w.rows.clone().enumerate() {
                let tap = (c * kh + w.row_tap + i) * kw + w.col_tap;
                let from = c * plane + h * g.in_width + w.cols.start;
                for j in 0..w.cols.len() {
                    f(w.out, tap + j, from + j);
                }
            }
        }
    });
}

/// A 2-D convolution with `C_OUT` filters of `K_LEN = in_channels · kernel
/// height · kernel width` weights each, and a bias per filter. The rest of
/// the geometry (input size, kernel, stride, padding) is a [`Geometry2d`]
/// passed to every method; input and output sizes are the const parameters
/// `NIN` and `NOUT` of the methods.
///
/// Row `o` of the weight holds filter `o` in `(c, i, j)` order: element
/// `(o, (c·KH + i)·KW + j)` is PyTorch's `weight[o, c, i, j]` (nalgebra
/// stores the matrix column-major, so the slice order differs from
/// PyTorch's). The activation that follows is not part of the layer. `S`
/// says where the parameters live ([`Inline`] or [`Heap`](super::Heap)).
///
/// ```
/// use staticnet::layers::{Conv2d, Geometry2d};
/// use nalgebra::SVector;
///
/// // one 3 × 3 channel, one 2 × 2 filter of ones: sums of 2 × 2 windows
/// const G: Geometry2d = Geometry2d::new(1, 3, 3, 1, (2, 2), (1, 1), (0, 0)).unwrap();
/// let mut conv = Conv2d::<f64, 1, { G.kernel_len() }>::zeros();
/// conv.weight.fill(1.0);
/// conv.bias[0] = 0.5;
/// let x = SVector::<f64, 9>::from([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
/// let z: SVector<f64, 4> = conv.forward(&G, &x);
/// assert_eq!(z, SVector::<f64, 4>::from([12.5, 16.5, 24.5, 28.5]));
/// ```
///
/// # One-dimensional convolutions
///
/// A sequence of `C` channels of length `L` (index `c·L + l`) is a `C × 1 ×
/// L` image, so a 1-D convolution with kernel `k`, stride `s` and padding
/// `p` is this layer with geometry `Geometry2d::new(C, 1, L, C_OUT, (1, k),
/// (1, s), (0, p))`; its weight element `(o, c·k + j)` is PyTorch's
/// `Conv1d.weight[o, c, j]`.
///
/// ```
/// use staticnet::layers::{Conv2d, Geometry2d};
/// use nalgebra::SVector;
///
/// // a length-6 signal, kernel (1, −1) with stride 2 and padding 1
/// const G: Geometry2d = Geometry2d::new(1, 1, 6, 1, (1, 2), (1, 2), (0, 1)).unwrap();
/// assert_eq!(G.out_width, 4);
/// let mut conv = Conv2d::<f64, 1, 2>::zeros();
/// conv.weight.copy_from_slice(&[1.0, -1.0]);
/// let x = SVector::<f64, 6>::from([1.0, 2.0, 4.0, 8.0, 16.0, 32.0]);
/// let z: SVector<f64, 4> = conv.forward(&G, &x);
/// // windows (0, 1), (2, 4), (8, 16), (32, 0): the first and last on padding
/// assert_eq!(z, SVector::<f64, 4>::from([-1.0, -2.0, -8.0, 32.0]));
/// ```
pub struct Conv2d<T: Scalar, const C_OUT: usize, const K_LEN: usize, S: Storage = Inline> {
    /// The filters, `C_OUT × K_LEN`: row `o` holds filter `o` in `(c, i, j)`
    /// order.
    pub weight: S::Matrix<T, C_OUT, K_LEN>,
    /// The bias of each filter.
    pub bias: S::Matrix<T, C_OUT, 1>,
}

impl<T: Scalar, const C_OUT: usize, const K_LEN: usize, S: Storage> Conv2d<T, C_OUT, K_LEN, S> {
    /// The number of scalars in the layer: `C_OUT × K_LEN + C_OUT`.
    ///
    /// ```
    /// // 10 filters of 3 × 5 × 5
    /// assert_eq!(staticnet::layers::Conv2d::<f32, 10, 75>::PARAMETERS, 760);
    /// ```
    pub const PARAMETERS: usize = C_OUT * K_LEN + C_OUT;

    /// A layer whose parameters are all zero.
    ///
    /// ```
    /// let conv = staticnet::layers::Conv2d::<f32, 4, 9>::zeros();
    /// assert_eq!(conv.weight.shape(), (4, 9));
    /// assert_eq!(conv.weight.sum() + conv.bias.sum(), 0.0);
    /// ```
    #[must_use]
    pub fn zeros() -> Self {
        Self {
            weight: S::zeros(),
            bias: S::zeros(),
        }
    }

    /// Checks (in debug builds) that `g` is a valid geometry that fits the
    /// layer and the sizes `NIN` and `NOUT`.
    fn debug_check<const NIN: usize, const NOUT: usize>(g: &Geometry2d) {
        debug_assert!(g.is_valid(), "inconsistent geometry {g:?}");
        debug_assert_eq!(g.out_channels, C_OUT, "geometry has other output channels");
        debug_assert_eq!(g.kernel_len(), K_LEN, "geometry has another filter length");
        debug_assert_eq!(g.in_len(), NIN, "geometry has another input size");
        debug_assert_eq!(g.out_len(), NOUT, "geometry has another output size");
    }

    /// Fills the weight with `weight` and the bias with `bias`, drawing the
    /// weight first, in column-major order, with PyTorch's fans: fan-in
    /// `K_LEN` and fan-out `C_OUT · kernel height · kernel width`.
    /// [`Init::Orthogonal`] makes the `C_OUT` filters orthonormal (rows of
    /// the `C_OUT × K_LEN` weight, when `C_OUT ≤ K_LEN`), as PyTorch's
    /// `orthogonal_` does on the flattened weight.
    ///
    /// ```
    /// use staticnet::init::{Init, seeded_rng};
    /// use staticnet::layers::{Conv2d, Geometry2d};
    ///
    /// let g = Geometry2d::new(3, 8, 8, 4, (3, 3), (1, 1), (1, 1)).unwrap();
    /// let mut conv = Conv2d::<f32, 4, 27>::zeros();
    /// conv.initialize(&g, Init::HeUniform, Init::Constant(0.1), &mut seeded_rng(1));
    /// let limit = (6.0_f32 / 27.0).sqrt();
    /// assert!(conv.weight.iter().all(|w| *w != 0.0 && w.abs() <= limit));
    /// assert!(conv.bias.iter().all(|b| *b == 0.1));
    /// ```
    pub fn initialize<R: Rng + ?Sized>(
        &mut self,
        geometry: &Geometry2d,
        weight: Init,
        bias: Init,
        rng: &mut R,
    ) {
        debug_assert_eq!(
            geometry.out_channels, C_OUT,
            "geometry has other output channels"
        );
        debug_assert_eq!(
            geometry.kernel_len(),
            K_LEN,
            "geometry has another filter length"
        );
        let fan_out = C_OUT * geometry.kernel.0 * geometry.kernel.1;
        if let Init::Orthogonal { .. } = weight {
            // `fill` reads a fan_in · fan_out long slice as the matrix
            weight.fill(self.weight.as_mut_slice(), K_LEN, C_OUT, rng);
        } else {
            weight.fill(self.weight.as_mut_slice(), K_LEN, fan_out, rng);
        }
        bias.fill(self.bias.as_mut_slice(), K_LEN, fan_out, rng);
    }

    /// The convolution `z` of one sample `x` (before the activation).
    ///
    /// ```
    /// use staticnet::layers::{Conv2d, Geometry2d};
    /// use nalgebra::SVector;
    ///
    /// // two channels of 2 × 2, a 1 × 1 kernel: per-pixel mixing of channels
    /// const G: Geometry2d = Geometry2d::new(2, 2, 2, 1, (1, 1), (1, 1), (0, 0)).unwrap();
    /// let mut conv = Conv2d::<f64, 1, 2>::zeros();
    /// conv.weight.copy_from_slice(&[1.0, 10.0]);
    /// let x = SVector::<f64, 8>::from([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    /// let z: SVector<f64, 4> = conv.forward(&G, &x);
    /// assert_eq!(z, SVector::<f64, 4>::from([51.0, 62.0, 73.0, 84.0]));
    /// ```
    #[must_use]
    pub fn forward<const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        x: &SVector<T, NIN>,
    ) -> SVector<T, NOUT> {
        Self::debug_check::<NIN, NOUT>(geometry);
        let positions = geometry.positions();
        let mut z = SVector::<T, NOUT>::zeros();
        for (plane, b) in z
            .as_mut_slice()
            .chunks_exact_mut(positions)
            .zip(self.bias.iter())
        {
            plane.fill(*b);
        }
        #[cfg(not(feature = "alloc"))]
        for_each_tap(geometry, |q, k, i| {
            for o in 0..C_OUT {
                z[o * positions + q] += self.weight[(o, k)] * x[i];
            }
        });
        #[cfg(feature = "alloc")]
        {
            let mut cols = vec![T::zero(); K_LEN * positions];
            im2col(geometry, x.as_slice(), &mut cols);
            // zᵀ as a positions × C_OUT column-major matrix is (colsᵀ Wᵀ)
            gemm(
                (positions, K_LEN, C_OUT),
                T::one(),
                Strided {
                    data: &cols,
                    row_stride: K_LEN,
                    col_stride: 1,
                },
                Strided {
                    data: self.weight.as_slice(),
                    row_stride: C_OUT,
                    col_stride: 1,
                },
                T::one(),
                z.as_mut_slice(),
            );
        }
        z
    }

    /// The convolution of a batch, one sample per column: the patches of
    /// all samples side by side, then one matrix product.
    ///
    /// ```
    /// use staticnet::layers::{Conv2d, Geometry2d};
    /// use nalgebra::{Const, Dyn, OMatrix};
    ///
    /// // one channel of 1 × 3, kernel 1 × 2 of (1, 2): two samples
    /// const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
    /// let mut conv = Conv2d::<f64, 1, 2>::zeros();
    /// conv.weight.copy_from_slice(&[1.0, 2.0]);
    /// let x = OMatrix::<f64, Const<3>, Dyn>::from_column_slice(&[1.0, 2.0, 3.0, 0.0, 1.0, 0.0]);
    /// let z: OMatrix<f64, Const<2>, Dyn> = conv.forward_batch(&G, &x);
    /// assert_eq!(z.as_slice(), &[5.0, 8.0, 2.0, 1.0]);
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn forward_batch<const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        x: &OMatrix<T, Const<NIN>, Dyn>,
    ) -> OMatrix<T, Const<NOUT>, Dyn> {
        Self::debug_check::<NIN, NOUT>(geometry);
        let batch = x.ncols();
        let positions = geometry.positions();
        let cols = batch_im2col::<T, K_LEN>(geometry, x.as_slice(), batch);
        // Y = W · cols, C_OUT × (positions · batch), column (q + b·P)
        let mut y = vec![T::zero(); C_OUT * positions * batch];
        gemm(
            (C_OUT, K_LEN, positions * batch),
            T::one(),
            Strided {
                data: self.weight.as_slice(),
                row_stride: 1,
                col_stride: C_OUT,
            },
            Strided {
                data: &cols,
                row_stride: 1,
                col_stride: K_LEN,
            },
            T::zero(),
            &mut y,
        );
        let mut z = OMatrix::<T, Const<NOUT>, Dyn>::zeros(batch);
        for (sample, ys) in z
            .as_mut_slice()
            .chunks_exact_mut(NOUT)
            .zip(y.chunks_exact(C_OUT * positions))
        {
            for (q, column) in ys.chunks_exact(C_OUT).enumerate() {
                for (o, (v, b)) in column.iter().zip(self.bias.iter()).enumerate() {
                    sample[o * positions + q] = *v + *b;
                }
            }
        }
        z
    }

    /// Adds the gradients of one sample to `gradients`: `∂L/∂W = δ colsᵀ`
    /// (`δ = ∂L/∂z` as a `C_OUT × positions` matrix, `cols` the patches of
    /// the forward input `a`) and `∂L/∂b[o] = Σ δ[o, ·]` over the positions.
    ///
    /// ```
    /// use staticnet::layers::{Conv2d, Geometry2d};
    /// use nalgebra::SVector;
    ///
    /// // 1 × 3 input, kernel 1 × 2: windows (1, 2) and (2, 3)
    /// const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
    /// let mut grads = Conv2d::<f64, 1, 2>::zeros();
    /// let a = SVector::<f64, 3>::from([1.0, 2.0, 3.0]);
    /// let delta = SVector::<f64, 2>::from([1.0, -1.0]);
    /// Conv2d::accumulate_gradients(&G, &a, &delta, &mut grads);
    /// assert_eq!(grads.weight.as_slice(), &[-1.0, -1.0]); // (1, 2) − (2, 3)
    /// assert_eq!(grads.bias[0], 0.0);
    /// ```
    pub fn accumulate_gradients<const NIN: usize, const NOUT: usize>(
        geometry: &Geometry2d,
        a: &SVector<T, NIN>,
        delta: &SVector<T, NOUT>,
        gradients: &mut Self,
    ) {
        Self::debug_check::<NIN, NOUT>(geometry);
        let positions = geometry.positions();
        #[cfg(not(feature = "alloc"))]
        for_each_tap(geometry, |q, k, i| {
            for o in 0..C_OUT {
                gradients.weight[(o, k)] += delta[o * positions + q] * a[i];
            }
        });
        #[cfg(feature = "alloc")]
        {
            let mut cols = vec![T::zero(); K_LEN * positions];
            im2col(geometry, a.as_slice(), &mut cols);
            gemm(
                (C_OUT, positions, K_LEN),
                T::one(),
                Strided {
                    data: delta.as_slice(),
                    row_stride: positions,
                    col_stride: 1,
                },
                Strided {
                    data: &cols,
                    row_stride: K_LEN,
                    col_stride: 1,
                },
                T::one(),
                gradients.weight.as_mut_slice(),
            );
        }
        for (b, plane) in gradients
            .bias
            .iter_mut()
            .zip(delta.as_slice().chunks_exact(positions))
        {
            *b += plane.iter().fold(T::zero(), |s, d| s + *d);
        }
    }

    /// `∂L/∂a`: the delta passed back to the layer's input, `Wᵀ δ` per
    /// position, each window's share added to the inputs it covers
    /// (overlapping windows accumulate; padding is dropped).
    ///
    /// ```
    /// use staticnet::layers::{Conv2d, Geometry2d};
    /// use nalgebra::SVector;
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
    /// let mut conv = Conv2d::<f64, 1, 2>::zeros();
    /// conv.weight.copy_from_slice(&[1.0, 2.0]);
    /// let back: SVector<f64, 3> = conv.backpropagate(&G, &SVector::<f64, 2>::from([1.0, 10.0]));
    /// // input 1 feeds the second tap of window 0 and the first of window 1
    /// assert_eq!(back, SVector::<f64, 3>::from([1.0, 12.0, 20.0]));
    /// ```
    #[must_use]
    pub fn backpropagate<const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        delta: &SVector<T, NOUT>,
    ) -> SVector<T, NIN> {
        Self::debug_check::<NIN, NOUT>(geometry);
        let positions = geometry.positions();
        let mut back = SVector::<T, NIN>::zeros();
        #[cfg(not(feature = "alloc"))]
        for_each_tap(geometry, |q, k, i| {
            for o in 0..C_OUT {
                back[i] += self.weight[(o, k)] * delta[o * positions + q];
            }
        });
        #[cfg(feature = "alloc")]
        {
            let mut cols = vec![T::zero(); K_LEN * positions];
            gemm(
                (K_LEN, C_OUT, positions),
                T::one(),
                Strided {
                    data: self.weight.as_slice(),
                    row_stride: C_OUT,
                    col_stride: 1,
                },
                Strided {
                    data: delta.as_slice(),
                    row_stride: positions,
                    col_stride: 1,
                },
                T::zero(),
                &mut cols,
            );
            col2im(geometry, &cols, back.as_mut_slice());
        }
        back
    }

    /// [`accumulate_gradients`](Self::accumulate_gradients), then
    /// [`backpropagate`](Self::backpropagate).
    ///
    /// ```
    /// use staticnet::layers::{Conv2d, Geometry2d};
    /// use nalgebra::SVector;
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
    /// let mut conv = Conv2d::<f64, 1, 2>::zeros();
    /// conv.weight.copy_from_slice(&[1.0, 2.0]);
    /// let mut grads = Conv2d::<f64, 1, 2>::zeros();
    /// let a = SVector::<f64, 3>::from([1.0, 2.0, 3.0]);
    /// let back = conv.backward(&G, &a, &SVector::<f64, 2>::from([1.0, 10.0]), &mut grads);
    /// assert_eq!(back, SVector::<f64, 3>::from([1.0, 12.0, 20.0]));
    /// assert_eq!(grads.weight.as_slice(), &[21.0, 32.0]); // (1, 2) + 10 (2, 3)
    /// assert_eq!(grads.bias[0], 11.0);
    /// ```
    pub fn backward<const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        a: &SVector<T, NIN>,
        delta: &SVector<T, NOUT>,
        gradients: &mut Self,
    ) -> SVector<T, NIN> {
        Self::accumulate_gradients(geometry, a, delta, gradients);
        self.backpropagate(geometry, delta)
    }

    /// Adds the gradients of a batch to `gradients`: the sums over the
    /// columns of the single-sample gradients, computed with one matrix
    /// product. Pass deltas of the mean loss to accumulate the mean.
    ///
    /// # Panics
    ///
    /// If `a` and `delta` have different numbers of columns.
    ///
    /// ```
    /// use staticnet::layers::{Conv2d, Geometry2d};
    /// use nalgebra::{Const, Dyn, OMatrix};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
    /// let mut grads = Conv2d::<f64, 1, 2>::zeros();
    /// let a = OMatrix::<f64, Const<3>, Dyn>::from_column_slice(&[1.0, 2.0, 3.0, 0.0, 1.0, 0.0]);
    /// let delta = OMatrix::<f64, Const<2>, Dyn>::from_column_slice(&[1.0, 0.0, 0.0, 2.0]);
    /// Conv2d::accumulate_batch_gradients(&G, &a, &delta, &mut grads);
    /// // (1, 2) from the first sample, 2 (1, 0) from the second
    /// assert_eq!(grads.weight.as_slice(), &[3.0, 2.0]);
    /// assert_eq!(grads.bias[0], 3.0);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn accumulate_batch_gradients<const NIN: usize, const NOUT: usize>(
        geometry: &Geometry2d,
        a: &OMatrix<T, Const<NIN>, Dyn>,
        delta: &OMatrix<T, Const<NOUT>, Dyn>,
        gradients: &mut Self,
    ) {
        assert_eq!(
            a.ncols(),
            delta.ncols(),
            "inputs and deltas differ in batch size"
        );
        Self::debug_check::<NIN, NOUT>(geometry);
        let d = channels_last::<T, C_OUT>(geometry, delta.as_slice());
        Self::accumulate_channels_last(geometry, a, &d, gradients);
    }

    /// The batch gradients from the deltas in [`channels_last`] order.
    #[cfg(feature = "alloc")]
    fn accumulate_channels_last<const NIN: usize>(
        geometry: &Geometry2d,
        a: &OMatrix<T, Const<NIN>, Dyn>,
        d: &[T],
        gradients: &mut Self,
    ) {
        let columns = geometry.positions() * a.ncols();
        let cols = batch_im2col::<T, K_LEN>(geometry, a.as_slice(), a.ncols());
        gemm(
            (C_OUT, columns, K_LEN),
            T::one(),
            Strided {
                data: d,
                row_stride: 1,
                col_stride: C_OUT,
            },
            Strided {
                data: &cols,
                row_stride: K_LEN,
                col_stride: 1,
            },
            T::one(),
            gradients.weight.as_mut_slice(),
        );
        for column in d.chunks_exact(C_OUT) {
            for (b, v) in gradients.bias.iter_mut().zip(column) {
                *b += *v;
            }
        }
    }

    /// [`backpropagate`](Self::backpropagate) for a batch of deltas, one
    /// sample per column.
    ///
    /// ```
    /// use staticnet::layers::{Conv2d, Geometry2d};
    /// use nalgebra::{Const, Dyn, OMatrix};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
    /// let mut conv = Conv2d::<f64, 1, 2>::zeros();
    /// conv.weight.copy_from_slice(&[1.0, 2.0]);
    /// let delta = OMatrix::<f64, Const<2>, Dyn>::from_column_slice(&[1.0, 10.0, 0.0, 1.0]);
    /// let back: OMatrix<f64, Const<3>, Dyn> = conv.backpropagate_batch(&G, &delta);
    /// assert_eq!(back.as_slice(), &[1.0, 12.0, 20.0, 0.0, 1.0, 2.0]);
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn backpropagate_batch<const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        delta: &OMatrix<T, Const<NOUT>, Dyn>,
    ) -> OMatrix<T, Const<NIN>, Dyn> {
        Self::debug_check::<NIN, NOUT>(geometry);
        let d = channels_last::<T, C_OUT>(geometry, delta.as_slice());
        self.backpropagate_channels_last(geometry, &d, delta.ncols())
    }

    /// The input deltas of a batch from its deltas in [`channels_last`]
    /// order.
    #[cfg(feature = "alloc")]
    fn backpropagate_channels_last<const NIN: usize>(
        &self,
        geometry: &Geometry2d,
        d: &[T],
        batch: usize,
    ) -> OMatrix<T, Const<NIN>, Dyn> {
        let positions = geometry.positions();
        let mut cols = vec![T::zero(); K_LEN * positions * batch];
        gemm(
            (K_LEN, C_OUT, positions * batch),
            T::one(),
            Strided {
                data: self.weight.as_slice(),
                row_stride: C_OUT,
                col_stride: 1,
            },
            Strided {
                data: d,
                row_stride: 1,
                col_stride: C_OUT,
            },
            T::zero(),
            &mut cols,
        );
        let mut back = OMatrix::<T, Const<NIN>, Dyn>::zeros(batch);
        for (sample, cols) in back
            .as_mut_slice()
            .chunks_exact_mut(NIN)
            .zip(cols.chunks_exact(K_LEN * positions))
        {
            col2im(geometry, cols, sample);
        }
        back
    }

    /// [`accumulate_batch_gradients`](Self::accumulate_batch_gradients),
    /// then [`backpropagate_batch`](Self::backpropagate_batch).
    ///
    /// # Panics
    ///
    /// If `a` and `delta` have different numbers of columns.
    ///
    /// ```
    /// use staticnet::layers::{Conv2d, Geometry2d};
    /// use nalgebra::{Const, Dyn, OMatrix};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
    /// let mut conv = Conv2d::<f64, 1, 2>::zeros();
    /// conv.weight.copy_from_slice(&[1.0, 2.0]);
    /// let mut grads = Conv2d::<f64, 1, 2>::zeros();
    /// let a = OMatrix::<f64, Const<3>, Dyn>::from_column_slice(&[1.0, 2.0, 3.0, 0.0, 1.0, 0.0]);
    /// let delta = OMatrix::<f64, Const<2>, Dyn>::from_column_slice(&[1.0, 10.0, 0.0, 1.0]);
    /// let back: OMatrix<f64, Const<3>, Dyn> = conv.backward_batch(&G, &a, &delta, &mut grads);
    /// assert_eq!(back.as_slice(), &[1.0, 12.0, 20.0, 0.0, 1.0, 2.0]);
    /// assert_eq!(grads.weight.as_slice(), &[22.0, 32.0]);
    /// assert_eq!(grads.bias[0], 12.0);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn backward_batch<const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        a: &OMatrix<T, Const<NIN>, Dyn>,
        delta: &OMatrix<T, Const<NOUT>, Dyn>,
        gradients: &mut Self,
    ) -> OMatrix<T, Const<NIN>, Dyn> {
        assert_eq!(
            a.ncols(),
            delta.ncols(),
            "inputs and deltas differ in batch size"
        );
        Self::debug_check::<NIN, NOUT>(geometry);
        let d = channels_last::<T, C_OUT>(geometry, delta.as_slice());
        Self::accumulate_channels_last(geometry, a, &d, gradients);
        self.backpropagate_channels_last(geometry, &d, delta.ncols())
    }

    /// Calls `f` with `layer.weight` and `layer.bias` and their values.
    ///
    /// ```
    /// use staticnet::layers::Conv2d;
    ///
    /// let conv = Conv2d::<f32, 4, 27>::zeros();
    /// let mut seen = Vec::new();
    /// conv.for_each_parameter("c1", |name, values| seen.push(format!("{name}: {}", values.len())));
    /// assert_eq!(seen, ["c1.weight: 108", "c1.bias: 4"]);
    /// ```
    pub fn for_each_parameter<F: FnMut(ParamName, &[T])>(&self, layer: &'static str, mut f: F) {
        super::visit(layer, self.weight.as_slice(), self.bias.as_slice(), &mut f);
    }

    /// Calls `f` with `layer.weight` and `layer.bias` and their mutable
    /// values.
    ///
    /// ```
    /// use staticnet::layers::Conv2d;
    ///
    /// let mut conv = Conv2d::<f64, 2, 3>::zeros();
    /// conv.for_each_parameter_mut("c1", |name, values| {
    ///     values.fill(if name.tensor == "weight" { 2.0 } else { 1.0 })
    /// });
    /// assert_eq!((conv.weight.sum(), conv.bias.sum()), (12.0, 2.0));
    /// ```
    pub fn for_each_parameter_mut<F: FnMut(ParamName, &mut [T])>(
        &mut self,
        layer: &'static str,
        mut f: F,
    ) {
        super::visit_mut(
            layer,
            self.weight.as_mut_slice(),
            self.bias.as_mut_slice(),
            &mut f,
        );
    }

    /// Calls `f` with each tensor's name, its mutable values and the
    /// matching values of `gradients`.
    ///
    /// ```
    /// use staticnet::layers::Conv2d;
    ///
    /// let mut conv = Conv2d::<f64, 2, 3>::zeros();
    /// let mut grads = Conv2d::<f64, 2, 3>::zeros();
    /// grads.bias[1] = 4.0;
    /// conv.for_each_parameter_and_gradient(&grads, "c1", |_, theta, grad| {
    ///     theta.iter_mut().zip(grad).for_each(|(t, g)| *t -= 0.5 * g)
    /// });
    /// assert_eq!(conv.bias[1], -2.0);
    /// assert_eq!(conv.weight.sum(), 0.0);
    /// ```
    pub fn for_each_parameter_and_gradient<F: FnMut(ParamName, &mut [T], &[T])>(
        &mut self,
        gradients: &Self,
        layer: &'static str,
        mut f: F,
    ) {
        super::visit_with_gradients(
            layer,
            [self.weight.as_mut_slice(), self.bias.as_mut_slice()],
            [gradients.weight.as_slice(), gradients.bias.as_slice()],
            &mut f,
        );
    }
}

/// The patches of every sample of a batch (`x` holds the samples one after
/// another), side by side: a `K_LEN × (positions · batch)` column-major
/// matrix whose column `q + b·positions` is position `q` of sample `b`.
#[cfg(feature = "alloc")]
fn batch_im2col<T: Scalar, const K_LEN: usize>(g: &Geometry2d, x: &[T], batch: usize) -> Vec<T> {
    let per_sample = K_LEN * g.positions();
    let mut cols = vec![T::zero(); per_sample * batch];
    let n_in = g.in_len();
    for (sample, cols) in x.chunks_exact(n_in).zip(cols.chunks_exact_mut(per_sample)) {
        im2col(g, sample, cols);
    }
    cols
}

/// The deltas of a batch (sample `b` at `b·NOUT`, within it `o·P + q`)
/// rearranged into a `C_OUT × (positions · batch)` column-major matrix
/// whose column `q + b·positions` is position `q` of sample `b`.
#[cfg(feature = "alloc")]
fn channels_last<T: Scalar, const C_OUT: usize>(g: &Geometry2d, delta: &[T]) -> Vec<T> {
    let positions = g.positions();
    let n_out = C_OUT * positions;
    let mut d = vec![T::zero(); delta.len()];
    for (sample, ds) in delta.chunks_exact(n_out).zip(d.chunks_exact_mut(n_out)) {
        for (o, plane) in sample.chunks_exact(positions).enumerate() {
            for (q, v) in plane.iter().enumerate() {
                ds[q * C_OUT + o] = *v;
            }
        }
    }
    d
}

impl<T: Scalar, const C_OUT: usize, const K_LEN: usize> Conv2d<T, C_OUT, K_LEN, Inline> {
    /// A layer of the given filters (`C_OUT × K_LEN`, row `o` filter `o` in
    /// `(c, i, j)` order) and biases, kept inline. A `const fn`, so a layer
    /// of known weights can be a constant: networks declared with
    /// `#[weights = "..."]` are built with it.
    ///
    /// ```
    /// use staticnet::layers::{Conv2d, Geometry2d};
    /// use nalgebra::{ArrayStorage, SMatrix, SVector};
    ///
    /// // one 1 × 3 signal, one filter (1, 0, −1): a difference of neighbours
    /// const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 3), (1, 1), (0, 1)).unwrap();
    /// const EDGE: Conv2d<f64, 1, 3> = Conv2d::from_matrices(
    ///     SMatrix::from_array_storage(ArrayStorage([[1.0], [0.0], [-1.0]])),
    ///     SVector::from_array_storage(ArrayStorage([[0.0]])),
    /// );
    /// let z: SVector<f64, 3> = EDGE.forward(&G, &SVector::from([1.0, 2.0, 4.0]));
    /// assert_eq!(z, SVector::from([-2.0, -3.0, 2.0]));
    /// ```
    #[must_use]
    pub const fn from_matrices(weight: SMatrix<T, C_OUT, K_LEN>, bias: SVector<T, C_OUT>) -> Self {
        Self {
            weight: InlineMatrix(weight),
            bias: InlineMatrix(bias),
        }
    }
}

impl<T: Scalar, const C_OUT: usize, const K_LEN: usize, S: Storage> Clone
    for Conv2d<T, C_OUT, K_LEN, S>
{
    fn clone(&self) -> Self {
        Self {
            weight: self.weight.clone(),
            bias: self.bias.clone(),
        }
    }
}

/// Inline layers are plain values.
impl<T: Scalar, const C_OUT: usize, const K_LEN: usize> Copy for Conv2d<T, C_OUT, K_LEN, Inline> {}

impl<T: Scalar, const C_OUT: usize, const K_LEN: usize, S: Storage> PartialEq
    for Conv2d<T, C_OUT, K_LEN, S>
{
    fn eq(&self, other: &Self) -> bool {
        self.weight == other.weight && self.bias == other.bias
    }
}

impl<T: Scalar, const C_OUT: usize, const K_LEN: usize, S: Storage> Default
    for Conv2d<T, C_OUT, K_LEN, S>
{
    fn default() -> Self {
        Self::zeros()
    }
}

impl<T: Scalar, const C_OUT: usize, const K_LEN: usize, S: Storage> fmt::Debug
    for Conv2d<T, C_OUT, K_LEN, S>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conv2d")
            .field("weight", &self.weight)
            .field("bias", &self.bias)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::seeded_rng;
    #[cfg(feature = "alloc")]
    use crate::layers::Heap;
    use nalgebra::SMatrix;
    use rand::RngExt;

    /// `n` values uniform in `[−1, 1)`, the same for the same seed.
    fn random(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = seeded_rng(seed);
        (0..n).map(|_| 2.0 * rng.random::<f64>() - 1.0).collect()
    }

    /// A layer from weights in PyTorch's `[C_OUT, C_IN, KH, KW]` order.
    fn layer<const C_OUT: usize, const K_LEN: usize>(seed: u64) -> Conv2d<f64, C_OUT, K_LEN> {
        let mut l = Conv2d::<f64, C_OUT, K_LEN>::zeros();
        *l.weight = SMatrix::<f64, C_OUT, K_LEN>::from_row_slice(&random(C_OUT * K_LEN, seed));
        l.bias.copy_from_slice(&random(C_OUT, seed + 1));
        l
    }

    /// The convolution by its definition, weights in PyTorch's order.
    fn naive(g: &Geometry2d, w: &[f64], b: &[f64], x: &[f64]) -> Vec<f64> {
        let (kh, kw) = g.kernel;
        let mut z = Vec::new();
        for o in 0..g.out_channels {
            for oh in 0..g.out_height {
                for ow in 0..g.out_width {
                    let mut sum = b[o];
                    for c in 0..g.in_channels {
                        for i in 0..kh {
                            for j in 0..kw {
                                let ih = (oh * g.stride.0 + i) as isize - g.padding.0 as isize;
                                let iw = (ow * g.stride.1 + j) as isize - g.padding.1 as isize;
                                if ih < 0
                                    || iw < 0
                                    || ih >= g.in_height as isize
                                    || iw >= g.in_width as isize
                                {
                                    continue;
                                }
                                let (ih, iw) = (ih as usize, iw as usize);
                                sum += w[((o * g.in_channels + c) * kh + i) * kw + j]
                                    * x[(c * g.in_height + ih) * g.in_width + iw];
                            }
                        }
                    }
                    z.push(sum);
                }
            }
        }
        z
    }

    fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    /// `‖a − b‖ / max(‖a‖, ‖b‖)`, 0 when both are 0.
    fn relative_error(a: &[f64], b: &[f64]) -> f64 {
        assert_eq!(a.len(), b.len());
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let diff: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
        let scale = norm(a).max(norm(b));
        if scale == 0.0 {
            0.0
        } else {
            norm(&diff) / scale
        }
    }

    fn check_forward<
        const C_OUT: usize,
        const K_LEN: usize,
        const NIN: usize,
        const NOUT: usize,
    >(
        g: Geometry2d,
        seed: u64,
    ) {
        let l = layer::<C_OUT, K_LEN>(seed);
        let x = random(NIN, seed + 2);
        let w = random(C_OUT * K_LEN, seed);
        let z: SVector<f64, NOUT> = l.forward(&g, &SVector::<f64, NIN>::from_column_slice(&x));
        let expected = naive(&g, &w, l.bias.as_slice(), &x);
        assert!(
            max_abs_diff(z.as_slice(), &expected) < 1e-12,
            "{g:?}: {z:?} vs {expected:?}"
        );
        #[cfg(feature = "alloc")]
        {
            let batch =
                OMatrix::<f64, Const<NIN>, Dyn>::from_column_slice(&random(4 * NIN, seed + 3));
            let zb: OMatrix<f64, Const<NOUT>, Dyn> = l.forward_batch(&g, &batch);
            assert_eq!(zb.ncols(), 4);
            for (j, column) in batch.column_iter().enumerate() {
                let single: SVector<f64, NOUT> = l.forward(&g, &column.into_owned());
                assert!(max_abs_diff(zb.column(j).as_slice(), single.as_slice()) < 1e-12);
            }
        }
    }

    macro_rules! forward_case {
        ($seed:expr, $($arg:expr),+) => {{
            const G: Geometry2d = Geometry2d::new($($arg),+).unwrap();
            check_forward::<{ G.out_channels }, { G.kernel_len() }, { G.in_len() }, { G.out_len() }>(
                G, $seed,
            );
        }};
    }

    #[test]
    fn forward_matches_direct_convolution() {
        forward_case!(1, 1, 5, 7, 2, (1, 1), (1, 1), (0, 0));
        forward_case!(2, 3, 5, 7, 2, (1, 1), (2, 2), (0, 0));
        forward_case!(3, 3, 4, 6, 2, (1, 1), (1, 1), (1, 2));
        forward_case!(4, 1, 5, 7, 2, (3, 3), (1, 1), (1, 1));
        forward_case!(5, 3, 6, 4, 2, (3, 3), (1, 1), (2, 2));
        forward_case!(6, 3, 7, 5, 2, (3, 3), (2, 2), (1, 1));
        forward_case!(7, 1, 3, 5, 2, (3, 3), (1, 2), (0, 1));
        forward_case!(8, 1, 4, 7, 2, (2, 3), (2, 2), (0, 0));
        forward_case!(9, 3, 4, 5, 2, (2, 3), (1, 1), (1, 2));
        forward_case!(10, 3, 6, 9, 2, (2, 3), (2, 2), (2, 1));
        // windows that see only padding give the bias
        forward_case!(11, 1, 1, 1, 2, (1, 1), (1, 1), (2, 2));
        forward_case!(12, 3, 2, 3, 2, (3, 3), (1, 1), (2, 2));
    }

    /// Checks the analytic gradients of `L = Σ c ⊙ z + ½ Σ z²` (so
    /// `δ = c + z`) against central differences, and the batch passes
    /// against sums of single ones.
    fn check_gradients<
        const C_OUT: usize,
        const K_LEN: usize,
        const NIN: usize,
        const NOUT: usize,
    >(
        g: Geometry2d,
        seed: u64,
    ) {
        let l = layer::<C_OUT, K_LEN>(seed);
        let a = SVector::<f64, NIN>::from_column_slice(&random(NIN, seed + 2));
        let c = SVector::<f64, NOUT>::from_column_slice(&random(NOUT, seed + 3));
        let loss = |l: &Conv2d<f64, C_OUT, K_LEN>, a: &SVector<f64, NIN>| {
            let z: SVector<f64, NOUT> = l.forward(&g, a);
            c.dot(&z) + 0.5 * z.norm_squared()
        };
        let z: SVector<f64, NOUT> = l.forward(&g, &a);
        let delta = c + z;
        let mut grads = Conv2d::<f64, C_OUT, K_LEN>::zeros();
        let back = l.backward(&g, &a, &delta, &mut grads);

        let h = 1e-6;
        let mut fd_weight = vec![0.0; C_OUT * K_LEN];
        for (i, fd) in fd_weight.iter_mut().enumerate() {
            let (mut plus, mut minus) = (l, l);
            plus.weight.as_mut_slice()[i] += h;
            minus.weight.as_mut_slice()[i] -= h;
            *fd = (loss(&plus, &a) - loss(&minus, &a)) / (2.0 * h);
        }
        let mut fd_bias = vec![0.0; C_OUT];
        for (i, fd) in fd_bias.iter_mut().enumerate() {
            let (mut plus, mut minus) = (l, l);
            plus.bias[i] += h;
            minus.bias[i] -= h;
            *fd = (loss(&plus, &a) - loss(&minus, &a)) / (2.0 * h);
        }
        let mut fd_input = vec![0.0; NIN];
        for (i, fd) in fd_input.iter_mut().enumerate() {
            let (mut plus, mut minus) = (a, a);
            plus[i] += h;
            minus[i] -= h;
            *fd = (loss(&l, &plus) - loss(&l, &minus)) / (2.0 * h);
        }
        for (what, analytic, fd) in [
            ("weight", grads.weight.as_slice(), &fd_weight[..]),
            ("bias", grads.bias.as_slice(), &fd_bias[..]),
            ("input", back.as_slice(), &fd_input[..]),
        ] {
            let e = relative_error(analytic, fd);
            assert!(e < 1e-6, "{g:?}: {what} gradient off by {e}");
        }

        #[cfg(feature = "alloc")]
        {
            // a batch of 3: gradients are the sums of the single ones
            let batch = 3;
            let a =
                OMatrix::<f64, Const<NIN>, Dyn>::from_column_slice(&random(batch * NIN, seed + 4));
            let d = OMatrix::<f64, Const<NOUT>, Dyn>::from_column_slice(&random(
                batch * NOUT,
                seed + 5,
            ));
            let mut batch_grads = Conv2d::<f64, C_OUT, K_LEN>::zeros();
            let back = l.backward_batch(&g, &a, &d, &mut batch_grads);
            let mut only_grads = Conv2d::<f64, C_OUT, K_LEN>::zeros();
            Conv2d::accumulate_batch_gradients(&g, &a, &d, &mut only_grads);
            assert_eq!(only_grads, batch_grads);
            let only_back: OMatrix<f64, Const<NIN>, Dyn> = l.backpropagate_batch(&g, &d);
            assert_eq!(only_back, back);
            let mut single = Conv2d::<f64, C_OUT, K_LEN>::zeros();
            for j in 0..batch {
                let b = l.backward(
                    &g,
                    &a.column(j).into_owned(),
                    &d.column(j).into_owned(),
                    &mut single,
                );
                assert!(max_abs_diff(back.column(j).as_slice(), b.as_slice()) < 1e-12);
            }
            assert!(max_abs_diff(batch_grads.weight.as_slice(), single.weight.as_slice()) < 1e-12);
            assert!(max_abs_diff(batch_grads.bias.as_slice(), single.bias.as_slice()) < 1e-12);
        }
    }

    macro_rules! gradient_case {
        ($seed:expr, $($arg:expr),+) => {{
            const G: Geometry2d = Geometry2d::new($($arg),+).unwrap();
            check_gradients::<{ G.out_channels }, { G.kernel_len() }, { G.in_len() }, { G.out_len() }>(
                G, $seed,
            );
        }};
    }

    #[test]
    fn gradients_match_finite_differences_3x3() {
        for_strides_and_paddings!(gradient_case, 20, (3, 3), 5, 7);
    }

    #[test]
    fn gradients_match_finite_differences_2x3() {
        for_strides_and_paddings!(gradient_case, 40, (2, 3), 4, 7);
    }

    /// Every combination of stride (1, 2), padding (0, 1) and channels
    /// (1 → 2, 3 → 2) for one kernel and input size.
    macro_rules! for_strides_and_paddings {
        ($case:ident, $seed:expr, $k:expr, $h:expr, $w:expr) => {
            $case!($seed, 1, $h, $w, 2, $k, (1, 1), (0, 0));
            $case!($seed + 1, 1, $h, $w, 2, $k, (1, 1), (1, 1));
            $case!($seed + 2, 1, $h, $w, 2, $k, (2, 2), (0, 0));
            $case!($seed + 3, 1, $h, $w, 2, $k, (2, 2), (1, 1));
            $case!($seed + 4, 3, $h, $w, 2, $k, (1, 1), (0, 0));
            $case!($seed + 5, 3, $h, $w, 2, $k, (1, 1), (1, 1));
            $case!($seed + 6, 3, $h, $w, 2, $k, (2, 2), (0, 0));
            $case!($seed + 7, 3, $h, $w, 2, $k, (2, 2), (1, 1));
        };
    }
    use for_strides_and_paddings;

    #[test]
    fn geometry_arithmetic() {
        // the lecture's example: 3 × 32 × 32, 10 filters 5 × 5, stride 1, padding 2
        const G: Geometry2d = Geometry2d::new(3, 32, 32, 10, (5, 5), (1, 1), (2, 2)).unwrap();
        assert_eq!((G.out_channels, G.out_height, G.out_width), (10, 32, 32));
        assert_eq!(G.out_len(), 10 * 32 * 32);
        assert_eq!(G.in_len(), 3 * 32 * 32);
        assert_eq!(G.kernel_len(), 75);
        assert_eq!(
            Conv2d::<f32, { G.out_channels }, { G.kernel_len() }>::PARAMETERS,
            760
        );
        assert_eq!(G.multiply_adds(), 768_000);
        assert!(G.is_valid());

        // non-exact strides
        assert_eq!(Geometry2d::new(3, 32, 32, 10, (5, 5), (2, 2), (0, 0)), None);
        assert_eq!(Geometry2d::new(1, 7, 8, 1, (3, 3), (2, 2), (0, 0)), None);
        assert_eq!(Geometry2d::new(1, 8, 7, 1, (3, 3), (2, 2), (0, 0)), None);
        assert!(Geometry2d::new(1, 7, 7, 1, (3, 3), (2, 2), (0, 0)).is_some());
        // zero sizes and strides
        assert_eq!(Geometry2d::new(0, 4, 4, 1, (1, 1), (1, 1), (0, 0)), None);
        assert_eq!(Geometry2d::new(1, 0, 4, 1, (1, 1), (1, 1), (0, 0)), None);
        assert_eq!(Geometry2d::new(1, 4, 0, 1, (1, 1), (1, 1), (0, 0)), None);
        assert_eq!(Geometry2d::new(1, 4, 4, 0, (1, 1), (1, 1), (0, 0)), None);
        assert_eq!(Geometry2d::new(1, 4, 4, 1, (0, 1), (1, 1), (0, 0)), None);
        assert_eq!(Geometry2d::new(1, 4, 4, 1, (1, 0), (1, 1), (0, 0)), None);
        assert_eq!(Geometry2d::new(1, 4, 4, 1, (1, 1), (1, 0), (0, 0)), None);
        // a kernel larger than the padded input, and one exactly as large
        assert_eq!(Geometry2d::new(1, 4, 4, 1, (7, 1), (1, 1), (1, 0)), None);
        let g = Geometry2d::new(1, 4, 4, 1, (6, 1), (5, 1), (1, 0)).unwrap();
        assert_eq!((g.out_height, g.out_width), (1, 4));
        // sizes that overflow are refused instead of wrapping
        assert_eq!(
            Geometry2d::new(1, usize::MAX, 1, 1, (1, 1), (1, 1), (1, 0)),
            None
        );
        assert_eq!(
            Geometry2d::new(usize::MAX, 2, 2, 1, (1, 1), (1, 1), (0, 0)),
            None
        );
        assert_eq!(
            Geometry2d::new(1, 1 << 40, 1 << 30, 1, (1, 1), (1, 1), (0, 0)),
            None
        );
        // an edited geometry is not valid
        let mut bad = G;
        bad.out_width = 31;
        assert!(!bad.is_valid());
    }

    #[test]
    fn conv1d_is_conv2d_with_height_1() {
        // PyTorch Conv1d(2, 3, kernel_size=3, stride=2, padding=1) on length 9
        const G: Geometry2d = Geometry2d::new(2, 1, 9, 3, (1, 3), (1, 2), (0, 1)).unwrap();
        assert_eq!((G.out_height, G.out_width), (1, 5));
        let l = layer::<3, 6>(60);
        let w = random(18, 60); // weight[o, c, j]
        let x = random(18, 62); // x[c, l]
        let z: SVector<f64, 15> = l.forward(&G, &SVector::<f64, 18>::from_column_slice(&x));
        for o in 0..3 {
            for t in 0..5 {
                let mut sum = l.bias[o];
                for c in 0..2 {
                    for j in 0..3 {
                        let at = (2 * t + j) as isize - 1;
                        if (0..9).contains(&at) {
                            sum += w[(o * 2 + c) * 3 + j] * x[c * 9 + at as usize];
                        }
                    }
                }
                assert!((z[o * 5 + t] - sum).abs() < 1e-12);
            }
        }
        gradient_case!(61, 2, 1, 9, 3, (1, 3), (1, 2), (0, 1));
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn heap_layer_computes_like_inline_layer() {
        const G: Geometry2d = Geometry2d::new(3, 6, 5, 4, (3, 3), (1, 1), (1, 1)).unwrap();
        let mut inline = Conv2d::<f32, 4, 27>::zeros();
        inline.initialize(
            &G,
            Init::GlorotUniform,
            Init::Uniform {
                low: -0.1,
                high: 0.1,
            },
            &mut seeded_rng(5),
        );
        let mut heap = Conv2d::<f32, 4, 27, Heap>::zeros();
        heap.initialize(
            &G,
            Init::GlorotUniform,
            Init::Uniform {
                low: -0.1,
                high: 0.1,
            },
            &mut seeded_rng(5),
        );
        assert_eq!(*inline.weight, *heap.weight);
        assert_eq!(*inline.bias, *heap.bias);
        let a = OMatrix::<f32, Const<90>, Dyn>::from_fn(5, |i, j| {
            ((i * 7 + j * 3) % 11) as f32 * 0.1 - 0.5
        });
        let zi: OMatrix<f32, Const<120>, Dyn> = inline.forward_batch(&G, &a);
        let zh: OMatrix<f32, Const<120>, Dyn> = heap.forward_batch(&G, &a);
        assert_eq!(zi, zh);
        let si: SVector<f32, 120> = inline.forward(&G, &a.column(1).into_owned());
        let sh: SVector<f32, 120> = heap.forward(&G, &a.column(1).into_owned());
        assert_eq!(si, sh);
        let d = OMatrix::<f32, Const<120>, Dyn>::from_fn(5, |i, j| ((i + 2 * j) % 5) as f32 * 0.01);
        let (mut gi, mut gh) = (
            Conv2d::<f32, 4, 27>::zeros(),
            Conv2d::<f32, 4, 27, Heap>::zeros(),
        );
        assert_eq!(
            inline.backward_batch(&G, &a, &d, &mut gi),
            heap.backward_batch(&G, &a, &d, &mut gh)
        );
        assert_eq!(*gi.weight, *gh.weight);
        assert_eq!(*gi.bias, *gh.bias);
        let clone = heap.clone();
        assert_eq!(clone, heap);
    }

    #[test]
    fn initializers_use_convolution_fans() {
        const G: Geometry2d = Geometry2d::new(2, 6, 6, 3, (3, 3), (1, 1), (0, 0)).unwrap();
        let mut l = Conv2d::<f64, 3, 18>::zeros();
        // Glorot: fan-in 18, fan-out 3 · 9 = 27
        l.initialize(&G, Init::GlorotUniform, Init::Zeros, &mut seeded_rng(3));
        let limit = (6.0_f64 / 45.0).sqrt();
        assert!(l.weight.iter().all(|w| w.abs() <= limit));
        assert!(l.weight.iter().any(|w| w.abs() > 0.9 * limit));
        assert_eq!(l.bias.sum(), 0.0);
        // orthogonal: the three filters are orthonormal
        #[cfg(feature = "alloc")]
        {
            l.initialize(
                &G,
                Init::Orthogonal { gain: 1.0 },
                Init::Zeros,
                &mut seeded_rng(3),
            );
            let w = *l.weight;
            assert!((w * w.transpose() - SMatrix::<f64, 3, 3>::identity()).norm() < 1e-12);
        }
    }

    #[test]
    fn parameters_are_visited_by_name() {
        let mut l = layer::<2, 3>(70);
        let grads = layer::<2, 3>(71);
        let mut names = Vec::new();
        l.for_each_parameter("c", |n, v| names.push((n.to_string(), v.len())));
        assert_eq!(
            names,
            [("c.weight".to_string(), 6), ("c.bias".to_string(), 2)]
        );
        let before = l;
        l.for_each_parameter_and_gradient(&grads, "c", |_, t, g| {
            t.iter_mut().zip(g).for_each(|(t, g)| *t -= g);
        });
        assert_eq!(*l.weight, *before.weight - *grads.weight);
        assert_eq!(*l.bias, *before.bias - *grads.bias);
        l.for_each_parameter_mut("c", |_, v| v.fill(0.0));
        assert_eq!(l, Conv2d::default());
        assert!(format!("{l:?}").starts_with("Conv2d { weight: "));
    }
}
