//! Activation functions, each with its derivative beside it.
//!
//! An activation maps a layer's pre-activation `z` to its activation
//! `a = f(z)`. Every activation works on one sample at a time (a slice of
//! the layer's width); the provided methods lift that to nalgebra vectors and
//! to batches (one sample per column).
//!
//! # Which scalars take which path
//!
//! - **`f32`** takes the branch-free kernels of [`fastmath`] (`exp`,
//!   `tanh`, the sigmoid and GELU), which the compiler vectorises: 4 lanes
//!   on the default x86-64 target, where the standard library's `tanhf`
//!   alone costs about 24 ns a call. Softplus takes the fast `exp` and the
//!   standard `ln_1p`. Their errors against the `f64` evaluation of the same
//!   function, in units of `max(1, |f(z)|)` for the value and of
//!   `max(1, |f'(z)|)` for the derivative, are at most:
//!
//!   | activation | value | derivative | measured (value, derivative) |
//!   |---|---|---|---|
//!   | [`Tanh`] | `1e-7` | `2e-7` | `7.6e-8`, `1.1e-7` |
//!   | [`Sigmoid`] | `1e-7` | `2e-7` | `8.9e-8`, `8.9e-8` |
//!   | [`Gelu`] | `2e-7` | `4e-7` | `1.5e-7`, `1.8e-7` |
//!   | [`Elu`] (`alpha ≤ 2`), [`Selu`] | `2e-7` | `2e-7` | `1.3e-7`, `1.2e-7` |
//!   | [`Softplus`] | `2e-7` | `2e-7` | `9.6e-8`, `8.9e-8` |
//!   | [`Softmax`] | `2e-7` absolute per probability | exact formula | `4.1e-8` |
//!
//!   measured over a grid of 400,001 points on `[-20, 20]`, 400,000 bit
//!   patterns of both signs from the tiny to the huge, and `±0`, `±∞` and
//!   NaN (the tests `f32_fast_paths_hold_their_bounds` and
//!   `f32_softmax_holds_its_bound`). NaN propagates wherever it does in
//!   `f64`. One deliberate difference: GELU of `-∞` is `-0`, its limit,
//!   where the `f64` formula gives `-∞ · 0 = NaN`. ReLU, leaky ReLU and
//!   the identity are exact.
//! - **`f64`** keeps the full accuracy of the standard library (or of
//!   `libm` without it): `tanh`, `exp`, `exp_m1`, `ln_1p`.
//! - **Any other scalar** (for example a dual number) takes the same
//!   generic code as `f64`, through its own [`nalgebra::RealField`]
//!   methods.

use core::fmt::{Debug, Display};

use nalgebra::SVector;
#[cfg(feature = "alloc")]
use nalgebra::{Const, Dyn, OMatrix};

use crate::Scalar;
use crate::fastmath;

/// `z` and `a` as `f32` slices when `T` is `f32`: the activations take
/// the vectorising kernels of [`fastmath`] for `f32` and the generic code
/// (the standard library's functions for `f64`, the scalar's own methods
/// otherwise) for every other scalar.
#[inline(always)]
fn as_f32<'a, T: Scalar>(z: &'a [T], a: &'a mut [T]) -> Option<(&'a [f32], &'a mut [f32])> {
    if core::any::TypeId::of::<T>() == core::any::TypeId::of::<f32>() {
        // SAFETY: `T` is `f32` by its `TypeId`, so both casts keep the
        // element type, length and alignment; the borrows are unchanged.
        unsafe {
            Some((
                core::slice::from_raw_parts(z.as_ptr().cast::<f32>(), z.len()),
                core::slice::from_raw_parts_mut(a.as_mut_ptr().cast::<f32>(), a.len()),
            ))
        }
    } else {
        None
    }
}

/// Which activation a type is; losses use it to fuse the canonical output
/// pairs and initializers use it to pick a default.
///
/// ```
/// use staticnet::activation::{Activation, ActivationKind, Relu, Softmax};
///
/// assert_eq!(Relu::KIND, ActivationKind::Relu);
/// assert_eq!(Softmax::KIND, ActivationKind::Softmax);
/// assert_ne!(Relu::KIND, Softmax::KIND);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActivationKind {
    /// `f(z) = z`
    Identity,
    /// `f(z) = max(z, 0)`
    Relu,
    /// `f(z) = z` for `z > 0`, `alpha z` otherwise
    LeakyRelu,
    /// `f(z) = z` for `z > 0`, `alpha (e^z - 1)` otherwise
    Elu,
    /// scaled ELU with the self-normalising constants
    Selu,
    /// Gaussian error linear unit (tanh approximation)
    Gelu,
    /// logistic sigmoid
    Sigmoid,
    /// hyperbolic tangent
    Tanh,
    /// `f(z) = ln(1 + e^z)`
    Softplus,
    /// softmax over the whole layer
    Softmax,
}

impl ActivationKind {
    /// Whether the activation belongs to the ReLU family, for which He
    /// initialization (variance `2 / fan_in`) is the default.
    ///
    /// ```
    /// use staticnet::activation::ActivationKind;
    ///
    /// assert!(ActivationKind::Relu.is_relu_family());
    /// assert!(!ActivationKind::Tanh.is_relu_family());
    /// ```
    #[must_use]
    pub const fn is_relu_family(self) -> bool {
        matches!(
            self,
            Self::Relu | Self::LeakyRelu | Self::Elu | Self::Selu | Self::Gelu
        )
    }
}

/// An activation function with its derivative.
///
/// Implementors provide [`forward`](Activation::forward) and
/// [`backward`](Activation::backward) for one sample; the other methods are
/// provided.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, Relu, Tanh};
///
/// fn describe<A: Activation>(activation: A, z: f64) -> String {
///     format!("{activation}({z}) = {}", activation.apply(&SVector::<f64, 1>::new(z))[0])
/// }
/// assert_eq!(describe(Relu, -2.0), "relu(-2) = 0");
/// assert_eq!(describe(Tanh, 0.0), "tanh(0) = 0");
/// ```
pub trait Activation: Copy + Debug + Display + PartialEq {
    /// Which activation this is.
    ///
    /// ```
    /// use staticnet::activation::{Activation, ActivationKind, Gelu, Sigmoid};
    ///
    /// assert_eq!(Sigmoid::KIND, ActivationKind::Sigmoid);
    /// assert!(Gelu::KIND.is_relu_family());
    /// ```
    const KIND: ActivationKind;

    /// Computes `a = f(z)` for one sample. `z` and `a` have the same length.
    ///
    /// ```
    /// use staticnet::activation::{Activation, Relu};
    ///
    /// let mut a = [0.0_f32; 3];
    /// Relu.forward(&[-1.0, 0.5, 2.0], &mut a);
    /// assert_eq!(a, [0.0, 0.5, 2.0]);
    /// ```
    fn forward<T: Scalar>(&self, z: &[T], a: &mut [T]);

    /// Turns `∂L/∂a` into `∂L/∂z` in place, for one sample, given the
    /// pre-activation `z` and the activation `a = f(z)` of the forward pass.
    ///
    /// For an elementwise activation this multiplies by `f'(z)`; for softmax
    /// it applies the full Jacobian: `g ← a ⊙ (g − (a · g))`.
    ///
    /// ```
    /// use staticnet::activation::{Activation, Sigmoid};
    ///
    /// let z = [0.0_f64];
    /// let mut a = [0.0];
    /// Sigmoid.forward(&z, &mut a);
    /// let mut grad = [2.0];
    /// Sigmoid.backward(&z, &a, &mut grad);
    /// assert_eq!(grad, [0.5]); // 2 · σ'(0) = 2 · ¼
    /// ```
    fn backward<T: Scalar>(&self, z: &[T], a: &[T], grad: &mut [T]);

