//! Two-dimensional (and, with height 1, one-dimensional) convolution:
//! [`Geometry2d`] and [`Conv2d`].
//!
//! A sample is an image of `in_channels × in_height × in_width` values,
//! flattened row-major (index `c·H·W + h·W + w`), as PyTorch lays out one
//! sample of an NCHW tensor. The layer computes
//! `z[o, y, x] = b[o] + Σ_{c, i, j} W[o, c, i, j] · a[c, y·sy + i − py, x·sx + j − px]`
//! with zeros outside the input (the padding).
//!
//! The single-sample passes use no heap memory in any build: they copy the
//! input rows under the kernel, zero-padded, into a small buffer on the
//! stack and loop over the kernel taps directly, with blocks of output
//! channels and output columns (or of taps and output channels) summed in
//! registers; the backward pass of a stride-1 layer is the forward pass of
//! the deltas with the kernel turned by 180°. The batch passes (feature
//! `alloc`) copy the receptive field of every output position of every
//! sample into a column of a `K_LEN × (out_height · out_width · batch)`
//! matrix (im2col) and multiply it by the weight matrix once; their
//! `_into` forms take that matrix's memory from a reusable `Scratch`.

use core::fmt;
use core::ops::Range;

#[cfg(feature = "alloc")]
use nalgebra::{Const, Dyn, OMatrix};
use nalgebra::{SMatrix, SVector};
use rand::Rng;

#[cfg(feature = "alloc")]
use super::Scratch;
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
/// under that tap, padding left out: the entries of the patch matrix
/// without the matrix, for the single-sample passes of layers whose rows
/// do not fit [`STAGE`].
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

/// Values in each stack buffer of the single-sample passes: zero-padded
/// input rows of `in_width + 2 · padding` values (rounded up to a multiple
/// of the horizontal stride), and in the gradient pass one output row of
/// deltas per output channel. [`correlate`] has one such buffer and a
/// table of as many pairs of `u32`, [`gradients_staged`] two buffers, the
/// backward pass of a strided layer one: with `alloc`, 12 KiB of stack for
/// `f32` at most, 16 KiB for `f64`; without it, for small targets, a
/// quarter of that. Layers with longer rows take the [`for_each_tap`]
/// loop.
const STAGE: usize = if cfg!(feature = "alloc") { 1024 } else { 256 };

/// The widest tile of output positions for a scalar: 8 for 4-byte scalars
/// (`f32`), 4 for wider ones, so that a block of 4 channels times a tile
/// of accumulators fits in 8 SSE registers.
fn widest_tile<T>() -> usize {
    if size_of::<T>() <= 4 { 8 } else { 4 }
}

/// Calls `block::<OB>(o0)` for blocks of 4 output channels, then for the
/// remaining 1 to 3 at once.
macro_rules! channel_blocks {
    ($c_out:expr, $block:ident, $($arg:expr),*) => {{
        let mut o0 = 0;
        while o0 + 4 <= $c_out {
            $block::<_, 4>(o0, $($arg),*);
            o0 += 4;
        }
        match $c_out - o0 {
            1 => $block::<_, 1>(o0, $($arg),*),
            2 => $block::<_, 2>(o0, $($arg),*),
            3 => $block::<_, 3>(o0, $($arg),*),
            _ => {}
        }
    }};
}

/// Input rows staged by [`correlate`]: channels `c0..c0 + channels`,
/// kernel rows `i0..i0 + rows` of each, channel by channel.
#[derive(Clone, Copy)]
struct Chunk {
    c0: usize,
    channels: usize,
    i0: usize,
    rows: usize,
}

/// What [`forward_block`] needs besides the output channels.
struct Forward<'a, T> {
    g: &'a Geometry2d,
    /// The weights, where `taps` says.
    w: &'a [T],
    taps: Taps,
    /// The bias of each output channel, or none.
    bias: Option<&'a [T]>,
    /// The staged rows: `sx · pl` values each, phase `p < sx` of a row
    /// (its padded columns `p, p + sx, p + 2·sx, …`) from `p · pl`.
    stage: &'a [T],
    /// Every tap of the staged rows: where its weight for output channel
    /// 0 is, and where in `stage` its input for output column 0 is (the
    /// inputs for consecutive output columns follow).
    table: &'a [(u32, u32)],
    /// The output row.
    y: usize,
    /// Whether this is the first chunk of the row: outputs are then
    /// written (bias plus sum), else added to.
    first: bool,
}

/// Where the weight of output channel `o`, input channel `c` and kernel
/// tap `(i, j)` of a [`correlate`] is: `base + o·so + c·sc + i·si + j·sj`.
#[derive(Clone, Copy)]
struct Taps {
    base: isize,
    so: isize,
    sc: isize,
    si: isize,
    sj: isize,
}

impl Taps {
    /// The weight of a convolution, column-major `C_OUT × K_LEN` with
    /// column `k = (c·KH + i)·KW + j`.
    fn forward(g: &Geometry2d) -> Self {
        let (kh, kw) = g.kernel;
        let c_out = g.out_channels as isize;
        Self {
            base: 0,
            so: 1,
            sc: (kh * kw) as isize * c_out,
            si: kw as isize * c_out,
            sj: c_out,
        }
    }

    /// The same weight read as the kernel of the convolution that takes
    /// the deltas of a stride-1 layer back to its input: input and output
    /// channels swapped, the kernel turned by 180°.
    fn backward(g: &Geometry2d) -> Self {
        let (kh, kw) = g.kernel;
        let c_out = g.out_channels as isize;
        Self {
            base: (kh * kw - 1) as isize * c_out,
            so: (kh * kw) as isize * c_out,
            sc: 1,
            si: -(kw as isize) * c_out,
            sj: -c_out,
        }
    }
}

/// `acc[ob][t]`: the sum over the staged rows and the kernel columns of
/// weight × input for output channel `o0 + ob` at output column `x0 + t`.
/// `W_UNIT` says that the weights of consecutive output channels are
/// consecutive (`so == 1`).
#[inline(always)]
fn forward_tile<T: Scalar, const OB: usize, const TB: usize, const W_UNIT: bool>(
    f: &Forward<'_, T>,
    o0: usize,
    x0: usize,
) -> [[T; TB]; OB] {
    let so = f.taps.so.unsigned_abs();
    let mut acc = [[T::zero(); TB]; OB];
    for &(weight, input) in f.table {
        let at = weight as usize + o0 * so;
        let wk: [T; OB] = if W_UNIT {
            *f.w[at..]
                .first_chunk()
                .expect("a channel block lies inside the weight")
        } else {
            core::array::from_fn(|ob| f.w[at + ob * so])
        };
        let v: &[T; TB] = f.stage[input as usize + x0..]
            .first_chunk()
            .expect("a tile lies inside its row");
        for (acc, w) in acc.iter_mut().zip(&wk) {
            for (a, v) in acc.iter_mut().zip(v) {
                *a += *w * *v;
            }
        }
    }
    acc
}

/// Output columns `start..start + TB` of output channels `o0..o0 + OB` of
/// one output row from one chunk. On the first chunk every column is
/// written (columns that an earlier tile wrote get the same values
/// again); on later ones the sums are added to columns `start + skip..`
/// only.
#[inline(always)]
fn forward_write<T: Scalar, const OB: usize, const TB: usize, const W_UNIT: bool>(
    o0: usize,
    f: &Forward<'_, T>,
    z: &mut [T],
    (start, skip): (usize, usize),
) {
    let (ow, positions) = (f.g.out_width, f.g.positions());
    let acc = forward_tile::<T, OB, TB, W_UNIT>(f, o0, start);
    for (ob, acc) in acc.iter().enumerate() {
        let o = o0 + ob;
        let out = &mut z[o * positions + f.y * ow + start..][..TB];
        if f.first {
            match f.bias {
                Some(bias) => {
                    for (z, a) in out.iter_mut().zip(acc) {
                        *z = bias[o] + *a;
                    }
                }
                None => out.copy_from_slice(acc),
            }
        } else {
            for (z, a) in out.iter_mut().zip(acc).skip(skip) {
                *z += *a;
            }
        }
    }
}

