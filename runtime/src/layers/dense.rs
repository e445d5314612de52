//! The fully connected layer `z = W a + b`.

use core::fmt;

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
use crate::simd;

/// A fully connected layer from `IN` inputs to `OUT` outputs: `z = W a + b`
/// with weight `W` (`OUT × IN`) and bias `b` (`OUT`).
///
/// The activation that follows is not part of the layer; the `network!`
/// macro wires it in. `S` says where the parameters live ([`Inline`] or
/// [`Heap`](super::Heap)).
///
/// ```
/// use staticnet::layers::Dense;
/// use nalgebra::{SMatrix, SVector};
///
/// let mut layer = Dense::<f64, 2, 1>::zeros();
/// *layer.weight = SMatrix::<f64, 1, 2>::new(1.0, -2.0);
/// layer.bias[0] = 0.5;
/// let z = layer.forward(&SVector::<f64, 2>::new(3.0, 1.0));
/// assert_eq!(z[0], 1.5);
/// ```
pub struct Dense<T: Scalar, const IN: usize, const OUT: usize, S: Storage = Inline> {
    /// The weight matrix `W`, `OUT × IN`: row `j` holds the weights into
    /// output `j`.
    pub weight: S::Matrix<T, OUT, IN>,
    /// The bias vector `b`.
    pub bias: S::Matrix<T, OUT, 1>,
}

impl<T: Scalar, const IN: usize, const OUT: usize, S: Storage> Dense<T, IN, OUT, S> {
    /// The number of scalars in the layer: `IN × OUT + OUT`.
    ///
    /// ```
    /// assert_eq!(staticnet::layers::Dense::<f32, 3, 4>::PARAMETERS, 16);
    /// ```
    pub const PARAMETERS: usize = IN * OUT + OUT;

    /// Whether the single-sample passes of `f32` and `f64` layers take the
    /// kernels of [`simd`](crate::simd), which choose AVX2 and FMA at run
    /// time, instead of nalgebra's fully unrolled code for the exact shape.
    /// Columns of at least 32 outputs and 4096 weights in all: below that the
    /// unrolled code is as fast, and a call into a kernel costs more than
    /// the wider instructions gain.
    const WIDE: bool = OUT >= 32 && IN * OUT >= 4096;

    /// A layer whose parameters are all zero.
    ///
    /// ```
    /// let layer = staticnet::layers::Dense::<f32, 3, 2>::zeros();
    /// assert_eq!(layer.weight.sum(), 0.0);
    /// ```
    #[must_use]
    pub fn zeros() -> Self {
        Self {
            weight: S::zeros(),
            bias: S::zeros(),
        }
    }

    /// Fills the weight with `weight` and the bias with `bias` (both with
    /// fan-in `IN` and fan-out `OUT`), drawing the weight first, in
    /// column-major order.
    ///
    /// ```
    /// use staticnet::init::{Init, seeded_rng};
    /// use staticnet::layers::Dense;
    ///
    /// let mut layer = Dense::<f32, 8, 4>::zeros();
    /// layer.initialize(Init::HeUniform, Init::Constant(0.1), &mut seeded_rng(1));
    /// assert!(layer.weight.iter().any(|w| *w != 0.0));
    /// assert!(layer.bias.iter().all(|b| *b == 0.1));
    /// ```
    pub fn initialize<R: Rng + ?Sized>(&mut self, weight: Init, bias: Init, rng: &mut R) {
        weight.fill(self.weight.as_mut_slice(), IN, OUT, rng);
        bias.fill(self.bias.as_mut_slice(), IN, OUT, rng);
    }