    /// [`forward`](Self::forward) for a batch held column-major in slices,
    /// one sample of `rows` values per column. Nothing is allocated.
    ///
    /// ```
    /// use staticnet::activation::{Activation, Softmax};
    ///
    /// // two samples of two logits each
    /// let mut a = [0.0_f64; 4];
    /// Softmax.forward_columns(2, &[0.0, 0.0, 5.0, 5.0], &mut a);
    /// assert_eq!(a, [0.5; 4]);
    /// ```
    fn forward_columns<T: Scalar>(&self, rows: usize, z: &[T], a: &mut [T]) {
        if rows == 0 {
            // `chunks_exact(0)` would panic; there is nothing to compute.
            return;
        }
        for (z, a) in z.chunks_exact(rows).zip(a.chunks_exact_mut(rows)) {
            self.forward(z, a);
        }
    }

    /// [`backward`](Self::backward) for a batch held column-major in slices,
    /// one sample of `rows` values per column, in place on `grad`. Nothing
    /// is allocated.
    ///
    /// ```
    /// use staticnet::activation::{Activation, Relu};
    ///
    /// let z = [-1.0_f32, 2.0, 3.0, -4.0];
    /// let mut grad = [1.0; 4];
    /// Relu.backward_columns(2, &z, &[0.0, 2.0, 3.0, 0.0], &mut grad);
    /// assert_eq!(grad, [0.0, 1.0, 1.0, 0.0]);
    /// ```
    fn backward_columns<T: Scalar>(&self, rows: usize, z: &[T], a: &[T], grad: &mut [T]) {
        if rows == 0 {
            return;
        }
        for ((z, a), g) in z
            .chunks_exact(rows)
            .zip(a.chunks_exact(rows))
            .zip(grad.chunks_exact_mut(rows))
        {
            self.backward(z, a, g);
        }
    }

    /// `f(z)` for one sample as a vector.
    ///
    /// ```
    /// use nalgebra::SVector;
    /// use staticnet::activation::{Activation, LeakyRelu};
    ///
    /// let a = LeakyRelu::new(0.5).apply(&SVector::<f64, 2>::new(-4.0, 4.0));
    /// assert_eq!(a, SVector::<f64, 2>::new(-2.0, 4.0));
    /// ```
    #[must_use]
    fn apply<T: Scalar, const N: usize>(&self, z: &SVector<T, N>) -> SVector<T, N> {
        let mut a = SVector::<T, N>::zeros();
        self.forward(z.as_slice(), a.as_mut_slice());
        a
    }

    /// `f(z)` for a batch, one sample per column.
    ///
    /// ```
    /// use nalgebra::Matrix2xX;
    /// use staticnet::activation::{Activation, Softmax};
    ///
    /// // softmax runs over each column on its own
    /// let z = Matrix2xX::from_column_slice(&[0.0, 0.0, 5.0, 5.0]);
    /// assert_eq!(Softmax.apply_batch(&z), Matrix2xX::from_element(2, 0.5));
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    fn apply_batch<T: Scalar, const N: usize>(
        &self,
        z: &OMatrix<T, Const<N>, Dyn>,
    ) -> OMatrix<T, Const<N>, Dyn> {
        let mut a = OMatrix::<T, Const<N>, Dyn>::zeros(z.ncols());
        self.forward_columns(N, z.as_slice(), a.as_mut_slice());
        a
    }

    /// `∂L/∂z` from `∂L/∂a` for one sample.
    ///
    /// ```
    /// use nalgebra::SVector;
    /// use staticnet::activation::{Activation, Sigmoid};
    ///
    /// let z = SVector::<f64, 2>::zeros();
    /// let grad = Sigmoid.backprop(&z, &Sigmoid.apply(&z), &SVector::from([4.0, -8.0]));
    /// assert_eq!(grad, SVector::<f64, 2>::new(1.0, -2.0)); // σ'(0) = ¼
    /// ```
    #[must_use]
    fn backprop<T: Scalar, const N: usize>(
        &self,
        z: &SVector<T, N>,
        a: &SVector<T, N>,
        grad_a: &SVector<T, N>,
    ) -> SVector<T, N> {
        let mut grad = *grad_a;
        self.backward(z.as_slice(), a.as_slice(), grad.as_mut_slice());
        grad
    }

    /// `∂L/∂z` from `∂L/∂a` for a batch, in place, one sample per column.
    ///
    /// ```
    /// use nalgebra::Matrix2xX;
    /// use staticnet::activation::{Activation, Relu};
    ///
    /// let z = Matrix2xX::from_column_slice(&[-1.0, 2.0, 3.0, -4.0]);
    /// let a = Relu.apply_batch(&z);
    /// let mut grad = Matrix2xX::from_element(2, 1.0);
    /// Relu.backprop_batch(&z, &a, &mut grad);
    /// assert_eq!(grad, Matrix2xX::from_column_slice(&[0.0, 1.0, 1.0, 0.0]));
    /// ```
    #[cfg(feature = "alloc")]
    fn backprop_batch<T: Scalar, const N: usize>(
        &self,
        z: &OMatrix<T, Const<N>, Dyn>,
        a: &OMatrix<T, Const<N>, Dyn>,
        grad: &mut OMatrix<T, Const<N>, Dyn>,
    ) {
        self.backward_columns(N, z.as_slice(), a.as_slice(), grad.as_mut_slice());
    }
}

/// The logistic sigmoid `1 / (1 + e^-z)`, evaluated without overflow: for
/// `z < 0` it uses the equivalent `e^z / (1 + e^z)`, so `e^x` is only ever
/// taken of a non-positive `x`.
#[inline]
fn sigmoid<T: Scalar>(z: T) -> T {
    let one = T::one();
    if z >= T::zero() {
        one / (one + (-z).exp())
    } else {
        let e = z.exp();
        e / (one + e)
    }
}

/// `|x|` (spelled out because `Scalar` has two `abs` methods in scope).
#[inline]
fn abs<T: Scalar>(x: T) -> T {
    nalgebra::ComplexField::abs(x)
}

/// The identity `f(z) = z`, for regression outputs.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, Identity};
///
/// let z = SVector::<f64, 3>::new(-2.0, 0.0, 3.5);
/// assert_eq!(Identity.apply(&z), z);
/// assert_eq!(Identity.to_string(), "identity");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Identity;

impl Activation for Identity {
    const KIND: ActivationKind = ActivationKind::Identity;

    fn forward<T: Scalar>(&self, z: &[T], a: &mut [T]) {
        a.copy_from_slice(z);
    }

    fn backward<T: Scalar>(&self, _z: &[T], _a: &[T], _grad: &mut [T]) {}
}

impl Display for Identity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("identity")
    }
}

/// The rectified linear unit `f(z) = max(z, 0)`.
///
/// Its derivative is taken to be `0` at `z = 0`.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, Relu};
///
/// let z = SVector::<f64, 3>::new(-1.0, 0.0, 2.0);
/// assert_eq!(Relu.apply(&z), SVector::<f64, 3>::new(0.0, 0.0, 2.0));
/// let g = Relu.backprop(&z, &Relu.apply(&z), &SVector::repeat(1.0));
/// assert_eq!(g, SVector::<f64, 3>::new(0.0, 0.0, 1.0));
/// assert_eq!(Relu.to_string(), "relu");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Relu;

