//! Max and average pooling over 2-D (and, with height 1, 1-D) windows:
//! [`MaxPool2d`] and [`AvgPool2d`].
//!
//! Pools have no parameters. Their geometry is a [`Geometry2d`] with
//! `out_channels == in_channels`; each channel is pooled on its own.

use nalgebra::SVector;
#[cfg(feature = "alloc")]
use nalgebra::{Const, Dyn, OMatrix};

use super::conv::{Geometry2d, Window};
#[cfg(feature = "alloc")]
use super::conv::{batch_size, check_len};
use crate::Scalar;

/// Checks (in debug builds) that `g` is a valid pooling geometry for inputs
/// of `NIN` and outputs of `NOUT` values.
fn debug_check<const NIN: usize, const NOUT: usize>(g: &Geometry2d) {
    debug_assert!(g.is_valid(), "inconsistent geometry {g:?}");
    debug_assert_eq!(
        g.in_channels, g.out_channels,
        "a pool keeps the number of channels"
    );
    debug_assert_eq!(g.in_len(), NIN, "geometry has another input size");
    debug_assert_eq!(g.out_len(), NOUT, "geometry has another output size");
}

/// The input indices under a window, row by row.
fn indices(g: &Geometry2d, w: &Window) -> impl Iterator<Item = usize> {
    let base = w.channel * g.in_height * g.in_width;
    let width = g.in_width;
    let cols = w.cols.clone();
    w.rows
        .clone()
        .flat_map(move |h| cols.clone().map(move |c| base + h * width + c))
}

/// Whether `v` is NaN (`RealField` has no `is_nan`).
fn is_nan<T: Scalar>(v: T) -> bool {
    v.partial_cmp(&v).is_none()
}

/// The index of the largest input under a window (the first of equal ones,
/// the first NaN if there is one), or `None` when the window covers only
/// padding.
fn argmax<T: Scalar>(g: &Geometry2d, x: &[T], w: &Window) -> Option<usize> {
    let mut best: Option<(usize, T)> = None;
    for i in indices(g, w) {
        let v = x[i];
        match best {
            Some((_, b)) if is_nan(b) || !(v > b || is_nan(v)) => {}
            _ => best = Some((i, v)),
        }
    }
    best.map(|(i, _)| i)
}

/// Runs `single` on every column of a batch, `x` and `y` holding samples
/// of `n_in` and `n_out` values one after another.
#[cfg(feature = "alloc")]
fn per_sample<T: Scalar>(
    x: &[T],
    n_in: usize,
    y: &mut [T],
    n_out: usize,
    mut single: impl FnMut(&[T], &mut [T]),
) {
    for (x, y) in x.chunks_exact(n_in).zip(y.chunks_exact_mut(n_out)) {
        single(x, y);
    }
}

/// Max pooling: each output is the largest input under its window.
///
/// Padding is left out of the maximum (as if it were −∞, as in PyTorch); a
/// window that covers only padding, possible when the padding is at least
/// the kernel, gives 0 and passes no gradient back. A NaN under a window
/// makes its output NaN.
///
/// ```
/// use staticnet::layers::{Geometry2d, MaxPool2d};
/// use nalgebra::SVector;
///
/// // one 2 × 4 channel, 2 × 2 windows with stride 2
/// const G: Geometry2d = Geometry2d::new(1, 2, 4, 1, (2, 2), (2, 2), (0, 0)).unwrap();
/// let x = SVector::<f64, 8>::from([1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 7.0, 6.0]);
/// let y: SVector<f64, 2> = MaxPool2d.forward(&G, &x);
/// assert_eq!(y, SVector::<f64, 2>::from([5.0, 7.0]));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MaxPool2d;

impl MaxPool2d {
    fn forward_slice<T: Scalar>(g: &Geometry2d, x: &[T], y: &mut [T]) {
        g.for_each_window(g.in_channels, |w| {
            y[w.out] = argmax(g, x, &w).map_or(T::zero(), |i| x[i]);
        });
    }

    fn backpropagate_slice<T: Scalar>(g: &Geometry2d, a: &[T], delta: &[T], back: &mut [T]) {
        g.for_each_window(g.in_channels, |w| {
            if let Some(i) = argmax(g, a, &w) {
                back[i] += delta[w.out];
            }
        });
    }