    /// `z = W a + b` for one sample.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::{SMatrix, SVector};
    ///
    /// let mut layer = Dense::<f64, 2, 2>::zeros();
    /// *layer.weight = SMatrix::<f64, 2, 2>::new(1.0, 2.0, 0.0, -1.0);
    /// *layer.bias = SVector::<f64, 2>::new(0.5, 0.0);
    /// let z = layer.forward(&SVector::<f64, 2>::new(3.0, 1.0));
    /// assert_eq!(z, SVector::<f64, 2>::new(5.5, -1.0));
    /// ```
    #[must_use]
    pub fn forward(&self, a: &SVector<T, IN>) -> SVector<T, OUT> {
        let mut z = self.bias.clone_owned();
        if Self::WIDE
            && kernel(
                self.weight.as_slice(),
                a.as_slice(),
                z.as_mut_slice(),
                simd::gemv_f32,
                simd::gemv_f64,
            )
        {
            return z;
        }
        z.gemv(T::one(), &*self.weight, a, T::one());
        z
    }

    /// `Z = W A + b 1ᵀ` for a batch, one sample per column.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::{Matrix1xX, Matrix2xX, SMatrix};
    ///
    /// let mut layer = Dense::<f64, 2, 1>::zeros();
    /// *layer.weight = SMatrix::<f64, 1, 2>::new(1.0, 10.0);
    /// layer.bias[0] = 0.5;
    /// // two samples, (1, 2) and (3, 4)
    /// let z = layer.forward_batch(&Matrix2xX::from_column_slice(&[1.0, 2.0, 3.0, 4.0]));
    /// assert_eq!(z, Matrix1xX::from_row_slice(&[21.5, 43.5]));
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn forward_batch(&self, a: &OMatrix<T, Const<IN>, Dyn>) -> OMatrix<T, Const<OUT>, Dyn> {
        let mut z = OMatrix::<T, Const<OUT>, Dyn>::zeros(a.ncols());
        self.forward_batch_into(a.as_slice(), z.as_mut_slice());
        z
    }