impl Activation for Relu {
    const KIND: ActivationKind = ActivationKind::Relu;

    fn forward<T: Scalar>(&self, z: &[T], a: &mut [T]) {
        let zero = T::zero();
        for (a, &z) in a.iter_mut().zip(z) {
            // `<=` rather than `>` so that a NaN input stays NaN.
            *a = if z <= zero { zero } else { z };
        }
    }

    fn backward<T: Scalar>(&self, z: &[T], _a: &[T], grad: &mut [T]) {
        let zero = T::zero();
        for (g, &z) in grad.iter_mut().zip(z) {
            if z <= zero {
                *g = zero;
            }
        }
    }
}

impl Display for Relu {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("relu")
    }
}

/// The leaky ReLU: `f(z) = z` for `z > 0`, `alpha z` otherwise.
///
/// Its derivative is `1` for `z > 0` and `alpha` for `z <= 0`.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, LeakyRelu};
///
/// let leaky = LeakyRelu::new(0.1);
/// let a = leaky.apply(&SVector::<f64, 2>::new(-2.0, 3.0));
/// assert!((a[0] - -0.2).abs() < 1e-15);
/// assert_eq!(a[1], 3.0);
/// assert_eq!(LeakyRelu::default().to_string(), "leaky_relu(0.01)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyRelu {
    /// The slope for `z <= 0`.
    pub alpha: f64,
}

impl LeakyRelu {
    /// A leaky ReLU with slope `alpha` for `z <= 0`.
    ///
    /// ```
    /// use staticnet::activation::{Activation, LeakyRelu};
    ///
    /// let mut a = [0.0_f64; 2];
    /// LeakyRelu::new(0.25).forward(&[-4.0, 4.0], &mut a);
    /// assert_eq!(a, [-1.0, 4.0]);
    /// assert_eq!(LeakyRelu::new(0.25).to_string(), "leaky_relu(0.25)");
    /// ```
    #[must_use]
    pub const fn new(alpha: f64) -> Self {
        Self { alpha }
    }
}

impl Default for LeakyRelu {
    /// The common default slope `alpha = 0.01`.
    fn default() -> Self {
        Self::new(0.01)
    }
}

impl Activation for LeakyRelu {
    const KIND: ActivationKind = ActivationKind::LeakyRelu;

    fn forward<T: Scalar>(&self, z: &[T], a: &mut [T]) {
        let alpha = crate::scalar::constant::<T>(self.alpha);
        let zero = T::zero();
        for (a, &z) in a.iter_mut().zip(z) {
            *a = if z > zero { z } else { alpha * z };
        }
    }

    fn backward<T: Scalar>(&self, z: &[T], _a: &[T], grad: &mut [T]) {
        let alpha = crate::scalar::constant::<T>(self.alpha);
        let zero = T::zero();
        for (g, &z) in grad.iter_mut().zip(z) {
            if z <= zero {
                *g *= alpha;
            }
        }
    }
}

impl Display for LeakyRelu {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "leaky_relu({})", self.alpha)
    }
}

/// The exponential linear unit: `f(z) = z` for `z > 0`, `alpha (e^z - 1)`
/// otherwise.
///
/// Its derivative is `1` for `z > 0` and `alpha e^z` otherwise. `e^z - 1` is
/// evaluated with `exp_m1`, which keeps full precision near `z = 0`.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, Elu};
///
/// let a = Elu::default().apply(&SVector::<f64, 2>::new(-1.0, 2.0));
/// assert!((a[0] - (-1.0_f64).exp_m1()).abs() < 1e-15);
/// assert_eq!(a[1], 2.0);
/// assert_eq!(Elu::default().to_string(), "elu(1)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu {
    /// The scale of the negative branch; `f(z) → -alpha` as `z → -∞`.
    pub alpha: f64,
}

impl Elu {
    /// An ELU whose negative branch is `alpha (e^z - 1)`.
    ///
    /// ```
    /// use nalgebra::SVector;
    /// use staticnet::activation::{Activation, Elu};
    ///
    /// let elu = Elu::new(2.0);
    /// // f(z) → −alpha as z → −∞
    /// let a = elu.apply(&SVector::<f64, 2>::new(-1000.0, 3.0));
    /// assert_eq!(a, SVector::<f64, 2>::new(-2.0, 3.0));
    /// assert_eq!(elu.to_string(), "elu(2)");
    /// ```
    #[must_use]
    pub const fn new(alpha: f64) -> Self {
        Self { alpha }
    }
}

impl Default for Elu {
    /// The usual `alpha = 1`.
    fn default() -> Self {
        Self::new(1.0)
    }
}

impl Activation for Elu {
    const KIND: ActivationKind = ActivationKind::Elu;

    fn forward<T: Scalar>(&self, z: &[T], a: &mut [T]) {
        if let Some((z, a)) = as_f32(z, a) {
            // `e^z - 1` from the fast `exp`: absolute error within
            // `2.0e-7 · alpha` (a NaN reaches the `exp` and stays NaN)
            let alpha = self.alpha as f32;
            for (a, &z) in a.iter_mut().zip(z) {
                let negative = if z > 0.0 { 0.0 } else { z };
                let e = alpha * (fastmath::exp_f32(negative) - 1.0);
                *a = if z > 0.0 { z } else { e };
            }
            return;
        }
        let alpha = crate::scalar::constant::<T>(self.alpha);
        let zero = T::zero();
        for (a, &z) in a.iter_mut().zip(z) {
            *a = if z > zero { z } else { alpha * z.exp_m1() };
        }
    }

    fn backward<T: Scalar>(&self, z: &[T], _a: &[T], grad: &mut [T]) {
        // `alpha e^z` from `z`, not `a + alpha` from `a`: the latter cancels
        // catastrophically for very negative `z`.
        if let Some((z, grad)) = as_f32(z, grad) {
            let alpha = self.alpha as f32;
            for (g, &z) in grad.iter_mut().zip(z) {
                let negative = if z > 0.0 { 0.0 } else { z };
                let e = alpha * fastmath::exp_f32(negative);
                *g *= if z <= 0.0 { e } else { 1.0 };
            }
            return;
        }
        let alpha = crate::scalar::constant::<T>(self.alpha);
        let zero = T::zero();
        for (g, &z) in grad.iter_mut().zip(z) {
            if z <= zero {
                *g *= alpha * z.exp();
            }
        }
    }
}

impl Display for Elu {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "elu({})", self.alpha)
    }
}

/// The scaled ELU `f(z) = λ z` for `z > 0`, `λ α (e^z - 1)` otherwise, with
/// the self-normalising constants [`Selu::LAMBDA`] and [`Selu::ALPHA`]
/// (Klambauer et al., 2017).
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, Selu};
///
/// let a = Selu.apply(&SVector::<f64, 2>::new(0.0, 1.0));
/// assert_eq!(a[0], 0.0);
/// assert!((a[1] - Selu::LAMBDA).abs() < 1e-15);
/// assert_eq!(Selu.to_string(), "selu");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Selu;