/// One output row of output channels `o0..o0 + OB` from one chunk, in
/// tiles of `TB` columns; the columns left over take one more tile of 4
/// (if `TB` is wider and at most 4 are left) or of `TB`, ending at the
/// row's end and overlapping the tile before. Needs `out_width ≥ TB`.
fn forward_tiles<T: Scalar, const OB: usize, const TB: usize, const W_UNIT: bool>(
    o0: usize,
    f: &Forward<'_, T>,
    z: &mut [T],
) {
    let ow = f.g.out_width;
    let mut x = 0;
    while x + TB <= ow {
        forward_write::<T, OB, TB, W_UNIT>(o0, f, z, (x, 0));
        x += TB;
    }
    let rest = ow - x;
    if rest == 0 {
    } else if TB > 4 && rest <= 4 {
        forward_write::<T, OB, 4, W_UNIT>(o0, f, z, (ow - 4, 4 - rest));
    } else {
        forward_write::<T, OB, TB, W_UNIT>(o0, f, z, (ow - TB, TB - rest));
    }
}

/// [`forward_tiles`] with the widest tile that fits the output row.
fn forward_block<T: Scalar, const OB: usize>(o0: usize, f: &Forward<'_, T>, z: &mut [T]) {
    // weights of consecutive output channels side by side (a forward
    // pass) or not (a backward one)
    macro_rules! tiles {
        ($tb:literal) => {
            if f.taps.so == 1 {
                forward_tiles::<T, OB, $tb, true>(o0, f, z)
            } else {
                forward_tiles::<T, OB, $tb, false>(o0, f, z)
            }
        };
    }
    match tile_width::<T>(f.g.out_width) {
        8 => tiles!(8),
        4 => tiles!(4),
        _ => tiles!(1),
    }
}

/// The correlation of geometry `g` of one sample `x` with the weights `w`
/// (where `taps` says), plus `bias` if there is one, written into `z`
/// completely, without a patch matrix: for each output row, the input
/// rows under the kernel are copied, zero-padded left and right (and, for
/// a horizontal stride `sx > 1`, split into `sx` phases of every `sx`-th
/// column, so that a tap reads consecutive values for consecutive
/// outputs), into a buffer on the stack, and each block of up to 4 output
/// channels × up to 8 output columns sums its products over every tap in
/// registers. Returns `false`, writing nothing, when a padded input row is
/// longer than [`STAGE`].
fn correlate<T: Scalar>(
    g: &Geometry2d,
    (w, taps): (&[T], Taps),
    bias: Option<&[T]>,
    x: &[T],
    z: &mut [T],
) -> bool {
    let positions = g.positions();
    let sx = g.stride.1;
    // padded rows split into `sx` phases of `pl` columns
    let pl = (g.in_width + 2 * g.padding.1).div_ceil(sx);
    let wp = sx * pl;
    if wp > STAGE {
        return false;
    }
    let plane = g.in_height * g.in_width;
    let kh = g.kernel.0;
    let index = |i: isize| u32::try_from(i).expect("a weight index fits in 32 bits");
    let mut stage = [T::zero(); STAGE];
    // at most `STAGE / wp` rows of `kernel width ≤ wp` taps
    let mut table = [(0_u32, 0_u32); STAGE];
    for y in 0..g.out_height {
        let (rows, row_tap) = span(y, g.stride.0, kh, g.padding.0, g.in_height);
        let n = rows.len();
        if n == 0 {
            // the window covers only padding rows
            for o in 0..g.out_channels {
                let b = bias.map_or(T::zero(), |b| b[o]);
                z[o * positions + y * g.out_width..][..g.out_width].fill(b);
            }
            continue;
        }
        // whole channels per chunk if they fit, else rows of one channel
        let (channels, rows_per) = if n * wp <= STAGE {
            (STAGE / (n * wp), n)
        } else {
            (1, STAGE / wp)
        };
        let mut first = true;
        let mut c0 = 0;
        while c0 < g.in_channels {
            let channels = channels.min(g.in_channels - c0);
            let mut r0 = 0;
            while r0 < n {
                let chunk = Chunk {
                    c0,
                    channels,
                    i0: row_tap + r0,
                    rows: rows_per.min(n - r0),
                };
                for c in 0..chunk.channels {
                    for r in 0..chunk.rows {
                        let h = rows.start + r0 + r;
                        let from = (c0 + c) * plane + h * g.in_width;
                        let input = &x[from..from + g.in_width];
                        let row = &mut stage[(c * chunk.rows + r) * wp..][..wp];
                        if sx == 1 {
                            row[g.padding.1..][..g.in_width].copy_from_slice(input);
                        } else {
                            let (mut phase, mut at) = (g.padding.1 % sx, g.padding.1 / sx);
                            for v in input {
                                row[phase * pl + at] = *v;
                                phase += 1;
                                if phase == sx {
                                    phase = 0;
                                    at += 1;
                                }
                            }
                        }
                    }
                }
                // the taps of the chunk, row by row
                let mut count = 0;
                for c in 0..chunk.channels {
                    for r in 0..chunk.rows {
                        let at = taps.base
                            + (chunk.c0 + c) as isize * taps.sc
                            + (chunk.i0 + r) as isize * taps.si;
                        let row = (c * chunk.rows + r) * wp;
                        // padded column x·sx + j is column x + j / sx of
                        // phase j % sx
                        for j in 0..g.kernel.1 {
                            table[count] = (
                                index(at + j as isize * taps.sj),
                                index((row + j % sx * pl + j / sx) as isize),
                            );
                            count += 1;
                        }
                    }
                }
                let f = Forward {
                    g,
                    w,
                    taps,
                    bias,
                    stage: &stage,
                    table: &table[..count],
                    y,
                    first,
                };
                channel_blocks!(g.out_channels, forward_block, &f, z);
                first = false;
                r0 += chunk.rows;
            }
            c0 += channels;
        }
    }
    true
}

/// The convolution of one sample, written into `z` completely: a
/// [`correlate`] with the weight `w` (column-major `C_OUT × K_LEN`), or,
/// for padded rows too long for its buffer, a loop over the taps.
fn forward_direct<T: Scalar, const C_OUT: usize>(
    g: &Geometry2d,
    w: &[T],
    bias: &[T],
    x: &[T],
    z: &mut [T],
) {
    if correlate(g, (w, Taps::forward(g)), Some(bias), x, z) {
        return;
    }
    let positions = g.positions();
    for (plane, b) in z.chunks_exact_mut(positions).zip(bias) {
        plane.fill(*b);
    }
    for_each_tap(g, |q, k, i| {
        for o in 0..C_OUT {
            z[o * positions + q] += w[o + k * C_OUT] * x[i];
        }
    });
}

/// The sum of `values` in 8 interleaved partial sums (so that it
/// vectorises).
fn sum<T: Scalar>(values: &[T]) -> T {
    let mut lanes = [T::zero(); 8];
    let mut chunks = values.chunks_exact(8);
    for chunk in &mut chunks {
        for (l, v) in lanes.iter_mut().zip(chunk) {
            *l += *v;
        }
    }
    let tail = chunks.remainder().iter().fold(T::zero(), |s, v| s + *v);
    lanes.iter().fold(tail, |s, v| s + *v)
}

/// The tile width for output rows of `out_width` columns: the widest of
/// 8 (4-byte scalars only), 4 and 1 that is not wider than the row.
fn tile_width<T>(out_width: usize) -> usize {
    if out_width >= 8 && widest_tile::<T>() >= 8 {
        8
    } else if out_width >= 4 {
        4
    } else {
        1
    }
}