    /// The maximum of each window of one sample.
    ///
    /// ```
    /// use staticnet::layers::{Geometry2d, MaxPool2d};
    /// use nalgebra::SVector;
    ///
    /// // two channels of 1 × 4, windows of 2 with stride 2
    /// const G: Geometry2d = Geometry2d::new(2, 1, 4, 2, (1, 2), (1, 2), (0, 0)).unwrap();
    /// let x = SVector::<f32, 8>::from([1.0, -1.0, 0.0, 2.0, -3.0, -4.0, 9.0, 8.0]);
    /// let y: SVector<f32, 4> = MaxPool2d.forward(&G, &x);
    /// assert_eq!(y, SVector::<f32, 4>::from([1.0, 2.0, -3.0, 9.0]));
    /// ```
    #[must_use]
    pub fn forward<T: Scalar, const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        x: &SVector<T, NIN>,
    ) -> SVector<T, NOUT> {
        debug_check::<NIN, NOUT>(geometry);
        let mut y = SVector::<T, NOUT>::zeros();
        Self::forward_slice(geometry, x.as_slice(), y.as_mut_slice());
        y
    }

    /// [`forward`](Self::forward) for a batch, one sample per column.
    ///
    /// ```
    /// use staticnet::layers::{Geometry2d, MaxPool2d};
    /// use nalgebra::{Const, Dyn, OMatrix};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 4, 1, (1, 2), (1, 2), (0, 0)).unwrap();
    /// let x = OMatrix::<f64, Const<4>, Dyn>::from_column_slice(&[1.0, 2.0, 4.0, 3.0, 0.0, -1.0, -2.0, -3.0]);
    /// let y: OMatrix<f64, Const<2>, Dyn> = MaxPool2d.forward_batch(&G, &x);
    /// assert_eq!(y.as_slice(), &[2.0, 4.0, 0.0, -2.0]);
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn forward_batch<T: Scalar, const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        x: &OMatrix<T, Const<NIN>, Dyn>,
    ) -> OMatrix<T, Const<NOUT>, Dyn> {
        let mut y = OMatrix::<T, Const<NOUT>, Dyn>::zeros(x.ncols());
        self.forward_batch_into::<T, NIN, NOUT>(geometry, x.as_slice(), y.as_mut_slice());
        y
    }

    /// [`forward_batch`](Self::forward_batch) into a caller buffer: `x`
    /// holds `batch` samples of `NIN` values one after another (a
    /// column-major `NIN × batch` matrix, `batch = x.len() / NIN`), and
    /// `z`, `NOUT × batch` the same way, is overwritten completely.
    /// Allocates nothing.
    ///
    /// # Panics
    ///
    /// If `x.len()` is not a multiple of `NIN` or `z.len()` is not `NOUT`
    /// times the batch size.
    ///
    /// ```
    /// use staticnet::layers::{Geometry2d, MaxPool2d};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 4, 1, (1, 2), (1, 2), (0, 0)).unwrap();
    /// let x = [1.0, 2.0, 4.0, 3.0, 0.0, -1.0, -2.0, -3.0];
    /// let mut z = [f64::NAN; 4]; // no need to clear it
    /// MaxPool2d.forward_batch_into::<f64, 4, 2>(&G, &x, &mut z);
    /// assert_eq!(z, [2.0, 4.0, 0.0, -2.0]);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn forward_batch_into<T: Scalar, const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        x: &[T],
        z: &mut [T],
    ) {
        debug_check::<NIN, NOUT>(geometry);
        let batch = batch_size(x.len(), NIN, "x");
        check_len(z.len(), NOUT, batch, "z");
        per_sample(x, NIN, z, NOUT, |x, y| Self::forward_slice(geometry, x, y));
    }

    /// `∂L/∂a`: each output's delta goes to the largest input of its window
    /// (the first of equal ones), found again from the forward input `a`;
    /// overlapping windows accumulate.
    ///
    /// ```
    /// use staticnet::layers::{Geometry2d, MaxPool2d};
    /// use nalgebra::SVector;
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 4, 1, (1, 2), (1, 2), (0, 0)).unwrap();
    /// let a = SVector::<f64, 4>::from([1.0, 2.0, 4.0, 4.0]);
    /// let back: SVector<f64, 4> = MaxPool2d.backpropagate(&G, &a, &SVector::<f64, 2>::from([0.5, 3.0]));
    /// assert_eq!(back, SVector::<f64, 4>::from([0.0, 0.5, 3.0, 0.0]));
    /// ```
    #[must_use]
    pub fn backpropagate<T: Scalar, const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        a: &SVector<T, NIN>,
        delta: &SVector<T, NOUT>,
    ) -> SVector<T, NIN> {
        debug_check::<NIN, NOUT>(geometry);
        let mut back = SVector::<T, NIN>::zeros();
        Self::backpropagate_slice(
            geometry,
            a.as_slice(),
            delta.as_slice(),
            back.as_mut_slice(),
        );
        back
    }

    /// [`backpropagate`](Self::backpropagate) for a batch, one sample per
    /// column.
    ///
    /// # Panics
    ///
    /// If `a` and `delta` have different numbers of columns.
    ///
    /// ```
    /// use staticnet::layers::{Geometry2d, MaxPool2d};
    /// use nalgebra::{Const, Dyn, OMatrix};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 4, 1, (1, 2), (1, 2), (0, 0)).unwrap();
    /// let a = OMatrix::<f64, Const<4>, Dyn>::from_column_slice(&[1.0, 2.0, 4.0, 3.0, 0.0, -1.0, -2.0, -3.0]);
    /// let delta = OMatrix::<f64, Const<2>, Dyn>::from_column_slice(&[1.0, 2.0, 3.0, 4.0]);
    /// let back: OMatrix<f64, Const<4>, Dyn> = MaxPool2d.backpropagate_batch(&G, &a, &delta);
    /// assert_eq!(back.as_slice(), &[0.0, 1.0, 2.0, 0.0, 3.0, 0.0, 4.0, 0.0]);
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn backpropagate_batch<T: Scalar, const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        a: &OMatrix<T, Const<NIN>, Dyn>,
        delta: &OMatrix<T, Const<NOUT>, Dyn>,
    ) -> OMatrix<T, Const<NIN>, Dyn> {
        assert_eq!(
            a.ncols(),
            delta.ncols(),
            "inputs and deltas differ in batch size"
        );
        let mut back = OMatrix::<T, Const<NIN>, Dyn>::zeros(a.ncols());
        self.backpropagate_batch_into::<T, NIN, NOUT>(
            geometry,
            a.as_slice(),
            delta.as_slice(),
            back.as_mut_slice(),
        );
        back
    }

    /// [`backpropagate_batch`](Self::backpropagate_batch) from and into
    /// caller slices: `a` holds the `batch` forward inputs of `NIN` values
    /// one after another (column-major `NIN × batch`), `delta` their deltas
    /// of `NOUT` values, and `back`, `NIN × batch`, is overwritten
    /// completely. Allocates nothing.
    ///
    /// # Panics
    ///
    /// If `a.len()` is not a multiple of `NIN`, `delta.len()` not a
    /// multiple of `NOUT`, they hold different numbers of samples, or
    /// `back.len() != a.len()`.
    ///
    /// ```
    /// use staticnet::layers::{Geometry2d, MaxPool2d};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 4, 1, (1, 2), (1, 2), (0, 0)).unwrap();
    /// let a = [1.0, 2.0, 4.0, 3.0, 0.0, -1.0, -2.0, -3.0];
    /// let mut back = [f64::NAN; 8]; // overwritten, not added to
    /// MaxPool2d.backpropagate_batch_into::<f64, 4, 2>(&G, &a, &[1.0, 2.0, 3.0, 4.0], &mut back);
    /// assert_eq!(back, [0.0, 1.0, 2.0, 0.0, 3.0, 0.0, 4.0, 0.0]);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn backpropagate_batch_into<T: Scalar, const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        a: &[T],
        delta: &[T],
        back: &mut [T],
    ) {
        debug_check::<NIN, NOUT>(geometry);
        let batch = batch_size(a.len(), NIN, "a");
        assert_eq!(
            batch,
            batch_size(delta.len(), NOUT, "delta"),
            "inputs and deltas differ in batch size"
        );
        check_len(back.len(), NIN, batch, "back");
        back.fill(T::zero());
        for ((a, delta), back) in a
            .chunks_exact(NIN)
            .zip(delta.chunks_exact(NOUT))
            .zip(back.chunks_exact_mut(NIN))
        {
            Self::backpropagate_slice(geometry, a, delta, back);
        }
    }
}