impl Selu {
    /// The scale `λ ≈ 1.0507`.
    ///
    /// ```
    /// use nalgebra::SVector;
    /// use staticnet::activation::{Activation, Selu};
    ///
    /// let a = Selu.apply(&SVector::<f64, 1>::new(2.0));
    /// assert_eq!(a[0], 2.0 * Selu::LAMBDA);
    /// ```
    pub const LAMBDA: f64 = 1.050_700_987_355_480_493_419_334_985_294_6;
    /// The negative-branch scale `α ≈ 1.6733`.
    ///
    /// ```
    /// use nalgebra::SVector;
    /// use staticnet::activation::{Activation, Selu};
    ///
    /// // f(z) → −λα as z → −∞
    /// let a = Selu.apply(&SVector::<f64, 1>::new(-1000.0));
    /// assert_eq!(a[0], -Selu::LAMBDA * Selu::ALPHA);
    /// ```
    pub const ALPHA: f64 = 1.673_263_242_354_377_284_817_042_991_671_7;
}

impl Activation for Selu {
    const KIND: ActivationKind = ActivationKind::Selu;

    fn forward<T: Scalar>(&self, z: &[T], a: &mut [T]) {
        if let Some((z, a)) = as_f32(z, a) {
            let lambda = Self::LAMBDA as f32;
            let lambda_alpha = (Self::LAMBDA * Self::ALPHA) as f32;
            for (a, &z) in a.iter_mut().zip(z) {
                let negative = if z > 0.0 { 0.0 } else { z };
                let e = lambda_alpha * (fastmath::exp_f32(negative) - 1.0);
                *a = if z > 0.0 { lambda * z } else { e };
            }
            return;
        }
        let lambda = crate::scalar::constant::<T>(Self::LAMBDA);
        let lambda_alpha = crate::scalar::constant::<T>(Self::LAMBDA * Self::ALPHA);
        let zero = T::zero();
        for (a, &z) in a.iter_mut().zip(z) {
            *a = if z > zero {
                lambda * z
            } else {
                lambda_alpha * z.exp_m1()
            };
        }
    }

    fn backward<T: Scalar>(&self, z: &[T], _a: &[T], grad: &mut [T]) {
        if let Some((z, grad)) = as_f32(z, grad) {
            let lambda = Self::LAMBDA as f32;
            let lambda_alpha = (Self::LAMBDA * Self::ALPHA) as f32;
            for (g, &z) in grad.iter_mut().zip(z) {
                let negative = if z > 0.0 { 0.0 } else { z };
                let e = lambda_alpha * fastmath::exp_f32(negative);
                *g *= if z > 0.0 { lambda } else { e };
            }
            return;
        }
        let lambda = crate::scalar::constant::<T>(Self::LAMBDA);
        let lambda_alpha = crate::scalar::constant::<T>(Self::LAMBDA * Self::ALPHA);
        let zero = T::zero();
        for (g, &z) in grad.iter_mut().zip(z) {
            *g *= if z > zero {
                lambda
            } else {
                lambda_alpha * z.exp()
            };
        }
    }
}

impl Display for Selu {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("selu")
    }
}

/// The Gaussian error linear unit in its tanh approximation,
/// `f(z) = ½ z (1 + tanh(√(2/π) (z + 0.044715 z³)))`, the same function as
/// PyTorch's `GELU(approximate="tanh")` (not the exact erf form).
///
/// It is evaluated through the identity `½ (1 + tanh u) = σ(2u)` as
/// `z σ(2u)` with a stable sigmoid, which keeps full relative precision for
/// negative `z`, where `1 + tanh u` would cancel.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, Gelu};
///
/// let a = Gelu.apply(&SVector::<f64, 3>::new(-1.0, 0.0, 1.0));
/// assert_eq!(a[1], 0.0);
/// assert!((a[2] - 0.841_191_990_607_477_6).abs() < 1e-12);
/// assert!((a[0] - -0.158_808_009_392_522_4).abs() < 1e-12);
/// assert_eq!(Gelu.to_string(), "gelu");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Gelu;

impl Gelu {
    /// The coefficient of `z³` inside the tanh.
    ///
    /// ```
    /// use nalgebra::SVector;
    /// use staticnet::activation::{Activation, Gelu};
    ///
    /// let z = 1.5_f64;
    /// let u = (2.0 / std::f64::consts::PI).sqrt() * (z + Gelu::CUBIC * z.powi(3));
    /// let a = Gelu.apply(&SVector::<f64, 1>::new(z));
    /// assert!((a[0] - 0.5 * z * (1.0 + u.tanh())).abs() < 1e-12);
    /// ```
    pub const CUBIC: f64 = 0.044_715;

    /// `√(2/π)`.
    const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;

    /// `2u = 2 √(2/π) (z + 0.044715 z³)`, the sigmoid's argument.
    #[inline]
    fn two_u<T: Scalar>(z: T) -> T {
        let c = crate::scalar::constant::<T>(2.0 * Self::SQRT_2_OVER_PI);
        let k = crate::scalar::constant::<T>(Self::CUBIC);
        c * (z + k * z * z * z)
    }
}

impl Activation for Gelu {
    const KIND: ActivationKind = ActivationKind::Gelu;

    fn forward<T: Scalar>(&self, z: &[T], a: &mut [T]) {
        if let Some((z, a)) = as_f32(z, a) {
            a.copy_from_slice(z);
            crate::simd::gelu_tanh_f32_in_place(a);
            return;
        }
        for (a, &z) in a.iter_mut().zip(z) {
            *a = z * sigmoid(Self::two_u(z));
        }
    }

    fn backward<T: Scalar>(&self, z: &[T], _a: &[T], grad: &mut [T]) {
        // f(z) = z s, s = σ(2u): f'(z) = s + z s (1 - s) · 2u'(z), with
        // 2u'(z) = 2 √(2/π) (1 + 3 · 0.044715 z²).
        if let Some((z, grad)) = as_f32(z, grad) {
            let c = (2.0 * Self::SQRT_2_OVER_PI) as f32;
            let k = Self::CUBIC as f32;
            let k3 = (3.0 * Self::CUBIC) as f32;
            for (g, &z) in grad.iter_mut().zip(z) {
                let two_u = c * (z + k * z * z * z);
                let s = fastmath::sigmoid_f32(two_u);
                let s_1ms = s * fastmath::sigmoid_f32(-two_u);
                let full = s + z * s_1ms * c * (1.0 + k3 * z * z);
                *g *= if s_1ms == 0.0 { s } else { full };
            }
            return;
        }
        let c = crate::scalar::constant::<T>(2.0 * Self::SQRT_2_OVER_PI);
        let k3 = crate::scalar::constant::<T>(3.0 * Self::CUBIC);
        let zero = T::zero();
        let one = T::one();
        for (g, &z) in grad.iter_mut().zip(z) {
            let two_u = Self::two_u(z);
            let s = sigmoid(two_u);
            let s_1ms = s * sigmoid(-two_u);
            // Saturated: skip the second term, whose `z²` may overflow.
            let derivative = if s_1ms == zero {
                s
            } else {
                s + z * s_1ms * c * (one + k3 * z * z)
            };
            *g *= derivative;
        }
    }
}

impl Display for Gelu {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("gelu")
    }
}

