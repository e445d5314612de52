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
        for mut column in z.column_iter_mut() {
            column.copy_from(&*self.bias);
        }
        gemm(
            (OUT, IN, a.ncols()),
            T::one(),
            Strided {
                data: self.weight.as_slice(),
                row_stride: 1,
                col_stride: OUT,
            },
            Strided {
                data: a.as_slice(),
                row_stride: 1,
                col_stride: IN,
            },
            T::one(),
            z.as_mut_slice(),
        );
        z
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
        gradients.weight.ger(T::one(), delta, a, T::one());
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
        let batch = a.ncols();
        assert_eq!(
            batch,
            delta.ncols(),
            "inputs and deltas differ in batch size"
        );
        // Aᵀ read in place through its strides: no transposed copy
        gemm(
            (OUT, batch, IN),
            T::one(),
            Strided {
                data: delta.as_slice(),
                row_stride: 1,
                col_stride: OUT,
            },
            Strided {
                data: a.as_slice(),
                row_stride: IN,
                col_stride: 1,
            },
            T::one(),
            gradients.weight.as_mut_slice(),
        );
        for column in delta.column_iter() {
            *gradients.bias += column;
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
        let batch = delta.ncols();
        let mut back = OMatrix::<T, Const<IN>, Dyn>::zeros(batch);
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
                data: delta.as_slice(),
                row_stride: 1,
                col_stride: OUT,
            },
            T::zero(),
            back.as_mut_slice(),
        );
        back
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