/// Average pooling: each output is the mean of the inputs under its window.
///
/// Padding counts as zeros in the average, which always divides by
/// `kernel height · kernel width` (PyTorch's default,
/// `count_include_pad=True`); pools usually have no padding, where this
/// makes no difference. Global average pooling is this pool with the kernel
/// as large as the input.
///
/// ```
/// use staticnet::layers::{AvgPool2d, Geometry2d};
/// use nalgebra::SVector;
///
/// // global average pooling of two 2 × 3 channels
/// const G: Geometry2d = Geometry2d::new(2, 2, 3, 2, (2, 3), (1, 1), (0, 0)).unwrap();
/// let x = SVector::<f64, 12>::from([1.0, 2.0, 3.0, 4.0, 5.0, 9.0, 0.0, 0.0, 0.0, 0.0, 0.0, 6.0]);
/// let y: SVector<f64, 2> = AvgPool2d.forward(&G, &x);
/// assert_eq!(y, SVector::<f64, 2>::from([4.0, 1.0]));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AvgPool2d;

impl AvgPool2d {
    /// The number of taps of a window, as a scalar.
    fn taps<T: Scalar>(g: &Geometry2d) -> T {
        crate::scalar::constant((g.kernel.0 * g.kernel.1) as f64)
    }

    fn forward_slice<T: Scalar>(g: &Geometry2d, x: &[T], y: &mut [T]) {
        let taps = Self::taps::<T>(g);
        g.for_each_window(g.in_channels, |w| {
            y[w.out] = indices(g, &w).fold(T::zero(), |s, i| s + x[i]) / taps;
        });
    }