/// The logistic sigmoid `f(z) = 1 / (1 + e^-z)`, with derivative `a (1 - a)`.
///
/// Evaluated stably: `1 / (1 + e^-z)` for `z >= 0` and `e^z / (1 + e^z)` for
/// `z < 0`, so no exponential overflows.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, Sigmoid};
///
/// let a = Sigmoid.apply(&SVector::<f64, 3>::new(-1000.0, 0.0, 1000.0));
/// assert_eq!(a, SVector::<f64, 3>::new(0.0, 0.5, 1.0));
/// assert_eq!(Sigmoid.to_string(), "sigmoid");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Sigmoid;

impl Activation for Sigmoid {
    const KIND: ActivationKind = ActivationKind::Sigmoid;

    fn forward<T: Scalar>(&self, z: &[T], a: &mut [T]) {
        if let Some((z, a)) = as_f32(z, a) {
            a.copy_from_slice(z);
            crate::simd::sigmoid_f32_in_place(a);
            return;
        }
        for (a, &z) in a.iter_mut().zip(z) {
            *a = sigmoid(z);
        }
    }

    fn backward<T: Scalar>(&self, _z: &[T], a: &[T], grad: &mut [T]) {
        let one = T::one();
        for (g, &a) in grad.iter_mut().zip(a) {
            *g *= a * (one - a);
        }
    }
}

impl Display for Sigmoid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("sigmoid")
    }
}

/// The hyperbolic tangent `f(z) = tanh z`, with derivative `1 - a²`.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, Tanh};
///
/// let a = Tanh.apply(&SVector::<f64, 2>::new(0.0, 1.0));
/// assert_eq!(a[0], 0.0);
/// assert!((a[1] - 1.0_f64.tanh()).abs() < 1e-15);
/// assert_eq!(Tanh.to_string(), "tanh");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Tanh;

impl Activation for Tanh {
    const KIND: ActivationKind = ActivationKind::Tanh;

    fn forward<T: Scalar>(&self, z: &[T], a: &mut [T]) {
        if let Some((z, a)) = as_f32(z, a) {
            a.copy_from_slice(z);
            crate::simd::tanh_f32_in_place(a);
            return;
        }
        for (a, &z) in a.iter_mut().zip(z) {
            *a = z.tanh();
        }
    }

    fn backward<T: Scalar>(&self, _z: &[T], a: &[T], grad: &mut [T]) {
        let one = T::one();
        for (g, &a) in grad.iter_mut().zip(a) {
            *g *= one - a * a;
        }
    }
}

impl Display for Tanh {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("tanh")
    }
}

/// The softplus `f(z) = ln(1 + e^z)`, a smooth ReLU, with derivative `σ(z)`.
///
/// Evaluated stably as `max(z, 0) + ln_1p(e^-|z|)`.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, Softplus};
///
/// let a = Softplus.apply(&SVector::<f64, 3>::new(-1000.0, 0.0, 1000.0));
/// assert_eq!(a[0], 0.0);
/// assert!((a[1] - 2.0_f64.ln()).abs() < 1e-15);
/// assert_eq!(a[2], 1000.0);
/// assert_eq!(Softplus.to_string(), "softplus");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Softplus;

impl Activation for Softplus {
    const KIND: ActivationKind = ActivationKind::Softplus;

    fn forward<T: Scalar>(&self, z: &[T], a: &mut [T]) {
        if let Some((z, a)) = as_f32(z, a) {
            // the fast `exp`, then the standard library's `ln_1p`, whose
            // relative precision near 0 keeps the tail of the result
            for (a, &z) in a.iter_mut().zip(z) {
                *a = fastmath::exp_f32(-z.abs());
            }
            for (a, &z) in a.iter_mut().zip(z) {
                *a = z.max(0.0) + nalgebra::ComplexField::ln_1p(*a);
            }
            return;
        }
        let zero = T::zero();
        for (a, &z) in a.iter_mut().zip(z) {
            *a = z.max(zero) + (-abs(z)).exp().ln_1p();
        }
    }

    fn backward<T: Scalar>(&self, z: &[T], _a: &[T], grad: &mut [T]) {
        if let Some((z, grad)) = as_f32(z, grad) {
            for (g, &z) in grad.iter_mut().zip(z) {
                *g *= fastmath::sigmoid_f32(z);
            }
            return;
        }
        for (g, &z) in grad.iter_mut().zip(z) {
            *g *= sigmoid(z);
        }
    }
}

impl Display for Softplus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("softplus")
    }
}

/// The softmax over the whole layer, `a_i = e^{z_i} / Σ_j e^{z_j}`.
///
/// The maximum logit is subtracted before exponentiating, so large logits do
/// not overflow. The backward pass applies the full Jacobian in place:
/// with `s = Σ_i a_i g_i`, `g_i ← a_i (g_i − s)`.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, Softmax};
///
/// let a = Softmax.apply(&SVector::<f64, 3>::new(1000.0, 1000.0, 1000.0));
/// assert!((a.sum() - 1.0).abs() < 1e-15);
/// assert!((a[0] - 1.0 / 3.0).abs() < 1e-15);
/// assert_eq!(Softmax.to_string(), "softmax");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Softmax;

impl Activation for Softmax {
    const KIND: ActivationKind = ActivationKind::Softmax;

    fn forward<T: Scalar>(&self, z: &[T], a: &mut [T]) {
        if let Some((z, a)) = as_f32(z, a) {
            // the `f32` path: the fast `exp` over the whole row, then a sum
            let Some((&first, rest)) = z.split_first() else {
                return;
            };
            let max = rest.iter().fold(first, |m, &z| m.max(z));
            for (a, &z) in a.iter_mut().zip(z) {
                *a = z - max;
            }
            crate::simd::exp_f32_in_place(a);
            let inv = 1.0 / a.iter().sum::<f32>();
            for a in a.iter_mut() {
                *a *= inv;
            }
            return;
        }
        let Some((&first, rest)) = z.split_first() else {
            return;
        };
        let max = rest.iter().fold(first, |m, &z| m.max(z));
        let mut sum = T::zero();
        for (a, &z) in a.iter_mut().zip(z) {
            *a = (z - max).exp();
            sum += *a;
        }
        let inv = T::one() / sum;
        for a in a.iter_mut() {
            *a *= inv;
        }
    }

    fn backward<T: Scalar>(&self, _z: &[T], a: &[T], grad: &mut [T]) {
        let s = a
            .iter()
            .zip(grad.iter())
            .fold(T::zero(), |s, (&a, &g)| s + a * g);
        for (g, &a) in grad.iter_mut().zip(a) {
            *g = a * (*g - s);
        }
    }
}

impl Display for Softmax {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("softmax")
    }
}

#[cfg(test)]
mod tests {
    use approx::{assert_abs_diff_eq, assert_relative_eq};
    #[cfg(feature = "alloc")]
    use nalgebra::Matrix3xX;
    use nalgebra::{SVector, Vector3};

    use super::*;

    /// Finite-difference step.
    const H: f64 = 1e-6;
    /// Relative tolerance of derivatives against central differences.
    const FD_TOL: f64 = 1e-7;
    /// Relative tolerance of forward values against hand-computed values
    /// (reference values computed in double precision with Python's `math`).
    const VALUE_TOL: f64 = 1e-14;

    fn forward_vec<A: Activation>(act: &A, z: &[f64]) -> Vec<f64> {
        let mut a = vec![f64::NAN; z.len()];
        act.forward(z, &mut a);
        a
    }

    fn forward_one<A: Activation>(act: &A, z: f64) -> f64 {
        forward_vec(act, &[z])[0]
    }