    /// [`forward_batch`](Self::forward_batch) on column-major slices,
    /// writing into `z`: `a` holds `IN × batch` values and `z`, whose
    /// previous contents are overwritten, `OUT × batch`. Nothing is
    /// allocated.
    ///
    /// # Panics
    ///
    /// If the lengths are not `IN × batch` and `OUT × batch` for one batch
    /// size.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::SMatrix;
    ///
    /// let mut layer = Dense::<f64, 2, 1>::zeros();
    /// *layer.weight = SMatrix::<f64, 1, 2>::new(1.0, 10.0);
    /// layer.bias[0] = 0.5;
    /// let mut z = [f64::NAN; 2];
    /// layer.forward_batch_into(&[1.0, 2.0, 3.0, 4.0], &mut z);
    /// assert_eq!(z, [21.5, 43.5]);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn forward_batch_into(&self, a: &[T], z: &mut [T]) {
        let batch = columns(a.len(), IN, z.len(), OUT);
        if OUT > 0 {
            for column in z.chunks_exact_mut(OUT) {
                column.copy_from_slice(self.bias.as_slice());
            }
        }
        gemm(
            (OUT, IN, batch),
            T::one(),
            Strided {
                data: self.weight.as_slice(),
                row_stride: 1,
                col_stride: OUT,
            },
            Strided {
                data: a,
                row_stride: 1,
                col_stride: IN,
            },
            T::one(),
            z,
        );
    }

    /// Adds the gradients of one sample to `gradients`: `∂L/∂W = δ aᵀ` and
    /// `∂L/∂b = δ`, where `δ = ∂L/∂z` is the layer's delta and `a` the input
    /// of the forward pass.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::{SMatrix, SVector};
    ///
    /// let mut grads = Dense::<f64, 2, 1>::zeros();
    /// let a = SVector::<f64, 2>::new(1.0, 2.0);
    /// Dense::accumulate_gradients(&a, &SVector::<f64, 1>::new(0.5), &mut grads);
    /// assert_eq!(*grads.weight, SMatrix::<f64, 1, 2>::new(0.5, 1.0));
    /// assert_eq!(grads.bias[0], 0.5);
    /// ```
    pub fn accumulate_gradients(a: &SVector<T, IN>, delta: &SVector<T, OUT>, gradients: &mut Self) {
        if !(Self::WIDE
            && kernel(
                delta.as_slice(),
                a.as_slice(),
                gradients.weight.as_mut_slice(),
                simd::ger_f32,
                simd::ger_f64,
            ))
        {
            gradients.weight.ger(T::one(), delta, a, T::one());
        }
        *gradients.bias += delta;
    }

    /// `∂L/∂a = Wᵀ δ`: the delta passed back to the layer's input.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::{SMatrix, SVector};
    ///
    /// let mut layer = Dense::<f64, 2, 1>::zeros();
    /// *layer.weight = SMatrix::<f64, 1, 2>::new(3.0, 4.0);
    /// let back = layer.backpropagate(&SVector::<f64, 1>::new(0.5));
    /// assert_eq!(back, SVector::<f64, 2>::new(1.5, 2.0));
    /// ```
    #[must_use]
    pub fn backpropagate(&self, delta: &SVector<T, OUT>) -> SVector<T, IN> {
        let mut back = SVector::<T, IN>::zeros();
        if Self::WIDE
            && kernel(
                self.weight.as_slice(),
                delta.as_slice(),
                back.as_mut_slice(),
                simd::gemv_t_f32,
                simd::gemv_t_f64,
            )
        {
            return back;
        }
        back.gemv_tr(T::one(), &*self.weight, delta, T::zero());
        back
    }

    /// [`accumulate_gradients`](Self::accumulate_gradients), then
    /// [`backpropagate`](Self::backpropagate).
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::{SMatrix, SVector};
    ///
    /// let mut layer = Dense::<f64, 2, 1>::zeros();
    /// *layer.weight = SMatrix::<f64, 1, 2>::new(3.0, 4.0);
    /// let mut grads = Dense::<f64, 2, 1>::zeros();
    /// let a = SVector::<f64, 2>::new(1.0, 2.0);
    /// let back = layer.backward(&a, &SVector::<f64, 1>::new(0.5), &mut grads);
    /// assert_eq!(back, SVector::<f64, 2>::new(1.5, 2.0));
    /// assert_eq!(*grads.weight, SMatrix::<f64, 1, 2>::new(0.5, 1.0));
    /// assert_eq!(grads.bias[0], 0.5);
    /// ```
    pub fn backward(
        &self,
        a: &SVector<T, IN>,
        delta: &SVector<T, OUT>,
        gradients: &mut Self,
    ) -> SVector<T, IN> {
        Self::accumulate_gradients(a, delta, gradients);
        self.backpropagate(delta)
    }

    /// Adds the gradients of a batch to `gradients`: `Δ Aᵀ` and the row sums
    /// of `Δ`, so sums over the columns. Pass deltas of the mean loss (each
    /// divided by the batch size, as
    /// [`Loss::delta_batch`](crate::loss::Loss::delta_batch) gives them) to
    /// accumulate the mean.
    ///
    /// # Panics
    ///
    /// If `a` and `delta` have different numbers of columns.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::{Matrix1xX, Matrix2xX, SMatrix};
    ///
    /// let mut grads = Dense::<f64, 2, 1>::zeros();
    /// let a = Matrix2xX::from_column_slice(&[1.0, 2.0, 3.0, 4.0]);
    /// let delta = Matrix1xX::from_row_slice(&[0.5, -1.0]);
    /// Dense::accumulate_batch_gradients(&a, &delta, &mut grads);
    /// // sums over the samples: 0.5 (1, 2) − 1 (3, 4), and 0.5 − 1
    /// assert_eq!(*grads.weight, SMatrix::<f64, 1, 2>::new(-2.5, -3.0));
    /// assert_eq!(grads.bias[0], -0.5);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn accumulate_batch_gradients(
        a: &OMatrix<T, Const<IN>, Dyn>,
        delta: &OMatrix<T, Const<OUT>, Dyn>,
        gradients: &mut Self,
    ) {
        assert_eq!(
            a.ncols(),
            delta.ncols(),
            "inputs and deltas differ in batch size"
        );
        Self::accumulate_batch_gradients_into(a.as_slice(), delta.as_slice(), gradients);
    }

    /// [`accumulate_batch_gradients`](Self::accumulate_batch_gradients) on
    /// column-major slices: `a` holds `IN × batch` values and `delta`
    /// `OUT × batch`. Nothing is allocated.
    ///
    /// # Panics
    ///
    /// If the lengths are not `IN × batch` and `OUT × batch` for one batch
    /// size.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::SMatrix;
    ///
    /// let mut grads = Dense::<f64, 2, 1>::zeros();
    /// Dense::accumulate_batch_gradients_into(&[1.0, 2.0, 3.0, 4.0], &[0.5, -1.0], &mut grads);
    /// assert_eq!(*grads.weight, SMatrix::<f64, 1, 2>::new(-2.5, -3.0));
    /// assert_eq!(grads.bias[0], -0.5);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn accumulate_batch_gradients_into(a: &[T], delta: &[T], gradients: &mut Self) {
        let batch = columns(a.len(), IN, delta.len(), OUT);
        // Aᵀ read in place through its strides: no transposed copy
        gemm(
            (OUT, batch, IN),
            T::one(),
            Strided {
                data: delta,
                row_stride: 1,
                col_stride: OUT,
            },
            Strided {
                data: a,
                row_stride: IN,
                col_stride: 1,
            },
            T::one(),
            gradients.weight.as_mut_slice(),
        );
        let bias = gradients.bias.as_mut_slice();
        for column in delta.chunks_exact(OUT.max(1)) {
            for (b, d) in bias.iter_mut().zip(column) {
                *b += *d;
            }
        }
    }

    /// `Wᵀ Δ` for a batch of deltas, one sample per column.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::{Matrix1xX, Matrix2xX, SMatrix};
    ///
    /// let mut layer = Dense::<f64, 2, 1>::zeros();
    /// *layer.weight = SMatrix::<f64, 1, 2>::new(3.0, 4.0);
    /// let back = layer.backpropagate_batch(&Matrix1xX::from_row_slice(&[1.0, -0.5]));
    /// assert_eq!(back, Matrix2xX::from_column_slice(&[3.0, 4.0, -1.5, -2.0]));
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn backpropagate_batch(
        &self,
        delta: &OMatrix<T, Const<OUT>, Dyn>,
    ) -> OMatrix<T, Const<IN>, Dyn> {
        let mut back = OMatrix::<T, Const<IN>, Dyn>::zeros(delta.ncols());
        self.backpropagate_batch_into(delta.as_slice(), back.as_mut_slice());
        back
    }

    /// [`backpropagate_batch`](Self::backpropagate_batch) on column-major
    /// slices, writing into `back`: `delta` holds `OUT × batch` values and
    /// `back`, whose previous contents are overwritten, `IN × batch`.
    /// Nothing is allocated.
    ///
    /// # Panics
    ///
    /// If the lengths are not `OUT × batch` and `IN × batch` for one batch
    /// size.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::SMatrix;
    ///
    /// let mut layer = Dense::<f64, 2, 1>::zeros();
    /// *layer.weight = SMatrix::<f64, 1, 2>::new(3.0, 4.0);
    /// let mut back = [f64::NAN; 4];
    /// layer.backpropagate_batch_into(&[1.0, -0.5], &mut back);
    /// assert_eq!(back, [3.0, 4.0, -1.5, -2.0]);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn backpropagate_batch_into(&self, delta: &[T], back: &mut [T]) {
        let batch = columns(back.len(), IN, delta.len(), OUT);
        // Wᵀ read in place through its strides
        gemm(
            (IN, OUT, batch),
            T::one(),
            Strided {
                data: self.weight.as_slice(),
                row_stride: OUT,
                col_stride: 1,
            },
            Strided {
                data: delta,
                row_stride: 1,
                col_stride: OUT,
            },
            T::zero(),
            back,
        );
    }

    /// [`accumulate_batch_gradients`](Self::accumulate_batch_gradients), then
    /// [`backpropagate_batch`](Self::backpropagate_batch).
    ///
    /// # Panics
    ///
    /// If `a` and `delta` have different numbers of columns.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::{Matrix1xX, Matrix2xX, SMatrix};
    ///
    /// let mut layer = Dense::<f64, 2, 1>::zeros();
    /// *layer.weight = SMatrix::<f64, 1, 2>::new(3.0, 4.0);
    /// let mut grads = Dense::<f64, 2, 1>::zeros();
    /// let a = Matrix2xX::from_column_slice(&[1.0, 2.0, 3.0, 4.0]);
    /// let back = layer.backward_batch(&a, &Matrix1xX::from_row_slice(&[1.0, -0.5]), &mut grads);
    /// assert_eq!(back, Matrix2xX::from_column_slice(&[3.0, 4.0, -1.5, -2.0]));
    /// // 1 · (1, 2) − 0.5 · (3, 4), and 1 − 0.5
    /// assert_eq!(*grads.weight, SMatrix::<f64, 1, 2>::new(-0.5, 0.0));
    /// assert_eq!(grads.bias[0], 0.5);
    /// ```
    #[cfg(feature = "alloc")]
    pub fn backward_batch(
        &self,
        a: &OMatrix<T, Const<IN>, Dyn>,
        delta: &OMatrix<T, Const<OUT>, Dyn>,
        gradients: &mut Self,
    ) -> OMatrix<T, Const<IN>, Dyn> {
        Self::accumulate_batch_gradients(a, delta, gradients);
        self.backpropagate_batch(delta)
    }

    /// Calls `f` with `layer.weight` and `layer.bias` and their values.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    ///
    /// let layer = Dense::<f32, 3, 2>::zeros();
    /// let mut seen = Vec::new();
    /// layer.for_each_parameter("hidden", |name, values| {
    ///     seen.push(format!("{name}: {}", values.len()))
    /// });
    /// assert_eq!(seen, ["hidden.weight: 6", "hidden.bias: 2"]);
    /// ```
    pub fn for_each_parameter<F: FnMut(ParamName, &[T])>(&self, layer: &'static str, mut f: F) {
        super::visit(layer, self.weight.as_slice(), self.bias.as_slice(), &mut f);
    }

    /// Calls `f` with `layer.weight` and `layer.bias` and their mutable
    /// values.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::SVector;
    ///
    /// let mut layer = Dense::<f64, 2, 1>::zeros();
    /// layer.for_each_parameter_mut("out", |name, values| {
    ///     values.fill(if name.tensor == "weight" { 2.0 } else { 1.0 })
    /// });
    /// // 2 · 1 + 2 · 3 + 1
    /// assert_eq!(layer.forward(&SVector::<f64, 2>::new(1.0, 3.0))[0], 9.0);
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
    /// use staticnet::layers::Dense;
    ///
    /// let mut layer = Dense::<f64, 2, 1>::zeros();
    /// let mut grads = Dense::<f64, 2, 1>::zeros();
    /// grads.bias[0] = 4.0;
    /// layer.for_each_parameter_and_gradient(&grads, "out", |_, theta, grad| {
    ///     theta.iter_mut().zip(grad).for_each(|(t, g)| *t -= 0.5 * g)
    /// });
    /// assert_eq!(layer.bias[0], -2.0);
    /// assert_eq!(layer.weight.sum(), 0.0);
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