    fn backpropagate_slice<T: Scalar>(g: &Geometry2d, delta: &[T], back: &mut [T]) {
        let taps = Self::taps::<T>(g);
        g.for_each_window(g.in_channels, |w| {
            let share = delta[w.out] / taps;
            for i in indices(g, &w) {
                back[i] += share;
            }
        });
    }

    /// The mean of each window of one sample.
    ///
    /// ```
    /// use staticnet::layers::{AvgPool2d, Geometry2d};
    /// use nalgebra::SVector;
    ///
    /// // one 2 × 4 channel, 2 × 2 windows with stride 2
    /// const G: Geometry2d = Geometry2d::new(1, 2, 4, 1, (2, 2), (2, 2), (0, 0)).unwrap();
    /// let x = SVector::<f64, 8>::from([1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 7.0, 6.0]);
    /// let y: SVector<f64, 2> = AvgPool2d.forward(&G, &x);
    /// assert_eq!(y, SVector::<f64, 2>::from([3.25, 3.75]));
    /// ```
    #[must_use]
    pub fn forward<T: Scalar, const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        x: &SVector<T, NIN>,
    ) -> SVector<T, NOUT> {
        debug_check::<NIN, NOUT>(geometry);
        let mut y = SVector::<T, NOUT>::zeros();
        Self::forward_slice(geometry, x.as_slice(), y.as_mut_slice());
        y
    }

    /// [`forward`](Self::forward) for a batch, one sample per column.
    ///
    /// ```
    /// use staticnet::layers::{AvgPool2d, Geometry2d};
    /// use nalgebra::{Const, Dyn, OMatrix};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 4, 1, (1, 2), (1, 2), (0, 0)).unwrap();
    /// let x = OMatrix::<f64, Const<4>, Dyn>::from_column_slice(&[1.0, 2.0, 4.0, 3.0, 0.0, -1.0, -2.0, -3.0]);
    /// let y: OMatrix<f64, Const<2>, Dyn> = AvgPool2d.forward_batch(&G, &x);
    /// assert_eq!(y.as_slice(), &[1.5, 3.5, -0.5, -2.5]);
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn forward_batch<T: Scalar, const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        x: &OMatrix<T, Const<NIN>, Dyn>,
    ) -> OMatrix<T, Const<NOUT>, Dyn> {
        let mut y = OMatrix::<T, Const<NOUT>, Dyn>::zeros(x.ncols());
        self.forward_batch_into::<T, NIN, NOUT>(geometry, x.as_slice(), y.as_mut_slice());
        y
    }

    /// [`forward_batch`](Self::forward_batch) into a caller buffer: `x`
    /// holds `batch` samples of `NIN` values one after another (a
    /// column-major `NIN × batch` matrix, `batch = x.len() / NIN`), and
    /// `z`, `NOUT × batch` the same way, is overwritten completely.
    /// Allocates nothing.
    ///
    /// # Panics
    ///
    /// If `x.len()` is not a multiple of `NIN` or `z.len()` is not `NOUT`
    /// times the batch size.
    ///
    /// ```
    /// use staticnet::layers::{Geometry2d, AvgPool2d};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 4, 1, (1, 2), (1, 2), (0, 0)).unwrap();
    /// let x = [1.0, 2.0, 4.0, 3.0, 0.0, -1.0, -2.0, -3.0];
    /// let mut z = [f64::NAN; 4]; // no need to clear it
    /// AvgPool2d.forward_batch_into::<f64, 4, 2>(&G, &x, &mut z);
    /// assert_eq!(z, [1.5, 3.5, -0.5, -2.5]);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn forward_batch_into<T: Scalar, const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        x: &[T],
        z: &mut [T],
    ) {
        debug_check::<NIN, NOUT>(geometry);
        let batch = batch_size(x.len(), NIN, "x");
        check_len(z.len(), NOUT, batch, "z");
        per_sample(x, NIN, z, NOUT, |x, y| Self::forward_slice(geometry, x, y));
    }

    /// `∂L/∂a`: each output's delta spread evenly over its window, `δ /
    /// (kernel height · kernel width)` to every input under it (the share of
    /// the padding is dropped); overlapping windows accumulate. `a`, the
    /// forward input, is not needed and only there so that both pools take
    /// the same arguments.
    ///
    /// ```
    /// use staticnet::layers::{AvgPool2d, Geometry2d};
    /// use nalgebra::SVector;
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 4, 1, (1, 2), (1, 2), (0, 0)).unwrap();
    /// let a = SVector::<f64, 4>::zeros();
    /// let back: SVector<f64, 4> = AvgPool2d.backpropagate(&G, &a, &SVector::<f64, 2>::from([1.0, 3.0]));
    /// assert_eq!(back, SVector::<f64, 4>::from([0.5, 0.5, 1.5, 1.5]));
    /// ```
    #[must_use]
    pub fn backpropagate<T: Scalar, const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        a: &SVector<T, NIN>,
        delta: &SVector<T, NOUT>,
    ) -> SVector<T, NIN> {
        debug_check::<NIN, NOUT>(geometry);
        let _ = a;
        let mut back = SVector::<T, NIN>::zeros();
        Self::backpropagate_slice(geometry, delta.as_slice(), back.as_mut_slice());
        back
    }

    /// [`backpropagate`](Self::backpropagate) for a batch, one sample per
    /// column.
    ///
    /// # Panics
    ///
    /// If `a` and `delta` have different numbers of columns.
    ///
    /// ```
    /// use staticnet::layers::{AvgPool2d, Geometry2d};
    /// use nalgebra::{Const, Dyn, OMatrix};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 4, 1, (1, 2), (1, 2), (0, 0)).unwrap();
    /// let a = OMatrix::<f64, Const<4>, Dyn>::zeros(2);
    /// let delta = OMatrix::<f64, Const<2>, Dyn>::from_column_slice(&[1.0, 2.0, 3.0, 4.0]);
    /// let back: OMatrix<f64, Const<4>, Dyn> = AvgPool2d.backpropagate_batch(&G, &a, &delta);
    /// assert_eq!(back.as_slice(), &[0.5, 0.5, 1.0, 1.0, 1.5, 1.5, 2.0, 2.0]);
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn backpropagate_batch<T: Scalar, const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        a: &OMatrix<T, Const<NIN>, Dyn>,
        delta: &OMatrix<T, Const<NOUT>, Dyn>,
    ) -> OMatrix<T, Const<NIN>, Dyn> {
        assert_eq!(
            a.ncols(),
            delta.ncols(),
            "inputs and deltas differ in batch size"
        );
        let mut back = OMatrix::<T, Const<NIN>, Dyn>::zeros(a.ncols());
        self.backpropagate_batch_into::<T, NIN, NOUT>(
            geometry,
            a.as_slice(),
            delta.as_slice(),
            back.as_mut_slice(),
        );
        back
    }

    /// [`backpropagate_batch`](Self::backpropagate_batch) from and into
    /// caller slices: `delta` holds `batch` deltas of `NOUT` values one
    /// after another (column-major `NOUT × batch`) and `back`, `NIN ×
    /// batch`, is overwritten completely. `a`, the forward inputs, is only
    /// checked for its length, so that both pools take the same arguments.
    /// Allocates nothing.
    ///
    /// # Panics
    ///
    /// If `a.len()` is not a multiple of `NIN`, `delta.len()` not a
    /// multiple of `NOUT`, they hold different numbers of samples, or
    /// `back.len() != a.len()`.
    ///
    /// ```
    /// use staticnet::layers::{AvgPool2d, Geometry2d};
    ///
    /// const G: Geometry2d = Geometry2d::new(1, 1, 4, 1, (1, 2), (1, 2), (0, 0)).unwrap();
    /// let mut back = [f64::NAN; 8]; // overwritten, not added to
    /// AvgPool2d.backpropagate_batch_into::<f64, 4, 2>(&G, &[0.0; 8], &[1.0, 2.0, 3.0, 4.0], &mut back);
    /// assert_eq!(back, [0.5, 0.5, 1.0, 1.0, 1.5, 1.5, 2.0, 2.0]);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn backpropagate_batch_into<T: Scalar, const NIN: usize, const NOUT: usize>(
        &self,
        geometry: &Geometry2d,
        a: &[T],
        delta: &[T],
        back: &mut [T],
    ) {
        debug_check::<NIN, NOUT>(geometry);
        let batch = batch_size(a.len(), NIN, "a");
        assert_eq!(
            batch,
            batch_size(delta.len(), NOUT, "delta"),
            "inputs and deltas differ in batch size"
        );
        check_len(back.len(), NIN, batch, "back");
        back.fill(T::zero());
        per_sample(delta, NOUT, back, NIN, |d, b| {
            Self::backpropagate_slice(geometry, d, b);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::seeded_rng;
    use rand::RngExt;

    /// `n` values uniform in `[−1, 1)`, the same for the same seed.
    fn random(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = seeded_rng(seed);
        (0..n).map(|_| 2.0 * rng.random::<f64>() - 1.0).collect()
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
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let diff: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
        let scale = norm(a).max(norm(b));
        if scale == 0.0 {
            0.0
        } else {
            norm(&diff) / scale
        }
    }

    /// Both pools by their definitions: (max with padding left out, mean
    /// with padding as zeros).
    fn naive(g: &Geometry2d, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (mut max, mut avg) = (Vec::new(), Vec::new());
        for c in 0..g.in_channels {
            for oh in 0..g.out_height {
                for ow in 0..g.out_width {
                    let mut m = f64::NEG_INFINITY;
                    let mut sum = 0.0;
                    for i in 0..g.kernel.0 {
                        for j in 0..g.kernel.1 {
                            let ih = (oh * g.stride.0 + i) as isize - g.padding.0 as isize;
                            let iw = (ow * g.stride.1 + j) as isize - g.padding.1 as isize;
                            if (0..g.in_height as isize).contains(&ih)
                                && (0..g.in_width as isize).contains(&iw)
                            {
                                let v =
                                    x[(c * g.in_height + ih as usize) * g.in_width + iw as usize];
                                m = m.max(v);
                                sum += v;
                            }
                        }
                    }
                    max.push(if m == f64::NEG_INFINITY { 0.0 } else { m });
                    avg.push(sum / (g.kernel.0 * g.kernel.1) as f64);
                }
            }
        }
        (max, avg)
    }

    fn check<const NIN: usize, const NOUT: usize>(g: Geometry2d, seed: u64) {
        let x = SVector::<f64, NIN>::from_column_slice(&random(NIN, seed));
        let (max, avg) = naive(&g, x.as_slice());
        let y: SVector<f64, NOUT> = MaxPool2d.forward(&g, &x);
        assert_eq!(y.as_slice(), &max[..], "{g:?}");
        let y: SVector<f64, NOUT> = AvgPool2d.forward(&g, &x);
        assert!(max_abs_diff(y.as_slice(), &avg) < 1e-12, "{g:?}");

        // gradients of L = Σ c ⊙ y + ½ Σ y², δ = c + y, against central
        // differences
        let c = SVector::<f64, NOUT>::from_column_slice(&random(NOUT, seed + 1));
        let h = 1e-6;
        let max_loss = |a: &SVector<f64, NIN>| {
            let y: SVector<f64, NOUT> = MaxPool2d.forward(&g, a);
            c.dot(&y) + 0.5 * y.norm_squared()
        };
        let avg_loss = |a: &SVector<f64, NIN>| {
            let y: SVector<f64, NOUT> = AvgPool2d.forward(&g, a);
            c.dot(&y) + 0.5 * y.norm_squared()
        };
        let fd = |loss: &dyn Fn(&SVector<f64, NIN>) -> f64| -> Vec<f64> {
            (0..NIN)
                .map(|i| {
                    let (mut plus, mut minus) = (x, x);
                    plus[i] += h;
                    minus[i] -= h;
                    (loss(&plus) - loss(&minus)) / (2.0 * h)
                })
                .collect()
        };
        let y: SVector<f64, NOUT> = MaxPool2d.forward(&g, &x);
        let back = MaxPool2d.backpropagate(&g, &x, &(c + y));
        let e = relative_error(back.as_slice(), &fd(&max_loss));
        assert!(e < 1e-6, "{g:?}: max pool gradient off by {e}");
        let y: SVector<f64, NOUT> = AvgPool2d.forward(&g, &x);
        let back = AvgPool2d.backpropagate(&g, &x, &(c + y));
        let e = relative_error(back.as_slice(), &fd(&avg_loss));
        assert!(e < 1e-6, "{g:?}: average pool gradient off by {e}");

        #[cfg(feature = "alloc")]
        {
            // batches: column by column
            let batch = 3;
            let a =
                OMatrix::<f64, Const<NIN>, Dyn>::from_column_slice(&random(batch * NIN, seed + 2));
            let d = OMatrix::<f64, Const<NOUT>, Dyn>::from_column_slice(&random(
                batch * NOUT,
                seed + 3,
            ));
            let max_y: OMatrix<f64, Const<NOUT>, Dyn> = MaxPool2d.forward_batch(&g, &a);
            let avg_y: OMatrix<f64, Const<NOUT>, Dyn> = AvgPool2d.forward_batch(&g, &a);
            let max_back = MaxPool2d.backpropagate_batch(&g, &a, &d);
            let avg_back = AvgPool2d.backpropagate_batch(&g, &a, &d);
            for j in 0..batch {
                let (aj, dj) = (a.column(j).into_owned(), d.column(j).into_owned());
                let y: SVector<f64, NOUT> = MaxPool2d.forward(&g, &aj);
                assert_eq!(max_y.column(j), y);
                let y: SVector<f64, NOUT> = AvgPool2d.forward(&g, &aj);
                assert_eq!(avg_y.column(j), y);
                assert_eq!(max_back.column(j), MaxPool2d.backpropagate(&g, &aj, &dj));
                assert_eq!(avg_back.column(j), AvgPool2d.backpropagate(&g, &aj, &dj));
            }

            // into buffers full of NaN (then of 7), twice: the same values
            let mut z = vec![f64::NAN; batch * NOUT];
            let mut back = vec![f64::NAN; batch * NIN];
            for _ in 0..2 {
                MaxPool2d.forward_batch_into::<f64, NIN, NOUT>(&g, a.as_slice(), &mut z);
                assert_eq!(z, max_y.as_slice(), "{g:?}");
                AvgPool2d.forward_batch_into::<f64, NIN, NOUT>(&g, a.as_slice(), &mut z);
                assert_eq!(z, avg_y.as_slice(), "{g:?}");
                let (a, d) = (a.as_slice(), d.as_slice());
                MaxPool2d.backpropagate_batch_into::<f64, NIN, NOUT>(&g, a, d, &mut back);
                assert_eq!(back, max_back.as_slice(), "{g:?}");
                AvgPool2d.backpropagate_batch_into::<f64, NIN, NOUT>(&g, a, d, &mut back);
                assert_eq!(back, avg_back.as_slice(), "{g:?}");
                z.fill(7.0);
                back.fill(7.0);
            }
        }
    }

    macro_rules! case {
        ($seed:expr, $($arg:expr),+) => {{
            const G: Geometry2d = Geometry2d::new($($arg),+).unwrap();
            check::<{ G.in_len() }, { G.out_len() }>(G, $seed);
        }};
    }

    #[test]
    fn pools_match_definitions_and_finite_differences() {
        // kernel 2 stride 2
        case!(1, 2, 4, 6, 2, (2, 2), (2, 2), (0, 0));
        case!(2, 1, 6, 4, 1, (2, 2), (2, 2), (0, 0));
        // kernel 3 stride 1: overlapping windows
        case!(3, 2, 4, 6, 2, (3, 3), (1, 1), (0, 0));
        case!(4, 3, 5, 5, 3, (3, 3), (1, 1), (1, 1));
        // global
        case!(5, 2, 4, 6, 2, (4, 6), (1, 1), (0, 0));
        case!(6, 3, 3, 3, 3, (3, 3), (1, 1), (0, 0));
        // 1-D, and odd padding
        case!(7, 2, 1, 8, 2, (1, 3), (1, 1), (0, 1));
        case!(8, 1, 4, 2, 1, (2, 2), (2, 2), (1, 1));
    }

    #[test]
    fn global_average_pooling_is_the_channel_mean() {
        const G: Geometry2d = Geometry2d::new(3, 4, 5, 3, (4, 5), (1, 1), (0, 0)).unwrap();
        assert_eq!(G.out_len(), 3);
        let x = SVector::<f64, 60>::from_fn(|i, _| i as f64);
        let y: SVector<f64, 3> = AvgPool2d.forward(&G, &x);
        assert_eq!(y, SVector::<f64, 3>::new(9.5, 29.5, 49.5));
        let back = AvgPool2d.backpropagate(&G, &x, &SVector::<f64, 3>::new(20.0, 40.0, 0.0));
        assert!(back.iter().take(20).all(|b| *b == 1.0));
        assert!(back.iter().skip(20).take(20).all(|b| *b == 2.0));
        assert!(back.iter().skip(40).all(|b| *b == 0.0));
    }

    #[test]
    fn max_pool_ties_go_to_the_first_and_nan_propagates() {
        const G: Geometry2d = Geometry2d::new(1, 2, 2, 1, (2, 2), (1, 1), (0, 0)).unwrap();
        let x = SVector::<f32, 4>::new(1.0, 3.0, 3.0, 3.0);
        let y: SVector<f32, 1> = MaxPool2d.forward(&G, &x);
        assert_eq!(y[0], 3.0);
        let back = MaxPool2d.backpropagate(&G, &x, &SVector::<f32, 1>::new(2.0));
        assert_eq!(back, SVector::<f32, 4>::new(0.0, 2.0, 0.0, 0.0));
        for nan_at in 0..4 {
            let mut x = x;
            x[nan_at] = f32::NAN;
            let y: SVector<f32, 1> = MaxPool2d.forward(&G, &x);
            assert!(y[0].is_nan());
        }
    }

    #[test]
    fn padding_only_windows_and_padding_in_averages() {
        // a single pixel padded by 1: only the centre window sees it
        const G: Geometry2d = Geometry2d::new(1, 1, 1, 1, (1, 1), (1, 1), (1, 1)).unwrap();
        let x = SVector::<f64, 1>::new(-2.0);
        let y: SVector<f64, 9> = MaxPool2d.forward(&G, &x);
        assert_eq!(
            y,
            SVector::<f64, 9>::from_fn(|i, _| if i == 4 { -2.0 } else { 0.0 })
        );
        let back = MaxPool2d.backpropagate(&G, &x, &SVector::<f64, 9>::repeat(1.0));
        assert_eq!(back[0], 1.0);
        // 2 × 2 windows, stride 2, padding 1 on a 2 × 2 input: each window
        // holds one input and three zeros of padding
        const H: Geometry2d = Geometry2d::new(1, 2, 2, 1, (2, 2), (2, 2), (1, 1)).unwrap();
        let x = SVector::<f64, 4>::new(4.0, 8.0, 12.0, 16.0);
        let y: SVector<f64, 4> = AvgPool2d.forward(&H, &x);
        assert_eq!(y, SVector::<f64, 4>::new(1.0, 2.0, 3.0, 4.0));
        let back = AvgPool2d.backpropagate(&H, &x, &SVector::<f64, 4>::repeat(1.0));
        assert_eq!(back, SVector::<f64, 4>::repeat(0.25));
    }

    #[test]
    #[cfg(feature = "alloc")]
    #[should_panic(expected = "`back` holds 6 values, not 2 samples of 2")]
    fn batch_into_refuses_a_long_output() {
        const G: Geometry2d = Geometry2d::new(1, 1, 2, 1, (1, 2), (1, 1), (0, 0)).unwrap();
        let mut back = [0.0; 6];
        AvgPool2d.backpropagate_batch_into::<f64, 2, 1>(&G, &[0.0; 4], &[0.0; 2], &mut back);
    }

    #[test]
    #[cfg(feature = "alloc")]
    #[should_panic(expected = "differ in batch size")]
    fn batch_into_sizes_must_agree() {
        const G: Geometry2d = Geometry2d::new(1, 1, 2, 1, (1, 2), (1, 1), (0, 0)).unwrap();
        let mut back = [0.0; 4];
        MaxPool2d.backpropagate_batch_into::<f64, 2, 1>(&G, &[0.0; 4], &[0.0; 3], &mut back);
    }

    #[test]
    #[cfg(feature = "alloc")]
    #[should_panic(expected = "differ in batch size")]
    fn batch_sizes_must_agree() {
        const G: Geometry2d = Geometry2d::new(1, 1, 2, 1, (1, 2), (1, 1), (0, 0)).unwrap();
        let a = OMatrix::<f64, Const<2>, Dyn>::zeros(2);
        let d = OMatrix::<f64, Const<1>, Dyn>::zeros(3);
        let _ = MaxPool2d.backpropagate_batch(&G, &a, &d);
    }
}