    /// Checks `f(z)` against `(z, f(z))` pairs.
    fn check_values<A: Activation>(act: &A, expected: &[(f64, f64)]) {
        let z: Vec<f64> = expected.iter().map(|&(z, _)| z).collect();
        let a = forward_vec(act, &z);
        for (&(z, want), &got) in expected.iter().zip(&a) {
            assert_relative_eq!(got, want, max_relative = VALUE_TOL, epsilon = 1e-300);
            // The scalar path (one-element slice) agrees with the vector path.
            assert_eq!(forward_one(act, z).to_bits(), got.to_bits(), "{act} at {z}");
        }
    }

    /// Checks `backward` of an elementwise activation against central
    /// differences: the incoming gradient `g_i` must become `g_i f'(z_i)`.
    fn check_elementwise_backward<A: Activation>(act: &A, points: &[f64]) {
        let a = forward_vec(act, points);
        let incoming: Vec<f64> = (0..points.len()).map(|i| 0.5 + 0.25 * i as f64).collect();
        let mut grad = incoming.clone();
        act.backward(points, &a, &mut grad);
        for ((&z, &g), &got) in points.iter().zip(&incoming).zip(&grad) {
            let (zp, zm) = (z + H, z - H);
            let fd = (forward_one(act, zp) - forward_one(act, zm)) / (zp - zm);
            assert_relative_eq!(got, g * fd, max_relative = FD_TOL);
        }
    }

    #[test]
    fn display_spellings() {
        assert_eq!(Identity.to_string(), "identity");
        assert_eq!(Relu.to_string(), "relu");
        assert_eq!(LeakyRelu::default().to_string(), "leaky_relu(0.01)");
        assert_eq!(LeakyRelu::new(0.2).to_string(), "leaky_relu(0.2)");
        assert_eq!(Elu::default().to_string(), "elu(1)");
        assert_eq!(Elu::new(0.5).to_string(), "elu(0.5)");
        assert_eq!(Selu.to_string(), "selu");
        assert_eq!(Gelu.to_string(), "gelu");
        assert_eq!(Sigmoid.to_string(), "sigmoid");
        assert_eq!(Tanh.to_string(), "tanh");
        assert_eq!(Softplus.to_string(), "softplus");
        assert_eq!(Softmax.to_string(), "softmax");
    }

    #[test]
    fn kinds_and_defaults() {
        assert_eq!(Identity::KIND, ActivationKind::Identity);
        assert_eq!(Relu::KIND, ActivationKind::Relu);
        assert_eq!(LeakyRelu::KIND, ActivationKind::LeakyRelu);
        assert_eq!(Elu::KIND, ActivationKind::Elu);
        assert_eq!(Selu::KIND, ActivationKind::Selu);
        assert_eq!(Gelu::KIND, ActivationKind::Gelu);
        assert_eq!(Sigmoid::KIND, ActivationKind::Sigmoid);
        assert_eq!(Tanh::KIND, ActivationKind::Tanh);
        assert_eq!(Softplus::KIND, ActivationKind::Softplus);
        assert_eq!(Softmax::KIND, ActivationKind::Softmax);
        const LEAKY: LeakyRelu = LeakyRelu::new(0.3);
        const ELU: Elu = Elu::new(2.0);
        assert_eq!(LEAKY.alpha, 0.3);
        assert_eq!(ELU.alpha, 2.0);
        assert_eq!(LeakyRelu::default(), LeakyRelu { alpha: 0.01 });
        assert_eq!(Elu::default(), Elu { alpha: 1.0 });
    }

    #[test]
    fn identity() {
        check_values(&Identity, &[(-3.0, -3.0), (0.0, 0.0), (1e300, 1e300)]);
        check_elementwise_backward(&Identity, &[-3.0, 0.0, 2.5]);
    }

    #[test]
    fn relu() {
        check_values(
            &Relu,
            &[
                (-3.0, 0.0),
                (0.0, 0.0),
                (0.5, 0.5),
                (-1e300, 0.0),
                (1e300, 1e300),
            ],
        );
        check_elementwise_backward(&Relu, &[-3.0, -0.5, 0.5, 2.0]);
        // The derivative at the kink is 0.
        let mut g = [1.0];
        Relu.backward(&[0.0], &[0.0], &mut g);
        assert_eq!(g, [0.0]);
        assert!(forward_one(&Relu, f64::NAN).is_nan());
    }

    #[test]
    fn leaky_relu() {
        let leaky = LeakyRelu::new(0.1);
        check_values(
            &leaky,
            &[(-3.0, -0.1 * 3.0), (0.0, 0.0), (0.5, 0.5), (-1e300, -1e299)],
        );
        check_values(&LeakyRelu::default(), &[(-2.0, -0.02), (2.0, 2.0)]);
        check_elementwise_backward(&leaky, &[-3.0, -0.5, 0.5, 2.0]);
        // The derivative at the kink is alpha.
        let mut g = [2.0];
        leaky.backward(&[0.0], &[0.0], &mut g);
        assert_eq!(g, [0.2]);
    }

    #[test]
    fn elu() {
        check_values(
            &Elu::default(),
            &[
                (-3.0, -0.950_212_931_632_136),
                (-0.5, -0.393_469_340_287_366_6),
                (0.0, 0.0),
                (0.5, 0.5),
                (2.0, 2.0),
                (-1000.0, -1.0),
            ],
        );
        check_values(
            &Elu::new(0.5),
            &[(-3.0, -0.475_106_465_816_068), (2.0, 2.0)],
        );
        check_elementwise_backward(&Elu::default(), &[-3.0, -0.5, 0.5, 2.0]);
        check_elementwise_backward(&Elu::new(0.5), &[-3.0, -0.5, 0.5, 2.0]);
        // The derivative at the kink is alpha e^0 = alpha, and vanishes far out.
        let mut g = [1.0, 1.0];
        Elu::new(0.5).backward(&[0.0, -1000.0], &[0.0, -0.5], &mut g);
        assert_eq!(g, [0.5, 0.0]);
    }

    #[test]
    fn selu() {
        check_values(
            &Selu,
            &[
                (-3.0, -1.670_568_728_767_111_8),
                (-0.5, -0.691_758_187_802_871_3),
                (0.0, 0.0),
                (0.5, 0.525_350_493_677_740_2),
                (2.0, 2.101_401_974_710_961),
                (-1000.0, -1.758_099_340_847_376_6),
            ],
        );
        check_elementwise_backward(&Selu, &[-3.0, -0.5, 0.5, 2.0]);
    }