/// Calls `for_f32` (or `for_f64`) on the three slices when `T` is `f32`
/// (or `f64`) and says whether it did; other scalars take nalgebra's
/// generic code.
#[inline(always)]
fn kernel<T: Scalar>(
    x: &[T],
    y: &[T],
    out: &mut [T],
    for_f32: fn(&[f32], &[f32], &mut [f32]),
    for_f64: fn(&[f64], &[f64], &mut [f64]),
) -> bool {
    use core::any::TypeId;
    let id = TypeId::of::<T>();
    if id == TypeId::of::<f32>() {
        // SAFETY: `T` is `f32` by its `TypeId`: the casts keep element
        // type, length and alignment, and the borrows are unchanged.
        unsafe {
            for_f32(
                core::slice::from_raw_parts(x.as_ptr().cast(), x.len()),
                core::slice::from_raw_parts(y.as_ptr().cast(), y.len()),
                core::slice::from_raw_parts_mut(out.as_mut_ptr().cast(), out.len()),
            );
        }
        true
    } else if id == TypeId::of::<f64>() {
        // SAFETY: as above, with `f64`.
        unsafe {
            for_f64(
                core::slice::from_raw_parts(x.as_ptr().cast(), x.len()),
                core::slice::from_raw_parts(y.as_ptr().cast(), y.len()),
                core::slice::from_raw_parts_mut(out.as_mut_ptr().cast(), out.len()),
            );
        }
        true
    } else {
        false
    }
}

