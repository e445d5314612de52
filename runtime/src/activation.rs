//! Activation functions, each with its derivative beside it.
//!
//! An activation maps a layer's pre-activation `z` to its activation
//! `a = f(z)`. Every activation works on one sample at a time (a slice of
//! the layer's width); the provided methods lift that to nalgebra vectors and
//! to batches (one sample per column).

use core::fmt::{Debug, Display};

use nalgebra::{Const, Dyn, OMatrix, SVector};

use crate::Scalar;

/// Which activation a type is; losses use it to fuse the canonical output
/// pairs and initializers use it to pick a default.
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
pub trait Activation: Copy + Debug + Display + PartialEq {
    /// Which activation this is.
    const KIND: ActivationKind;

    /// Computes `a = f(z)` for one sample. `z` and `a` have the same length.
    fn forward<T: Scalar>(&self, z: &[T], a: &mut [T]);

    /// Turns `∂L/∂a` into `∂L/∂z` in place, for one sample, given the
    /// pre-activation `z` and the activation `a = f(z)` of the forward pass.
    ///
    /// For an elementwise activation this multiplies by `f'(z)`; for softmax
    /// it applies the full Jacobian: `g ← a ⊙ (g − (a · g))`.
    fn backward<T: Scalar>(&self, z: &[T], a: &[T], grad: &mut [T]);

    /// `f(z)` for one sample as a vector.
    #[must_use]
    fn apply<T: Scalar, const N: usize>(&self, z: &SVector<T, N>) -> SVector<T, N> {
        let mut a = SVector::<T, N>::zeros();
        self.forward(z.as_slice(), a.as_mut_slice());
        a
    }

    /// `f(z)` for a batch, one sample per column.
    #[must_use]
    fn apply_batch<T: Scalar, const N: usize>(
        &self,
        z: &OMatrix<T, Const<N>, Dyn>,
    ) -> OMatrix<T, Const<N>, Dyn> {
        let mut a = OMatrix::<T, Const<N>, Dyn>::zeros(z.ncols());
        for (z, a) in z
            .as_slice()
            .chunks_exact(N)
            .zip(a.as_mut_slice().chunks_exact_mut(N))
        {
            self.forward(z, a);
        }
        a
    }

    /// `∂L/∂z` from `∂L/∂a` for one sample.
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
    fn backprop_batch<T: Scalar, const N: usize>(
        &self,
        z: &OMatrix<T, Const<N>, Dyn>,
        a: &OMatrix<T, Const<N>, Dyn>,
        grad: &mut OMatrix<T, Const<N>, Dyn>,
    ) {
        for ((z, a), g) in z
            .as_slice()
            .chunks_exact(N)
            .zip(a.as_slice().chunks_exact(N))
            .zip(grad.as_mut_slice().chunks_exact_mut(N))
        {
            self.backward(z, a, g);
        }
    }
}