    #[test]
    fn gelu() {
        check_values(
            &Gelu,
            &[
                (-3.0, -0.003_637_392_081_772_994_3),
                (-0.5, -0.154_285_990_174_856_06),
                (0.0, 0.0),
                (0.5, 0.345_714_009_825_143_94),
                (2.0, 1.954_597_694_087_775),
                (1e200, 1e200),
                (-1e200, 0.0),
            ],
        );
        check_elementwise_backward(&Gelu, &[-3.0, -1.2, -0.5, 0.0, 0.5, 2.0, 3.0]);
        // Saturated derivatives are exact and finite even where z³ overflows.
        let z = [1e200, -1e200, 50.0, -50.0];
        let a = forward_vec(&Gelu, &z);
        let mut g = [1.0; 4];
        Gelu.backward(&z, &a, &mut g);
        assert_eq!(g, [1.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn sigmoid() {
        check_values(
            &Sigmoid,
            &[
                (-3.0, 0.047_425_873_177_566_78),
                (-0.5, 0.377_540_668_798_145_4),
                (0.0, 0.5),
                (0.5, 0.622_459_331_201_854_6),
                (2.0, 0.880_797_077_977_882_3),
                (1000.0, 1.0),
                (-1000.0, 0.0),
            ],
        );
        // Deep in the left tail it keeps full relative precision.
        assert_relative_eq!(
            forward_one(&Sigmoid, -700.0),
            (-700.0_f64).exp(),
            max_relative = 1e-14
        );
        check_elementwise_backward(&Sigmoid, &[-3.0, -0.5, 0.0, 0.5, 2.0, 4.0]);
        let z = [1000.0, -1000.0];
        let a = forward_vec(&Sigmoid, &z);
        let mut g = [1.0; 2];
        Sigmoid.backward(&z, &a, &mut g);
        assert_eq!(g, [0.0, 0.0]);
    }

    #[test]
    fn tanh() {
        check_values(
            &Tanh,
            &[
                (-3.0, -0.995_054_753_686_730_5),
                (-0.5, -0.462_117_157_260_009_74),
                (0.0, 0.0),
                (0.5, 0.462_117_157_260_009_74),
                (2.0, 0.964_027_580_075_816_9),
                (1000.0, 1.0),
                (-1000.0, -1.0),
            ],
        );
        check_elementwise_backward(&Tanh, &[-3.0, -0.5, 0.0, 0.5, 2.0]);
    }

    #[test]
    fn softplus() {
        check_values(
            &Softplus,
            &[
                (-3.0, 0.048_587_351_573_742_06),
                (-0.5, 0.474_076_984_180_106_7),
                (0.0, core::f64::consts::LN_2),
                (0.5, 0.974_076_984_180_106_7),
                (2.0, 2.126_928_011_042_972_7),
                (1000.0, 1000.0),
                (-1000.0, 0.0),
            ],
        );
        // ln(1 + e^z) ≈ e^z in the left tail, with full relative precision.
        assert_relative_eq!(
            forward_one(&Softplus, -700.0),
            (-700.0_f64).exp(),
            max_relative = 1e-14
        );
        check_elementwise_backward(&Softplus, &[-4.0, -0.5, 0.0, 0.5, 2.0, 4.0]);
        let z = [1000.0, -1000.0];
        let a = forward_vec(&Softplus, &z);
        let mut g = [1.0; 2];
        Softplus.backward(&z, &a, &mut g);
        assert_eq!(g, [1.0, 0.0]);
    }

    #[test]
    fn softmax_values() {
        let expected = [
            0.090_030_573_170_380_46,
            0.244_728_471_054_797_64,
            0.665_240_955_774_821_9,
        ];
        for shift in [0.0, 1000.0, -1000.0, 1e5] {
            let a = forward_vec(&Softmax, &[shift, shift + 1.0, shift + 2.0]);
            for (&got, &want) in a.iter().zip(&expected) {
                assert_relative_eq!(got, want, max_relative = 1e-13);
            }
        }
        let a = forward_vec(&Softmax, &[-1.0, 0.5, 2.0, -3.0]);
        let expected = [
            0.038_906_628_379_643_19,
            0.174_367_411_172_751_67,
            0.781_460_520_876_064_4,
            0.005_265_439_571_540_645,
        ];
        for (&got, &want) in a.iter().zip(&expected) {
            assert_relative_eq!(got, want, max_relative = 1e-14);
        }
        assert_eq!(
            forward_vec(&Softmax, &[1000.0, 0.0, -1000.0]),
            [1.0, 0.0, 0.0]
        );
        assert_eq!(forward_vec(&Softmax, &[7.0]), [1.0]);
        assert!(forward_vec(&Softmax, &[]).is_empty());
    }

    #[test]
    fn softmax_backward_is_jacobian_transpose() {
        let z = [-1.0, 0.5, 2.0, -3.0, 0.25];
        let g = [0.3, -1.2, 0.7, 2.0, -0.4];
        let n = z.len();
        let a = forward_vec(&Softmax, &z);
        let mut got = g;
        Softmax.backward(&z, &a, &mut got);
        // (Jᵀ g)_j = Σ_i g_i ∂a_i/∂z_j, with column j of J by central differences.
        for j in 0..n {
            let (mut zp, mut zm) = (z, z);
            zp[j] += H;
            zm[j] -= H;
            let (ap, am) = (forward_vec(&Softmax, &zp), forward_vec(&Softmax, &zm));
            let step = zp[j] - zm[j];
            let jt_g: f64 = (0..n).map(|i| g[i] * (ap[i] - am[i]) / step).sum();
            assert_relative_eq!(got[j], jt_g, max_relative = FD_TOL);
        }
        // A gradient along the all-ones direction is annihilated (Σ a = 1).
        let mut ones = [2.5; 5];
        Softmax.backward(&z, &a, &mut ones);
        for &o in &ones {
            assert_abs_diff_eq!(o, 0.0, epsilon = 1e-15);
        }
    }

    #[test]
    fn large_magnitudes_stay_finite() {
        fn check<A: Activation>(act: A) {
            let z = [1000.0, -1000.0, 1e30, -1e30, 0.0];
            let a = forward_vec(&act, &z);
            let mut g = [1.0; 5];
            act.backward(&z, &a, &mut g);
            assert!(
                a.iter().chain(&g).all(|x| x.is_finite()),
                "{act}: {a:?} {g:?}"
            );
        }
        check(Identity);
        check(Relu);
        check(LeakyRelu::default());
        check(Elu::default());
        check(Selu);
        check(Gelu);
        check(Sigmoid);
        check(Tanh);
        check(Softplus);
        check(Softmax);
    }

    #[test]
    fn vector_and_batch_helpers() {
        let z = Vector3::new(-1.0, 0.5, 2.0);
        let a = Tanh.apply(&z);
        assert_eq!(a, z.map(f64::tanh));
        let grad_a = Vector3::new(1.0, -2.0, 0.5);
        let grad_z = Tanh.backprop(&z, &a, &grad_a);
        assert_eq!(grad_z, grad_a.component_mul(&a.map(|a| 1.0 - a * a)));

        #[cfg(feature = "alloc")]
        {
            let zb = Matrix3xX::from_columns(&[z, -z, 2.0 * z]);
            let ab = Softmax.apply_batch(&zb);
            let mut gb = Matrix3xX::from_columns(&[grad_a, 2.0 * grad_a, -grad_a]);
            let gb0 = gb.clone();
            Softmax.backprop_batch(&zb, &ab, &mut gb);
            for j in 0..3 {
                let zj: Vector3<f64> = zb.column(j).into();
                let aj = Softmax.apply(&zj);
                assert_eq!(ab.column(j), aj);
                assert_eq!(
                    gb.column(j),
                    Softmax.backprop(&zj, &aj, &gb0.column(j).into())
                );
            }

            // Width zero and batch size zero are no-ops, not panics.
            let empty = OMatrix::<f64, Const<0>, Dyn>::zeros(3);
            let mut g = empty.clone();
            assert_eq!(Relu.apply_batch(&empty).ncols(), 3);
            Relu.backprop_batch(&empty, &empty, &mut g);
            assert_eq!(Relu.apply_batch(&Matrix3xX::<f64>::zeros(0)).ncols(), 0);
        }
        assert_eq!(Softmax.apply(&SVector::<f64, 0>::zeros()).len(), 0);
    }

    #[test]
    fn f32_smoke() {
        fn check<A: Activation>(act: A) {
            let z64 = [-2.0, -0.5, 0.0, 0.5, 2.0, 100.0, -100.0];
            let z32 = z64.map(|z| z as f32);
            let a64 = forward_vec(&act, &z64);
            let mut a32 = [0.0_f32; 7];
            act.forward(&z32, &mut a32);
            let mut g32 = [1.0_f32; 7];
            act.backward(&z32, &a32, &mut g32);
            let mut g64 = [1.0_f64; 7];
            act.backward(&z64, &a64, &mut g64);
            for i in 0..7 {
                assert_relative_eq!(
                    f64::from(a32[i]),
                    a64[i],
                    max_relative = 1e-6,
                    epsilon = 1e-30
                );
                assert_relative_eq!(
                    f64::from(g32[i]),
                    g64[i],
                    max_relative = 1e-5,
                    epsilon = 1e-30
                );
            }
        }
        check(Identity);
        check(Relu);
        check(LeakyRelu::default());
        check(Elu::default());
        check(Selu);
        check(Gelu);
        check(Sigmoid);
        check(Tanh);
        check(Softplus);
        check(Softmax);
    }

    /// The `f32` inputs of the accuracy tests: a uniform grid of 400,001
    /// points on `[-20, 20]`, 200,000 evenly spaced bit patterns of each
    /// sign (reaching the tiny and the huge magnitudes) and the edges.
    fn f32_inputs() -> Vec<f32> {
        let mut z: Vec<f32> = (0..=400_000)
            .map(|i| -20.0 + 40.0 * (i as f32) / 400_000.0)
            .collect();
        for i in 0..200_000_u32 {
            let bits = i * (0x7f80_0000 / 200_000);
            z.push(f32::from_bits(bits));
            z.push(-f32::from_bits(bits));
        }
        z.extend([
            0.0,
            -0.0,
            1e30,
            -1e30,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ]);
        z
    }

    /// The largest error of the `f32` path against the `f64` path over
    /// [`f32_inputs`], in units of `max(1, |reference|)`, forward and
    /// backward (the latter with `∂L/∂a = 1`); also checks that NaN appears
    /// exactly where the `f64` path has it and that infinities agree.
    fn f32_errors<A: Activation>(act: A) -> (f64, f64) {
        let z32 = f32_inputs();
        let z64: Vec<f64> = z32.iter().map(|&z| f64::from(z)).collect();
        let mut a32 = vec![0.0_f32; z32.len()];
        act.forward(&z32, &mut a32);
        let a64 = forward_vec(&act, &z64);
        let mut g32 = vec![1.0_f32; z32.len()];
        act.backward(&z32, &a32, &mut g32);
        let mut g64 = vec![1.0_f64; z32.len()];
        act.backward(&z64, &a64, &mut g64);
        let error = |got: &[f32], want: &[f64], what: &str| {
            let mut worst = 0.0_f64;
            for ((&g, &w), &z) in got.iter().zip(want).zip(&z32) {
                let g = f64::from(g);
                // NaN where the f64 path has it, except where the f64 formula
                // is `∞ · 0` and the fast kernel gives the limit (GELU at -∞)
                if z.is_finite() || z.is_nan() {
                    assert_eq!(
                        g.is_nan(),
                        w.is_nan(),
                        "{act} {what} at {z}: {g} against {w}"
                    );
                }
                // the reference rounded to f32 may overflow where f64 does not
                let w32 = f64::from(w as f32);
                if w.is_nan() {
                    continue;
                }
                if w32.is_infinite() {
                    assert!(
                        g == w32 || (g - w).abs() <= 1e-7 * w.abs(),
                        "{act} {what} at {z}: {g} against {w}"
                    );
                    continue;
                }
                let e = (g - w).abs() / w.abs().max(1.0);
                if e > worst {
                    worst = e;
                }
            }
            worst
        };
        (error(&a32, &a64, "forward"), error(&g32, &g64, "backward"))
    }

    #[test]
    fn f32_fast_paths_hold_their_bounds() {
        // (activation, forward bound, backward bound), in units of
        // max(1, |f64 value|), as the activations' documentation states them
        type Errors<'a> = &'a dyn Fn() -> (f64, f64);
        let cases: [(Errors<'_>, &str, f64, f64); 8] = [
            (&|| f32_errors(Tanh), "tanh", 1.0e-7, 2.0e-7),
            (&|| f32_errors(Sigmoid), "sigmoid", 1.0e-7, 2.0e-7),
            (&|| f32_errors(Gelu), "gelu", 2.0e-7, 4.0e-7),
            (&|| f32_errors(Elu::default()), "elu", 2.0e-7, 2.0e-7),
            (&|| f32_errors(Elu::new(2.0)), "elu(2)", 2.0e-7, 2.0e-7),
            (&|| f32_errors(Selu), "selu", 2.0e-7, 2.0e-7),
            (&|| f32_errors(Softplus), "softplus", 2.0e-7, 2.0e-7),
            (&|| f32_errors(Relu), "relu", 0.0, 0.0),
        ];
        for (errors, name, forward, backward) in cases {
            let (f, b) = errors();
            println!("{name}: forward {f:.3e}, backward {b:.3e}");
            assert!(f <= forward, "{name}: forward error {f:e} over {forward:e}");
            assert!(
                b <= backward,
                "{name}: backward error {b:e} over {backward:e}"
            );
        }
    }

    #[test]
    fn f32_softmax_holds_its_bound() {
        // rows of 10 logits from the test inputs: every probability within
        // 2e-7 of the f64 softmax of the same logits, NaN where it has NaN
        let z = f32_inputs();
        let mut worst = 0.0_f64;
        for row in z.chunks_exact(10) {
            let mut a32 = [0.0_f32; 10];
            Softmax.forward(row, &mut a32);
            let row64: Vec<f64> = row.iter().map(|&z| f64::from(z)).collect();
            let a64 = forward_vec(&Softmax, &row64);
            for (&g, &w) in a32.iter().zip(&a64) {
                assert_eq!(f64::from(g).is_nan(), w.is_nan(), "{row:?}");
                if !w.is_nan() {
                    worst = worst.max((f64::from(g) - w).abs());
                }
            }
        }
        println!("softmax: {worst:.3e}");
        assert!(worst <= 2.0e-7, "softmax error {worst:e}");
        let mut a = [0.0_f32; 3];
        Softmax.forward(&[1.0, f32::NAN, 0.0], &mut a);
        assert!(a.iter().all(|a| a.is_nan()));
    }

    #[test]
    #[cfg(feature = "std")]
    fn f64_keeps_the_standard_library() {
        // the generic path is the standard library's functions, bit for bit
        // (libm's without std)
        let z: Vec<f64> = (-400..=400).map(|i| f64::from(i) * 0.05).collect();
        let a = forward_vec(&Tanh, &z);
        for (a, z) in a.iter().zip(&z) {
            assert_eq!(a.to_bits(), z.tanh().to_bits());
        }
        let a = forward_vec(&Elu::default(), &z);
        for (a, z) in a.iter().zip(&z) {
            let want = if *z > 0.0 { *z } else { z.exp_m1() };
            assert_eq!(a.to_bits(), want.to_bits());
        }
    }
}