/// The batch size of two column-major slices of `rows_a` and `rows_b` rows.
///
/// # Panics
///
/// If they do not hold the same whole number of columns.
#[cfg(feature = "alloc")]
fn columns(len_a: usize, rows_a: usize, len_b: usize, rows_b: usize) -> usize {
    let batch = len_a
        .checked_div(rows_a)
        .unwrap_or_else(|| len_b / rows_b.max(1));
    assert!(
        len_a == rows_a * batch && len_b == rows_b * batch,
        "batch slices of {len_a} and {len_b} values are not {rows_a} × batch and {rows_b} × batch"
    );
    batch
}

impl<T: Scalar, const IN: usize, const OUT: usize> Dense<T, IN, OUT, Inline> {
    /// A layer of the given weight (`OUT × IN`) and bias, kept inline. A
    /// `const fn`, so a layer of known weights can be a constant: networks
    /// declared with `#[weights = "..."]` are built with it.
    ///
    /// ```
    /// use staticnet::layers::Dense;
    /// use nalgebra::{ArrayStorage, SMatrix, SVector};
    ///
    /// // W = [1  −2], b = [0.5]; nalgebra's storage is column-major
    /// const LAYER: Dense<f64, 2, 1> = Dense::from_matrices(
    ///     SMatrix::from_array_storage(ArrayStorage([[1.0], [-2.0]])),
    ///     SVector::from_array_storage(ArrayStorage([[0.5]])),
    /// );
    /// assert_eq!(LAYER.forward(&SVector::from([3.0, 1.0]))[0], 1.5);
    /// ```
    #[must_use]
    pub const fn from_matrices(weight: SMatrix<T, OUT, IN>, bias: SVector<T, OUT>) -> Self {
        Self {
            weight: InlineMatrix(weight),
            bias: InlineMatrix(bias),
        }
    }
}