/// `acc[jb][ob] = Σ_x padded[x·sx + jb] · δᵀ[x][ob]` over one output row:
/// the gradient contributions of taps `j0..j0 + JB` of one kernel row
/// (`row` starts at tap `j0`'s column) for `OB` output channels, whose
/// deltas `dt` hold `on` channels per output column, from `ob0`. The lanes
/// run along the output channels.
#[inline(always)]
fn gradient_tile<T: Scalar, const JB: usize, const OB: usize>(
    row: &[T],
    sx: usize,
    (dt, on, ob0): (&[T], usize, usize),
    ow: usize,
) -> [[T; OB]; JB] {
    let mut acc = [[T::zero(); OB]; JB];
    for x in 0..ow {
        let p: &[T; JB] = row[x * sx..]
            .first_chunk()
            .expect("the taps lie inside the padded row");
        let d: &[T; OB] = dt[x * on + ob0..]
            .first_chunk()
            .expect("a channel block lies inside the deltas");
        for (acc, p) in acc.iter_mut().zip(p) {
            for (a, d) in acc.iter_mut().zip(d) {
                *a += *p * *d;
            }
        }
    }
    acc
}

/// Adds the gradient contributions of one output row to taps `j0..j0 +
/// JB` of kernel row `i` of input channel `c` (`row` is the padded input
/// row under kernel row `i`, from tap `j0`'s column): the output channels
/// of the chunk of deltas `dt` (`on` channels from `o_start`) in blocks of
/// 8 (4-byte scalars only), 4, 2 and 1, added to the weight
/// gradient `dw` (column-major `C_OUT × K_LEN`) a column block at a time.
#[allow(clippy::too_many_arguments)]
fn gradient_taps<T: Scalar, const JB: usize>(
    g: &Geometry2d,
    row: &[T],
    (dt, on, o_start): (&[T], usize, usize),
    (c, i, j0): (usize, usize, usize),
    dw: &mut [T],
) {
    let (kh, kw) = g.kernel;
    let c_out = g.out_channels;
    let (sx, ow) = (g.stride.1, g.out_width);
    let mut add = |acc: &[T], jb: usize, ob0: usize| {
        let k = (c * kh + i) * kw + j0 + jb;
        for (d, a) in dw[k * c_out + o_start + ob0..][..acc.len()]
            .iter_mut()
            .zip(acc)
        {
            *d += *a;
        }
    };
    let mut ob0 = 0;
    // blocks of 8 (4-byte scalars only), 4, 2 and 1 channels
    macro_rules! blocks {
        ($ob:literal) => {
            while on - ob0 >= $ob {
                let acc = gradient_tile::<T, JB, $ob>(row, sx, (dt, on, ob0), ow);
                for (jb, acc) in acc.iter().enumerate() {
                    add(acc, jb, ob0);
                }
                ob0 += $ob;
            }
        };
    }
    if size_of::<T>() <= 4 {
        blocks!(8);
    }
    blocks!(4);
    blocks!(2);
    blocks!(1);
}

/// Adds the weight gradient of one sample, `∂L/∂W[o, k] = Σ_q δ[o, q] ·
/// patch_q[k]`, to `dw` (column-major `C_OUT × K_LEN`) without a patch
/// matrix: output row by output row, the deltas of a chunk of output
/// channels are copied into a buffer on the stack with the channels of
/// each position side by side, the padded input rows under the kernel
/// into another, as in [`correlate`], and each block of up to 4 taps of a
/// kernel row × up to 8 output channels sums its products over the row in
/// registers. Returns `false`, adding nothing, when an output row or a
/// padded input row is longer than [`STAGE`].
fn gradients_staged<T: Scalar>(g: &Geometry2d, a: &[T], delta: &[T], dw: &mut [T]) -> bool {
    let (ow, positions) = (g.out_width, g.positions());
    let wp = g.in_width + 2 * g.padding.1;
    if ow > STAGE || wp > STAGE {
        return false;
    }
    let (kh, kw) = g.kernel;
    let plane = g.in_height * g.in_width;
    let chunk_channels = (STAGE / ow).min(g.out_channels);
    let mut dt = [T::zero(); STAGE];
    let mut stage = [T::zero(); STAGE];
    let mut o_start = 0;
    while o_start < g.out_channels {
        let on = chunk_channels.min(g.out_channels - o_start);
        for y in 0..g.out_height {
            let (rows, row_tap) = span(y, g.stride.0, kh, g.padding.0, g.in_height);
            let n = rows.len();
            if n == 0 {
                continue;
            }
            for ob in 0..on {
                let from = (o_start + ob) * positions + y * ow;
                for (x, d) in delta[from..from + ow].iter().enumerate() {
                    dt[x * on + ob] = *d;
                }
            }
            let dts = (&dt[..], on, o_start);
            // whole channels per chunk if they fit, else rows of one channel
            let (channels, rows_per) = if n * wp <= STAGE {
                (STAGE / (n * wp), n)
            } else {
                (1, STAGE / wp)
            };
            let mut c0 = 0;
            while c0 < g.in_channels {
                let channels = channels.min(g.in_channels - c0);
                let mut r0 = 0;
                while r0 < n {
                    let chunk_rows = rows_per.min(n - r0);
                    for c in 0..channels {
                        for r in 0..chunk_rows {
                            let from = (c0 + c) * plane + (rows.start + r0 + r) * g.in_width;
                            stage[(c * chunk_rows + r) * wp + g.padding.1..][..g.in_width]
                                .copy_from_slice(&a[from..from + g.in_width]);
                        }
                    }
                    for c in 0..channels {
                        for r in 0..chunk_rows {
                            let row = &stage[(c * chunk_rows + r) * wp..][..wp];
                            let at = (c0 + c, row_tap + r0 + r);
                            // blocks of 4 taps, then the 1 to 3 left
                            let mut j0 = 0;
                            while j0 + 4 <= kw {
                                gradient_taps::<T, 4>(g, &row[j0..], dts, (at.0, at.1, j0), dw);
                                j0 += 4;
                            }
                            let (row, at) = (&row[j0..], (at.0, at.1, j0));
                            match kw - j0 {
                                1 => gradient_taps::<T, 1>(g, row, dts, at, dw),
                                2 => gradient_taps::<T, 2>(g, row, dts, at, dw),
                                3 => gradient_taps::<T, 3>(g, row, dts, at, dw),
                                _ => {}
                            }
                        }
                    }
                    r0 += chunk_rows;
                }
                c0 += channels;
            }
        }
        o_start += on;
    }
    true
}

/// Adds the weight gradient of one sample to `dw` (column-major `C_OUT ×
/// K_LEN`): [`gradients_staged`], or, for rows too long for its buffers, a
/// loop over the taps.
fn gradients_direct<T: Scalar, const C_OUT: usize>(
    g: &Geometry2d,
    a: &[T],
    delta: &[T],
    dw: &mut [T],
) {
    if gradients_staged(g, a, delta, dw) {
        return;
    }
    let positions = g.positions();
    for_each_tap(g, |q, k, i| {
        for o in 0..C_OUT {
            dw[o + k * C_OUT] += delta[o * positions + q] * a[i];
        }
    });
}

/// Adds `Σ_o W[o, (c, i, j)] · δ[o, y, x]` for output columns `x = start +
/// t`, `t ≥ skip`, and taps `j = j0 + jb` to a padded row split into
/// phases as in [`correlate`]: `at[jb]` is where tap `j0 + jb`'s value for
/// output column 0 goes, and the values for consecutive output columns go
/// to consecutive places. `w[o][jb]` is the weight of output channel `o`
/// and tap `j0 + jb`.
#[inline(always)]
fn backpropagate_tile<T: Scalar, const C_OUT: usize, const JB: usize, const N: usize>(
    w: &[[T; JB]; C_OUT],
    deltas: &[T],
    positions: usize,
    row: &mut [T],
    at: &[usize; JB],
    (start, skip): (usize, usize),
) {
    let mut acc = [[T::zero(); N]; JB];
    for (o, w) in w.iter().enumerate() {
        let d: &[T; N] = deltas[o * positions + start..]
            .first_chunk()
            .expect("a tile lies inside its row");
        for (acc, w) in acc.iter_mut().zip(w) {
            for (a, d) in acc.iter_mut().zip(d) {
                *a += *w * *d;
            }
        }
    }
    for (acc, at) in acc.iter().zip(at) {
        for (r, a) in row[at + start..][..N].iter_mut().zip(acc).skip(skip) {
            *r += *a;
        }
    }
}