impl<T: Scalar, const IN: usize, const OUT: usize, S: Storage> Clone for Dense<T, IN, OUT, S> {
    fn clone(&self) -> Self {
        Self {
            weight: self.weight.clone(),
            bias: self.bias.clone(),
        }
    }
}

/// Inline layers are plain values.
impl<T: Scalar, const IN: usize, const OUT: usize> Copy for Dense<T, IN, OUT, Inline> {}

impl<T: Scalar, const IN: usize, const OUT: usize, S: Storage> PartialEq for Dense<T, IN, OUT, S> {
    fn eq(&self, other: &Self) -> bool {
        self.weight == other.weight && self.bias == other.bias
    }
}

impl<T: Scalar, const IN: usize, const OUT: usize, S: Storage> Default for Dense<T, IN, OUT, S> {
    fn default() -> Self {
        Self::zeros()
    }
}

impl<T: Scalar, const IN: usize, const OUT: usize, S: Storage> fmt::Debug for Dense<T, IN, OUT, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dense")
            .field("weight", &self.weight)
            .field("bias", &self.bias)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "alloc")]
    use crate::init::seeded_rng;
    #[cfg(feature = "alloc")]
    use crate::layers::Heap;
    use approx::assert_relative_eq;
    use nalgebra::SMatrix;

    fn layer() -> Dense<f64, 3, 2> {
        let mut l = Dense::<f64, 3, 2>::zeros();
        *l.weight = SMatrix::<f64, 2, 3>::new(1.0, 2.0, 3.0, -1.0, 0.5, 0.0);
        *l.bias = SVector::<f64, 2>::new(0.25, -0.5);
        l
    }

    #[test]
    fn forward_is_w_a_plus_b() {
        let z = layer().forward(&SVector::<f64, 3>::new(1.0, 1.0, 2.0));
        assert_eq!(
            z,
            SVector::<f64, 2>::new(1.0 + 2.0 + 6.0 + 0.25, -1.0 + 0.5 - 0.5)
        );
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn batch_forward_matches_columns() {
        let l = layer();
        let a = OMatrix::<f64, Const<3>, Dyn>::from_column_slice(&[
            1.0, 1.0, 2.0, 0.0, -1.0, 4.0, 3.0, 0.0, 0.5, 1.0, 2.0, 3.0, -2.0, 1.0, 1.0, 0.0, 0.0,
            7.0, 1.5, 2.5, 3.5,
        ]);
        let z = l.forward_batch(&a);
        for (j, column) in a.column_iter().enumerate() {
            assert_relative_eq!(
                z.column(j).into_owned(),
                l.forward(&column.into_owned()),
                epsilon = 1e-12
            );
        }
    }

    #[test]
    fn wide_layers_take_the_kernels_and_agree_with_nalgebra() {
        fn check<T: Scalar + Into<f64>>(tolerance: f64) {
            // 64 → 128: wide enough for the `simd` kernels with f32 and f64
            const { assert!(Dense::<T, 64, 128>::WIDE && !Dense::<T, 8, 32>::WIDE) };
            let mut layer = Dense::<T, 64, 128>::zeros();
            layer.initialize(
                Init::HeUniform,
                Init::Uniform {
                    low: -0.5,
                    high: 0.5,
                },
                &mut crate::init::seeded_rng(3),
            );
            let a =
                SVector::<T, 64>::from_fn(|i, _| crate::scalar::constant((i as f64 * 0.37).sin()));
            let delta =
                SVector::<T, 128>::from_fn(|i, _| crate::scalar::constant((i as f64 * 0.11).cos()));
            let close = |got: &[T], want: &[T], what: &str| {
                for (g, w) in got.iter().zip(want) {
                    let (g, w): (f64, f64) = ((*g).into(), (*w).into());
                    assert!(
                        (g - w).abs() <= tolerance * (1.0 + w.abs()),
                        "{what}: {g} against {w}"
                    );
                }
            };
            let want = *layer.weight * a + *layer.bias;
            close(layer.forward(&a).as_slice(), want.as_slice(), "forward");
            let want = layer.weight.transpose() * delta;
            close(
                layer.backpropagate(&delta).as_slice(),
                want.as_slice(),
                "backpropagate",
            );
            let mut grads = Dense::<T, 64, 128>::zeros();
            Dense::accumulate_gradients(&a, &delta, &mut grads);
            Dense::accumulate_gradients(&a, &delta, &mut grads);
            let want = (delta * a.transpose()) * crate::scalar::constant::<T>(2.0);
            close(
                grads.weight.as_slice(),
                want.as_slice(),
                "accumulate_gradients",
            );
        }
        check::<f32>(1e-5);
        check::<f64>(1e-13);
    }

    #[test]
    fn backward_gradients_match_finite_differences() {
        // L = c · z for a fixed c, so ∂L/∂z = c
        let l = layer();
        let a = SVector::<f64, 3>::new(0.3, -1.2, 2.0);
        let c = SVector::<f64, 2>::new(0.7, -1.3);
        let loss = |l: &Dense<f64, 3, 2>, a: &SVector<f64, 3>| c.dot(&l.forward(a));
        let mut grads = Dense::<f64, 3, 2>::zeros();
        let back = l.backward(&a, &c, &mut grads);
        let h = 1e-6;
        for i in 0..6 {
            let (mut plus, mut minus) = (l, l);
            plus.weight.as_mut_slice()[i] += h;
            minus.weight.as_mut_slice()[i] -= h;
            let fd = (loss(&plus, &a) - loss(&minus, &a)) / (2.0 * h);
            assert_relative_eq!(grads.weight.as_slice()[i], fd, epsilon = 1e-8);
        }
        assert_relative_eq!(*grads.bias, c);
        for i in 0..3 {
            let (mut plus, mut minus) = (a, a);
            plus[i] += h;
            minus[i] -= h;
            let fd = (loss(&l, &plus) - loss(&l, &minus)) / (2.0 * h);
            assert_relative_eq!(back[i], fd, epsilon = 1e-8);
        }
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn batch_backward_is_sum_of_single_backwards() {
        let l = layer();
        let a = OMatrix::<f64, Const<3>, Dyn>::from_fn(7, |i, j| {
            (i as f64 + 1.0) * 0.3 - j as f64 * 0.2
        });
        let d = OMatrix::<f64, Const<2>, Dyn>::from_fn(7, |i, j| {
            (i as f64 - 0.5) * (j as f64 + 1.0) * 0.1
        });
        let mut batch = Dense::<f64, 3, 2>::zeros();
        let back = l.backward_batch(&a, &d, &mut batch);
        let mut single = Dense::<f64, 3, 2>::zeros();
        for j in 0..7 {
            let b = l.backward(
                &a.column(j).into_owned(),
                &d.column(j).into_owned(),
                &mut single,
            );
            assert_relative_eq!(back.column(j).into_owned(), b, epsilon = 1e-12);
        }
        assert_relative_eq!(*batch.weight, *single.weight, epsilon = 1e-12);
        assert_relative_eq!(*batch.bias, *single.bias, epsilon = 1e-12);
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn heap_layer_computes_like_inline_layer() {
        // large enough for matrixmultiply's path in the batch passes
        let mut inline = Dense::<f32, 12, 9>::zeros();
        inline.initialize(Init::GlorotUniform, Init::Zeros, &mut seeded_rng(5));
        let mut heap = Dense::<f32, 12, 9, Heap>::zeros();
        heap.initialize(Init::GlorotUniform, Init::Zeros, &mut seeded_rng(5));
        assert_eq!(*inline.weight, *heap.weight);
        let a = OMatrix::<f32, Const<12>, Dyn>::from_fn(10, |i, j| (i * j) as f32 * 0.01 - 0.2);
        assert_eq!(inline.forward_batch(&a), heap.forward_batch(&a));
        let d = OMatrix::<f32, Const<9>, Dyn>::from_fn(10, |i, j| (i + 2 * j) as f32 * 0.01);
        let (mut gi, mut gh) = (
            Dense::<f32, 12, 9>::zeros(),
            Dense::<f32, 12, 9, Heap>::zeros(),
        );
        assert_eq!(
            inline.backward_batch(&a, &d, &mut gi),
            heap.backward_batch(&a, &d, &mut gh)
        );
        assert_eq!(*gi.weight, *gh.weight);
    }
}