/// For output rows `y0..y1` and kernel row `i`, adds the contributions of
/// taps `j0..j0 + JB` (weights `w[o][jb]`) to the padded rows `y·sy + i` of
/// `stage`, `sx · pl` values each in `sx` phases: [`backpropagate_tile`]
/// for tiles of `TB` output columns, the columns left over as in
/// [`forward_tiles`]. Needs `out_width ≥ TB`.
fn backpropagate_taps<T: Scalar, const C_OUT: usize, const JB: usize, const TB: usize>(
    g: &Geometry2d,
    w: &[[T; JB]; C_OUT],
    delta: &[T],
    (stage, pl): (&mut [T], usize),
    (y0, y1): (usize, usize),
    (i, j0): (usize, usize),
) {
    let (sy, sx) = g.stride;
    let (ow, positions) = (g.out_width, g.positions());
    let row_len = sx * pl;
    let at: [usize; JB] = core::array::from_fn(|jb| (j0 + jb) % sx * pl + (j0 + jb) / sx);
    for y in y0..y1 {
        let row = &mut stage[((y - y0) * sy + i) * row_len..][..row_len];
        let deltas = &delta[y * ow..];
        let mut x = 0;
        while x + TB <= ow {
            backpropagate_tile::<T, C_OUT, JB, TB>(w, deltas, positions, row, &at, (x, 0));
            x += TB;
        }
        let rest = ow - x;
        if rest == 0 {
        } else if TB > 4 && rest <= 4 {
            let tile = (ow - 4, 4 - rest);
            backpropagate_tile::<T, C_OUT, JB, 4>(w, deltas, positions, row, &at, tile);
        } else {
            let tile = (ow - TB, TB - rest);
            backpropagate_tile::<T, C_OUT, JB, TB>(w, deltas, positions, row, &at, tile);
        }
    }
}

/// [`backpropagate_taps`] for taps `j0..j0 + JB` of kernel row `i` of
/// input channel `c`, with the widest tile that fits.
fn backpropagate_block<T: Scalar, const C_OUT: usize, const JB: usize>(
    g: &Geometry2d,
    weight: &[T],
    delta: &[T],
    stage: (&mut [T], usize),
    rows: (usize, usize),
    (c, i, j0): (usize, usize, usize),
) {
    let (kh, kw) = g.kernel;
    let k0 = (c * kh + i) * kw + j0;
    let w: [[T; JB]; C_OUT] =
        core::array::from_fn(|o| core::array::from_fn(|jb| weight[(k0 + jb) * C_OUT + o]));
    match tile_width::<T>(g.out_width) {
        8 => backpropagate_taps::<T, C_OUT, JB, 8>(g, &w, delta, stage, rows, (i, j0)),
        4 => backpropagate_taps::<T, C_OUT, JB, 4>(g, &w, delta, stage, rows, (i, j0)),
        _ => backpropagate_taps::<T, C_OUT, JB, 1>(g, &w, delta, stage, rows, (i, j0)),
    }
}

/// `∂L/∂a` of one sample without a patch matrix, written into `back`.
/// For a stride of 1 (and padding smaller than the kernel), a
/// [`correlate`] of the deltas with the kernel turned by 180°. Otherwise
/// channel by channel and band of output rows by band: the contributions
/// `Σ_o W[o, k] · δ[o, y, x]` of blocks of up to 4 taps × up to 8 output
/// columns, summed in registers, are added to padded rows (split into
/// phases as in [`correlate`]) in a buffer on the stack, whose inside is
/// then added to `back`. Rows too long for the buffer take a loop over
/// the taps.
fn backpropagate_direct<T: Scalar, const C_OUT: usize>(
    g: &Geometry2d,
    w: &[T],
    delta: &[T],
    back: &mut [T],
) {
    let (kh, kw) = g.kernel;
    if g.stride == (1, 1) && g.padding.0 < kh && g.padding.1 < kw {
        // back[c, h, w] = Σ_{o, i, j} W[o, c, i, j] · δ[o, h + py − i, w + px − j]:
        // a stride-1 convolution of the deltas with the kernel turned by
        // 180° and the channels swapped, padded by kernel − 1 − padding
        let turned = Geometry2d {
            in_channels: g.out_channels,
            in_height: g.out_height,
            in_width: g.out_width,
            out_channels: g.in_channels,
            kernel: g.kernel,
            stride: (1, 1),
            padding: (kh - 1 - g.padding.0, kw - 1 - g.padding.1),
            out_height: g.in_height,
            out_width: g.in_width,
        };
        debug_assert!(turned.is_valid(), "{turned:?}");
        if correlate(&turned, (w, Taps::backward(g)), None, delta, back) {
            return;
        }
    }
    back.fill(T::zero());
    let (sy, sx) = g.stride;
    let pl = (g.in_width + 2 * g.padding.1).div_ceil(sx);
    let row_len = sx * pl;
    let fit = STAGE / row_len;
    if fit < kh {
        let positions = g.positions();
        for_each_tap(g, |q, k, i| {
            for o in 0..C_OUT {
                back[i] += w[o + k * C_OUT] * delta[o * positions + q];
            }
        });
        return;
    }
    // output rows per band: as many as fit their padded input rows
    let band = (fit - kh) / sy + 1;
    let mut stage = [T::zero(); STAGE];
    for c in 0..g.in_channels {
        let mut y0 = 0;
        while y0 < g.out_height {
            let y1 = (y0 + band).min(g.out_height);
            let rows = (y1 - y0 - 1) * sy + kh;
            let stage = &mut stage[..rows * row_len];
            stage.fill(T::zero());
            for i in 0..kh {
                // blocks of 4 taps, then the 1 to 3 left
                macro_rules! taps {
                    ($jb:literal, $j0:expr) => {
                        backpropagate_block::<T, C_OUT, $jb>(
                            g,
                            w,
                            delta,
                            (stage, pl),
                            (y0, y1),
                            (c, i, $j0),
                        )
                    };
                }
                let mut j0 = 0;
                while j0 + 4 <= kw {
                    taps!(4, j0);
                    j0 += 4;
                }
                match kw - j0 {
                    1 => taps!(1, j0),
                    2 => taps!(2, j0),
                    3 => taps!(3, j0),
                    _ => {}
                }
            }
            for (r, row) in stage.chunks_exact(row_len).enumerate() {
                let Some(h) = (y0 * sy + r).checked_sub(g.padding.0) else {
                    continue;
                };
                if h >= g.in_height {
                    break;
                }
                let to = (c * g.in_height + h) * g.in_width;
                let (mut phase, mut at) = (g.padding.1 % sx, g.padding.1 / sx);
                for b in &mut back[to..to + g.in_width] {
                    *b += row[phase * pl + at];
                    phase += 1;
                    if phase == sx {
                        phase = 0;
                        at += 1;
                    }
                }
            }
            y0 = y1;
        }
    }
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
    /// Allocates nothing: its temporary space (a few KiB) is on the stack.
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
        let mut z = SVector::<T, NOUT>::zeros();
        forward_direct::<T, C_OUT>(
            geometry,
            self.weight.as_slice(),
            self.bias.as_slice(),
            x.as_slice(),
            z.as_mut_slice(),
        );
        z
    }

    /// The convolution of a batch, one sample per column: the patches of
    /// all samples side by side, then one matrix product. Allocates the
    /// result and temporary buffers; [`forward_batch_into`] reuses them.
    ///
    /// [`forward_batch_into`]: Self::forward_batch_into
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
        let mut z = OMatrix::<T, Const<NOUT>, Dyn>::zeros(x.ncols());
        self.forward_batch_into::<NIN, NOUT>(
            geometry,
            x.as_slice(),
            z.as_mut_slice(),
            &mut Scratch::new(),
        );
        z
    }

    /// [`forward_batch`](Self::forward_batch) into caller buffers: `x` holds
    /// `batch` samples of `NIN` values one after another (a column-major
    /// `NIN × batch` matrix, `batch = x.len() / NIN`), and `z`, `NOUT ×
    /// batch` the same way, is overwritten completely with their
    /// convolutions. The patch matrix and the product live in `scratch`,
    /// which grows on the first call with a batch this large and is reused
    /// after that.
    /// (The matrix product of `f32` and `f64` is matrixmultiply's, which
    /// still allocates its packing buffer inside every call.)
    ///
    /// # Panics
    ///
    /// If `x.len()` is not a multiple of `NIN` or `z.len()` is not `NOUT`
    /// times the batch size.
    ///
    /// ```
    /// use staticnet::layers::{Conv2d, Geometry2d, Scratch};
    ///
    /// // one channel of 1 × 3, kernel 1 × 2 of (1, 2): two samples
    /// const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
    /// let mut conv = Conv2d::<f64, 1, 2>::zeros();
    /// conv.weight.copy_from_slice(&[1.0, 2.0]);
    /// let mut scratch = Scratch::new();
    /// let mut z = [f64::NAN; 4]; // no need to clear it
    /// conv.forward_batch_into::<3, 2>(&G, &[1.0, 2.0, 3.0, 0.0, 1.0, 0.0], &mut z, &mut scratch);
    /// assert_eq!(z, [5.0, 8.0, 2.0, 1.0]);
    /// // again, with the scratch buffers of the first call
    /// conv.forward_batch_into::<3, 2>(&G, &[0.0, 0.0, 1.0, 1.0, 1.0, 1.0], &mut z, &mut scratch);
    /// assert_eq!(z, [0.0, 2.0, 3.0, 3.0]);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn forward_batch_into<const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        x: &[T],
        z: &mut [T],
        scratch: &mut Scratch<T>,
    ) {
        Self::debug_check::<NIN, NOUT>(geometry);
        let batch = batch_size(x.len(), NIN, "x");
        check_len(z.len(), NOUT, batch, "z");
        let positions = geometry.positions();
        let (cols, y) = scratch.buffers(K_LEN * positions * batch, C_OUT * positions * batch);
        batch_im2col::<T, K_LEN>(geometry, x, cols);
        // Y = W · cols, C_OUT × (positions · batch), column (q + b·P)
        gemm(
            (C_OUT, K_LEN, positions * batch),
            T::one(),
            Strided {
                data: self.weight.as_slice(),
                row_stride: 1,
                col_stride: C_OUT,
            },
            Strided {
                data: cols,
                row_stride: 1,
                col_stride: K_LEN,
            },
            T::zero(),
            y,
        );
        for (sample, ys) in z
            .chunks_exact_mut(NOUT)
            .zip(y.chunks_exact(C_OUT * positions))
        {
            for (q, column) in ys.chunks_exact(C_OUT).enumerate() {
                for (o, (v, b)) in column.iter().zip(self.bias.iter()).enumerate() {
                    sample[o * positions + q] = *v + *b;
                }
            }
        }
    }

    /// Adds the gradients of one sample to `gradients`: `∂L/∂W = δ colsᵀ`
    /// (`δ = ∂L/∂z` as a `C_OUT × positions` matrix, `cols` the patches of
    /// the forward input `a`) and `∂L/∂b[o] = Σ δ[o, ·]` over the positions.
    /// Allocates nothing: its temporary space (a few KiB) is on the stack.
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
        gradients_direct::<T, C_OUT>(
            geometry,
            a.as_slice(),
            delta.as_slice(),
            gradients.weight.as_mut_slice(),
        );
        for (b, plane) in gradients
            .bias
            .iter_mut()
            .zip(delta.as_slice().chunks_exact(positions))
        {
            *b += sum(plane);
        }
    }

    /// `∂L/∂a`: the delta passed back to the layer's input, `Wᵀ δ` per
    /// position, each window's share added to the inputs it covers
    /// (overlapping windows accumulate; padding is dropped). Allocates
    /// nothing: its temporary space (a few KiB) is on the stack.
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
        let mut back = SVector::<T, NIN>::zeros();
        backpropagate_direct::<T, C_OUT>(
            geometry,
            self.weight.as_slice(),
            delta.as_slice(),
            back.as_mut_slice(),
        );
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
    /// Allocates temporary buffers; [`accumulate_batch_gradients_into`]
    /// reuses them.
    ///
    /// [`accumulate_batch_gradients_into`]: Self::accumulate_batch_gradients_into
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
        Self::accumulate_batch_gradients_into::<NIN, NOUT>(
            geometry,
            a.as_slice(),
            delta.as_slice(),
            gradients,
            &mut Scratch::new(),
        );
    }

    /// [`accumulate_batch_gradients`](Self::accumulate_batch_gradients) from
    /// caller slices: `a` holds `batch` forward inputs of `NIN` values one
    /// after another (column-major `NIN × batch`), `delta` their `batch`
    /// deltas of `NOUT` values. The gradients are added to `gradients`; the
    /// patch matrix and the rearranged deltas live in `scratch`, which grows
    /// on the first call with a batch this large and is reused after that.
    /// (The matrix product of `f32` and `f64` is matrixmultiply's, which
    /// still allocates its packing buffer inside every call.)
    ///
    /// # Panics
    ///
    /// If `a.len()` is not a multiple of `NIN`, `delta.len()` not a
    /// multiple of `NOUT`, or they hold different numbers of samples.
    ///
    /// ```
    /// use staticnet::layers::{Conv2d, Geometry2d, Scratch};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
    /// let mut grads = Conv2d::<f64, 1, 2>::zeros();
    /// let mut scratch = Scratch::new();
    /// let (a, delta) = ([1.0, 2.0, 3.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 2.0]);
    /// Conv2d::accumulate_batch_gradients_into::<3, 2>(&G, &a, &delta, &mut grads, &mut scratch);
    /// // (1, 2) from the first sample, 2 (1, 0) from the second
    /// assert_eq!(grads.weight.as_slice(), &[3.0, 2.0]);
    /// assert_eq!(grads.bias[0], 3.0);
    /// // gradients accumulate
    /// Conv2d::accumulate_batch_gradients_into::<3, 2>(&G, &a, &delta, &mut grads, &mut scratch);
    /// assert_eq!(grads.weight.as_slice(), &[6.0, 4.0]);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn accumulate_batch_gradients_into<const NIN: usize, const NOUT: usize>(
        geometry: &Geometry2d,
        a: &[T],
        delta: &[T],
        gradients: &mut Self,
        scratch: &mut Scratch<T>,
    ) {
        Self::debug_check::<NIN, NOUT>(geometry);
        let batch = batch_size(a.len(), NIN, "a");
        assert_eq!(
            batch,
            batch_size(delta.len(), NOUT, "delta"),
            "inputs and deltas differ in batch size"
        );
        let columns = geometry.positions() * batch;
        let (cols, d) = scratch.buffers(K_LEN * columns, C_OUT * columns);
        channels_last::<T, C_OUT>(geometry, delta, d);
        batch_im2col::<T, K_LEN>(geometry, a, cols);
        gemm(
            (C_OUT, columns, K_LEN),
            T::one(),
            Strided {
                data: d,
                row_stride: 1,
                col_stride: C_OUT,
            },
            Strided {
                data: cols,
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
    /// sample per column. Allocates the result and temporary buffers;
    /// [`backpropagate_batch_into`](Self::backpropagate_batch_into) reuses
    /// them.
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
        let mut back = OMatrix::<T, Const<NIN>, Dyn>::zeros(delta.ncols());
        self.backpropagate_batch_into::<NIN, NOUT>(
            geometry,
            delta.as_slice(),
            back.as_mut_slice(),
            &mut Scratch::new(),
        );
        back
    }

    /// [`backpropagate_batch`](Self::backpropagate_batch) into caller
    /// buffers: `delta` holds `batch` deltas of `NOUT` values one after
    /// another (column-major `NOUT × batch`), and `back`, `NIN × batch` the
    /// same way, is overwritten completely with the deltas of the inputs.
    /// The products per patch and the rearranged deltas live in `scratch`,
    /// which grows on the first call with a batch this large and is reused
    /// after that.
    /// (The matrix product of `f32` and `f64` is matrixmultiply's, which
    /// still allocates its packing buffer inside every call.)
    ///
    /// # Panics
    ///
    /// If `delta.len()` is not a multiple of `NOUT` or `back.len()` is not
    /// `NIN` times the batch size.
    ///
    /// ```
    /// use staticnet::layers::{Conv2d, Geometry2d, Scratch};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
    /// let mut conv = Conv2d::<f64, 1, 2>::zeros();
    /// conv.weight.copy_from_slice(&[1.0, 2.0]);
    /// let mut back = [-1.0; 6]; // overwritten, not added to
    /// conv.backpropagate_batch_into::<3, 2>(&G, &[1.0, 10.0, 0.0, 1.0], &mut back, &mut Scratch::new());
    /// assert_eq!(back, [1.0, 12.0, 20.0, 0.0, 1.0, 2.0]);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn backpropagate_batch_into<const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        delta: &[T],
        back: &mut [T],
        scratch: &mut Scratch<T>,
    ) {
        Self::debug_check::<NIN, NOUT>(geometry);
        let batch = batch_size(delta.len(), NOUT, "delta");
        check_len(back.len(), NIN, batch, "back");
        let positions = geometry.positions();
        let columns = positions * batch;
        let (cols, d) = scratch.buffers(K_LEN * columns, C_OUT * columns);
        channels_last::<T, C_OUT>(geometry, delta, d);
        gemm(
            (K_LEN, C_OUT, columns),
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
            cols,
        );
        back.fill(T::zero());
        for (sample, cols) in back
            .chunks_exact_mut(NIN)
            .zip(cols.chunks_exact(K_LEN * positions))
        {
            col2im(geometry, cols, sample);
        }
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
        let mut scratch = Scratch::new();
        Self::accumulate_batch_gradients_into::<NIN, NOUT>(
            geometry,
            a.as_slice(),
            delta.as_slice(),
            gradients,
            &mut scratch,
        );
        let mut back = OMatrix::<T, Const<NIN>, Dyn>::zeros(delta.ncols());
        self.backpropagate_batch_into::<NIN, NOUT>(
            geometry,
            delta.as_slice(),
            back.as_mut_slice(),
            &mut scratch,
        );
        back
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

/// The number of samples of `n` values in a slice of `len` values.
///
/// # Panics
///
/// If `len` is not a multiple of `n` (or `n` is zero).
#[cfg(feature = "alloc")]
pub(super) fn batch_size(len: usize, n: usize, name: &str) -> usize {
    assert!(
        n > 0 && len.is_multiple_of(n),
        "`{name}` holds {len} values, not a whole number of samples of {n}"
    );
    len / n
}

/// Checks that an output slice of `len` values holds `batch` samples of
/// `n` values.
///
/// # Panics
///
/// If it does not.
#[cfg(feature = "alloc")]
pub(super) fn check_len(len: usize, n: usize, batch: usize, name: &str) {
    assert!(
        n.checked_mul(batch) == Some(len),
        "`{name}` holds {len} values, not {batch} samples of {n}"
    );
}

/// Writes the patches of every sample of a batch (`x` holds the samples
/// one after another) side by side into `cols`: a `K_LEN × (positions ·
/// batch)` column-major matrix whose column `q + b·positions` is position
/// `q` of sample `b`. Every entry is written.
#[cfg(feature = "alloc")]
fn batch_im2col<T: Scalar, const K_LEN: usize>(g: &Geometry2d, x: &[T], cols: &mut [T]) {
    let per_sample = K_LEN * g.positions();
    let n_in = g.in_len();
    debug_assert_eq!(cols.len() * n_in, x.len() * per_sample);
    for (sample, cols) in x.chunks_exact(n_in).zip(cols.chunks_exact_mut(per_sample)) {
        im2col(g, sample, cols);
    }
}

/// Writes the deltas of a batch (sample `b` at `b·NOUT`, within it `o·P +
/// q`) into `d` as a `C_OUT × (positions · batch)` column-major matrix
/// whose column `q + b·positions` is position `q` of sample `b`. Every
/// entry is written.
#[cfg(feature = "alloc")]
fn channels_last<T: Scalar, const C_OUT: usize>(g: &Geometry2d, delta: &[T], d: &mut [T]) {
    let positions = g.positions();
    let n_out = C_OUT * positions;
    debug_assert_eq!(d.len(), delta.len());
    for (sample, ds) in delta.chunks_exact(n_out).zip(d.chunks_exact_mut(n_out)) {
        for (o, plane) in sample.chunks_exact(positions).enumerate() {
            for (q, v) in plane.iter().enumerate() {
                ds[q * C_OUT + o] = *v;
            }
        }
    }
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

    /// Calls `f(o, q, k, i)` for every output channel `o`, output position
    /// `q`, kernel tap `k` and the input index `i` under it, by the
    /// definition (independent of `span` and the windows).
    fn for_each_product(g: &Geometry2d, mut f: impl FnMut(usize, usize, usize, usize)) {
        let (kh, kw) = g.kernel;
        for o in 0..g.out_channels {
            for oh in 0..g.out_height {
                for ow in 0..g.out_width {
                    for c in 0..g.in_channels {
                        for i in 0..kh {
                            for j in 0..kw {
                                let ih = (oh * g.stride.0 + i) as isize - g.padding.0 as isize;
                                let iw = (ow * g.stride.1 + j) as isize - g.padding.1 as isize;
                                if (0..g.in_height as isize).contains(&ih)
                                    && (0..g.in_width as isize).contains(&iw)
                                {
                                    f(
                                        o,
                                        oh * g.out_width + ow,
                                        (c * kh + i) * kw + j,
                                        (c * g.in_height + ih as usize) * g.in_width + iw as usize,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The three single-sample results by their definitions in f64, each
    /// with the sum of the magnitudes of its terms: `(z, |z|)`, `(∂W,
    /// |∂W|)` (column-major) and `(∂a, |∂a|)`.
    #[allow(clippy::type_complexity)]
    fn definitions(
        g: &Geometry2d,
        w: &[f64],
        b: &[f64],
        a: &[f64],
        d: &[f64],
    ) -> [(Vec<f64>, Vec<f64>); 3] {
        let (c_out, p) = (g.out_channels, g.positions());
        let mut z = (
            (0..g.out_len()).map(|n| b[n / p]).collect::<Vec<_>>(),
            (0..g.out_len()).map(|n| b[n / p].abs()).collect::<Vec<_>>(),
        );
        let mut dw = (vec![0.0; w.len()], vec![0.0; w.len()]);
        let mut back = (vec![0.0; g.in_len()], vec![0.0; g.in_len()]);
        for_each_product(g, |o, q, k, i| {
            let (wk, zq) = (w[o + k * c_out], o * p + q);
            z.0[zq] += wk * a[i];
            z.1[zq] += (wk * a[i]).abs();
            dw.0[o + k * c_out] += d[zq] * a[i];
            dw.1[o + k * c_out] += (d[zq] * a[i]).abs();
            back.0[i] += wk * d[zq];
            back.1[i] += (wk * d[zq]).abs();
        });
        [z, dw, back]
    }

    /// Checks that `got` is `want` up to the rounding of a sum of `terms`
    /// products in `eps`: `|got − want| ≤ terms · eps · Σ|products|`.
    fn within_rounding(
        what: &str,
        got: &[f64],
        (want, magnitude): &(Vec<f64>, Vec<f64>),
        terms: usize,
        eps: f64,
    ) {
        assert_eq!(got.len(), want.len());
        for (n, ((g, w), m)) in got.iter().zip(want).zip(magnitude).enumerate() {
            let bound = terms as f64 * eps * m;
            assert!(
                (g - w).abs() <= bound,
                "{what}[{n}]: {g} vs {w} (bound {bound})"
            );
        }
    }

    /// The direct single-sample passes of a layer of random `T` weights
    /// against the definitions computed in f64 from the same values.
    fn check_direct<
        T: Scalar + Into<f64>,
        const C_OUT: usize,
        const K_LEN: usize,
        const NIN: usize,
        const NOUT: usize,
    >(
        g: Geometry2d,
        seed: u64,
    ) {
        let cast = |v: Vec<f64>| -> Vec<T> { v.into_iter().map(nalgebra::convert).collect() };
        let widen = |v: &[T]| -> Vec<f64> { v.iter().map(|x| (*x).into()).collect() };
        let mut l = Conv2d::<T, C_OUT, K_LEN>::zeros();
        l.weight.copy_from_slice(&cast(random(C_OUT * K_LEN, seed)));
        l.bias.copy_from_slice(&cast(random(C_OUT, seed + 1)));
        let a = SVector::<T, NIN>::from_column_slice(&cast(random(NIN, seed + 2)));
        let d = SVector::<T, NOUT>::from_column_slice(&cast(random(NOUT, seed + 3)));
        let [z, dw, back] = definitions(
            &g,
            &widen(l.weight.as_slice()),
            &widen(l.bias.as_slice()),
            &widen(a.as_slice()),
            &widen(d.as_slice()),
        );
        let eps: f64 = if size_of::<T>() == 4 {
            f32::EPSILON.into()
        } else {
            f64::EPSILON
        };
        let ours: SVector<T, NOUT> = l.forward(&g, &a);
        within_rounding("z", &widen(ours.as_slice()), &z, K_LEN + 1, eps);
        let mut grads = Conv2d::<T, C_OUT, K_LEN>::zeros();
        let ours = l.backward(&g, &a, &d, &mut grads);
        within_rounding(
            "∂W",
            &widen(grads.weight.as_slice()),
            &dw,
            g.positions(),
            eps,
        );
        within_rounding("∂a", &widen(ours.as_slice()), &back, C_OUT * K_LEN, eps);
        for (o, plane) in widen(d.as_slice()).chunks_exact(g.positions()).enumerate() {
            let sum: f64 = plane.iter().sum();
            let bound = g.positions() as f64 * eps * plane.iter().map(|v| v.abs()).sum::<f64>();
            assert!((grads.bias[o].into() - sum).abs() <= bound, "∂b[{o}]");
        }
    }

    macro_rules! direct_case {
        ($t:ty, $seed:expr, $($arg:expr),+) => {{
            const G: Geometry2d = Geometry2d::new($($arg),+).unwrap();
            check_direct::<$t, { G.out_channels }, { G.kernel_len() }, { G.in_len() }, { G.out_len() }>(
                G, $seed,
            );
        }};
    }

    /// Every tile width (8 and 4 columns for f32, 4 for f64, and 1), output
    /// rows that are and are not multiples of them, blocks of 4 output
    /// channels and the 1 to 3 left over, blocks of 4 kernel columns and
    /// the rest, strides and paddings.
    macro_rules! tile_cases {
        ($t:ty) => {
            direct_case!($t, 100, 1, 5, 3, 1, (3, 3), (1, 1), (1, 1)); // 3 wide
            direct_case!($t, 101, 2, 5, 5, 2, (3, 3), (1, 1), (0, 0)); // 3 wide
            direct_case!($t, 102, 2, 4, 7, 3, (2, 2), (1, 1), (1, 1)); // 8 wide
            direct_case!($t, 103, 3, 6, 13, 5, (3, 5), (1, 1), (1, 2)); // 13 wide
            direct_case!($t, 104, 1, 7, 32, 9, (5, 5), (1, 1), (2, 2)); // 32 wide
            direct_case!($t, 105, 2, 9, 27, 4, (3, 3), (2, 2), (1, 1)); // 14 wide, stride 2
            direct_case!($t, 106, 3, 8, 21, 6, (2, 7), (2, 2), (0, 0)); // 8 wide, stride 2
            direct_case!($t, 107, 1, 3, 40, 7, (3, 6), (1, 2), (2, 3)); // 21 wide, stride (1, 2)
            direct_case!($t, 108, 2, 11, 9, 3, (3, 3), (2, 1), (0, 1)); // 9 wide, stride (2, 1)
            direct_case!($t, 109, 1, 2, 2, 5, (2, 2), (1, 1), (3, 3)); // windows on padding only
            direct_case!($t, 116, 2, 7, 12, 3, (3, 4), (2, 3), (1, 2)); // 5 wide, stride (2, 3)
            direct_case!($t, 117, 1, 4, 11, 2, (2, 2), (1, 3), (0, 0)); // taps skip columns
        };
    }

    #[test]
    fn direct_passes_match_definitions_for_every_tile_in_f32() {
        tile_cases!(f32);
    }

    #[test]
    fn direct_passes_match_definitions_for_every_tile_in_f64() {
        tile_cases!(f64);
    }

    #[test]
    fn rows_wider_than_the_stack_buffer() {
        // (what follows is for the buffers of `alloc` builds; without
        // `alloc` they are smaller and more of these take the tap loop)
        // padded rows longer than the buffer: the tap loop in all three
        // passes, with stride 1 and with a horizontal stride
        direct_case!(f64, 110, 1, 1, STAGE + 76, 3, (1, 3), (1, 1), (0, 1));
        direct_case!(f32, 111, 1, 1, STAGE + 76, 3, (1, 3), (1, 1), (0, 1));
        direct_case!(f64, 118, 1, 1, STAGE + 77, 2, (1, 3), (1, 2), (0, 1));
        // three padded rows do not fit: the forward passes stage two rows
        // of one channel at a time (and add the second chunk)
        direct_case!(f64, 112, 2, 4, 400, 2, (3, 3), (1, 1), (1, 1));
        // one channel's three rows fit but not two channels': one chunk per
        // channel, the later ones added, with an overlapping last tile (201
        // = 50 · 4 + 1 = 25 · 8 + 1)
        direct_case!(f64, 113, 3, 8, 201, 2, (3, 3), (1, 1), (1, 1));
        direct_case!(f32, 114, 3, 8, 201, 5, (3, 3), (1, 1), (1, 1));
        // a strided backward pass in bands of output rows
        direct_case!(f32, 115, 2, 9, 203, 3, (3, 3), (2, 2), (1, 1));
        // output rows of more than STAGE / 4 values: the deltas of the
        // gradient pass in two chunks of output channels
        direct_case!(f32, 119, 1, 3, 300, 4, (3, 3), (1, 1), (1, 1));
    }

    /// The batch passes as they were before they wrote into caller
    /// buffers (fresh buffers for the patches and the products, the same
    /// arithmetic), to check that the `_into` forms give the same bits.
    #[cfg(feature = "alloc")]
    mod before {
        use super::super::{Conv2d, Geometry2d, Strided, col2im, gemm, im2col};
        use crate::Scalar;

        fn patches<T: Scalar>(g: &Geometry2d, x: &[T]) -> Vec<T> {
            let per = g.kernel_len() * g.positions();
            let mut cols = vec![T::zero(); x.len() / g.in_len() * per];
            for (x, cols) in x.chunks_exact(g.in_len()).zip(cols.chunks_exact_mut(per)) {
                im2col(g, x, cols);
            }
            cols
        }

        fn channels_last<T: Scalar>(g: &Geometry2d, delta: &[T]) -> Vec<T> {
            let (c_out, p) = (g.out_channels, g.positions());
            let mut d = vec![T::zero(); delta.len()];
            for (sample, ds) in delta
                .chunks_exact(c_out * p)
                .zip(d.chunks_exact_mut(c_out * p))
            {
                for (o, plane) in sample.chunks_exact(p).enumerate() {
                    for (q, v) in plane.iter().enumerate() {
                        ds[q * c_out + o] = *v;
                    }
                }
            }
            d
        }

        pub fn forward<T: Scalar, const C_OUT: usize, const K_LEN: usize>(
            l: &Conv2d<T, C_OUT, K_LEN>,
            g: &Geometry2d,
            x: &[T],
        ) -> Vec<T> {
            let p = g.positions();
            let batch = x.len() / g.in_len();
            let cols = patches(g, x);
            let mut y = vec![T::zero(); C_OUT * p * batch];
            gemm(
                (C_OUT, K_LEN, p * batch),
                T::one(),
                Strided {
                    data: l.weight.as_slice(),
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
            let mut z = vec![T::zero(); g.out_len() * batch];
            for (sample, ys) in z
                .chunks_exact_mut(g.out_len())
                .zip(y.chunks_exact(C_OUT * p))
            {
                for (q, column) in ys.chunks_exact(C_OUT).enumerate() {
                    for (o, (v, b)) in column.iter().zip(l.bias.iter()).enumerate() {
                        sample[o * p + q] = *v + *b;
                    }
                }
            }
            z
        }

        pub fn accumulate<T: Scalar, const C_OUT: usize, const K_LEN: usize>(
            g: &Geometry2d,
            a: &[T],
            delta: &[T],
            gradients: &mut Conv2d<T, C_OUT, K_LEN>,
        ) {
            let d = channels_last(g, delta);
            let cols = patches(g, a);
            gemm(
                (C_OUT, g.positions() * a.len() / g.in_len(), K_LEN),
                T::one(),
                Strided {
                    data: &d,
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

        pub fn backpropagate<T: Scalar, const C_OUT: usize, const K_LEN: usize>(
            l: &Conv2d<T, C_OUT, K_LEN>,
            g: &Geometry2d,
            delta: &[T],
        ) -> Vec<T> {
            let p = g.positions();
            let batch = delta.len() / g.out_len();
            let d = channels_last(g, delta);
            let mut cols = vec![T::zero(); K_LEN * p * batch];
            gemm(
                (K_LEN, C_OUT, p * batch),
                T::one(),
                Strided {
                    data: l.weight.as_slice(),
                    row_stride: C_OUT,
                    col_stride: 1,
                },
                Strided {
                    data: &d,
                    row_stride: 1,
                    col_stride: C_OUT,
                },
                T::zero(),
                &mut cols,
            );
            let mut back = vec![T::zero(); g.in_len() * batch];
            for (sample, cols) in back
                .chunks_exact_mut(g.in_len())
                .zip(cols.chunks_exact(K_LEN * p))
            {
                col2im(g, cols, sample);
            }
            back
        }
    }

    /// The bits of `v`, to compare results exactly (`-0.0` and `0.0`
    /// differ, NaN equals itself).
    #[cfg(feature = "alloc")]
    fn bits<T: Scalar + Into<f64>>(v: &[T]) -> Vec<u64> {
        v.iter().map(|x| (*x).into().to_bits()).collect()
    }

    /// The `_into` batch passes against [`before`], for batches of 5, then
    /// 2 and 5 again with the same scratch (filled with NaN before every
    /// call) and outputs full of NaN; the allocating wrappers too.
    #[cfg(feature = "alloc")]
    fn check_batch_into<
        T: Scalar + Into<f64>,
        const C_OUT: usize,
        const K_LEN: usize,
        const NIN: usize,
        const NOUT: usize,
    >(
        g: Geometry2d,
        seed: u64,
    ) {
        let cast = |v: Vec<f64>| -> Vec<T> { v.into_iter().map(nalgebra::convert).collect() };
        let nan: T = nalgebra::convert(f64::NAN);
        let mut l = Conv2d::<T, C_OUT, K_LEN>::zeros();
        l.weight.copy_from_slice(&cast(random(C_OUT * K_LEN, seed)));
        l.bias.copy_from_slice(&cast(random(C_OUT, seed + 1)));
        let mut scratch = Scratch::new();
        for (round, batch) in [5, 2, 5].into_iter().enumerate() {
            let seed = seed + 10 * round as u64;
            let x = cast(random(batch * NIN, seed + 2));
            let d = cast(random(batch * NOUT, seed + 3));
            let dirty = |scratch: &mut Scratch<T>| {
                let (len_a, len_b) = scratch.capacity();
                let (a, b) = scratch.buffers(len_a, len_b);
                a.fill(nan);
                b.fill(nan);
            };

            let want = before::forward(&l, &g, &x);
            let mut z = vec![nan; batch * NOUT];
            dirty(&mut scratch);
            l.forward_batch_into::<NIN, NOUT>(&g, &x, &mut z, &mut scratch);
            assert_eq!(bits(&z), bits(&want), "{g:?}: forward, batch {batch}");
            let xm = OMatrix::<T, Const<NIN>, Dyn>::from_column_slice(&x);
            let zm: OMatrix<T, Const<NOUT>, Dyn> = l.forward_batch(&g, &xm);
            assert_eq!(bits(zm.as_slice()), bits(&want));

            // gradients add to what is there
            let mut want = l;
            before::accumulate(&g, &x, &d, &mut want);
            let mut grads = l;
            dirty(&mut scratch);
            Conv2d::accumulate_batch_gradients_into::<NIN, NOUT>(
                &g,
                &x,
                &d,
                &mut grads,
                &mut scratch,
            );
            assert_eq!(
                bits(grads.weight.as_slice()),
                bits(want.weight.as_slice()),
                "{g:?}: ∂W"
            );
            assert_eq!(
                bits(grads.bias.as_slice()),
                bits(want.bias.as_slice()),
                "{g:?}: ∂b"
            );
            let dm = OMatrix::<T, Const<NOUT>, Dyn>::from_column_slice(&d);
            let mut wrapped = l;
            Conv2d::accumulate_batch_gradients(&g, &xm, &dm, &mut wrapped);
            assert_eq!(wrapped, want);

            let want = before::backpropagate(&l, &g, &d);
            let mut back = vec![nan; batch * NIN];
            dirty(&mut scratch);
            l.backpropagate_batch_into::<NIN, NOUT>(&g, &d, &mut back, &mut scratch);
            assert_eq!(bits(&back), bits(&want), "{g:?}: back, batch {batch}");
            let bm: OMatrix<T, Const<NIN>, Dyn> = l.backpropagate_batch(&g, &dm);
            assert_eq!(bits(bm.as_slice()), bits(&want));
            let mut both = l;
            let bm = l.backward_batch(&g, &xm, &dm, &mut both);
            assert_eq!(bits(bm.as_slice()), bits(&want));
            assert_eq!(both, wrapped);
        }
    }

    #[cfg(feature = "alloc")]
    macro_rules! batch_into_case {
        ($t:ty, $seed:expr, $($arg:expr),+) => {{
            const G: Geometry2d = Geometry2d::new($($arg),+).unwrap();
            check_batch_into::<$t, { G.out_channels }, { G.kernel_len() }, { G.in_len() }, { G.out_len() }>(
                G, $seed,
            );
        }};
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn batch_into_passes_give_the_bits_of_the_allocating_algorithm() {
        batch_into_case!(f64, 120, 1, 5, 7, 2, (1, 1), (1, 1), (0, 0));
        batch_into_case!(f64, 121, 3, 6, 4, 2, (3, 3), (1, 1), (2, 2));
        batch_into_case!(f64, 122, 3, 6, 9, 4, (2, 3), (2, 2), (2, 1));
        batch_into_case!(f32, 123, 3, 8, 8, 5, (3, 3), (1, 1), (1, 1));
        batch_into_case!(f32, 124, 2, 1, 9, 3, (1, 3), (1, 2), (0, 1));
        batch_into_case!(f32, 125, 1, 1, 1, 2, (1, 1), (1, 1), (2, 2));
    }

    #[test]
    #[cfg(feature = "alloc")]
    #[should_panic(expected = "`z` holds 5 values, not 2 samples of 2")]
    fn batch_into_refuses_a_short_output() {
        const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
        let conv = Conv2d::<f64, 1, 2>::zeros();
        let mut z = [0.0; 5];
        conv.forward_batch_into::<3, 2>(&G, &[0.0; 6], &mut z, &mut Scratch::new());
    }

    #[test]
    #[cfg(feature = "alloc")]
    #[should_panic(expected = "`delta` holds 3 values, not a whole number of samples of 2")]
    fn batch_into_refuses_a_partial_sample() {
        const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
        let conv = Conv2d::<f64, 1, 2>::zeros();
        let mut back = [0.0; 3];
        conv.backpropagate_batch_into::<3, 2>(&G, &[0.0; 3], &mut back, &mut Scratch::new());
    }

    #[test]
    #[cfg(feature = "alloc")]
    #[should_panic(expected = "inputs and deltas differ in batch size")]
    fn batch_into_refuses_different_batch_sizes() {
        const G: Geometry2d = Geometry2d::new(1, 1, 3, 1, (1, 2), (1, 1), (0, 0)).unwrap();
        let mut grads = Conv2d::<f64, 1, 2>::zeros();
        Conv2d::accumulate_batch_gradients_into::<3, 2>(
            &G,
            &[0.0; 6],
            &[0.0; 6],
            &mut grads,
            &mut Scratch::new(),
        );
    }
}
