//! Loss functions, numerically stable, with fused output deltas for the
//! canonical output/loss pairs.
//!
//! Per sample, a loss sums over the output components; over a batch, it is
//! the mean over samples.

use core::fmt::{Debug, Display};

use nalgebra::{Const, Dyn, OMatrix, SVector};

use crate::Scalar;
use crate::activation::Activation;

/// A loss function `L(a, y)` of the network output `a` and the target `y`.
pub trait Loss: Copy + Debug + Display + PartialEq {
    /// The loss of one sample.
    fn value<T: Scalar>(&self, a: &[T], y: &[T]) -> T;

    /// Writes `∂L/∂a` of one sample into `grad` (overwriting it).
    fn gradient<T: Scalar>(&self, a: &[T], y: &[T], grad: &mut [T]);

    /// The loss of one sample and its output delta `∂L/∂z`, written into
    /// `delta`, given the output layer's activation and its pre-activation
    /// `z` and activation `a`.
    ///
    /// The default is the chain rule: [`gradient`](Loss::gradient), then
    /// [`Activation::backward`]. Canonical pairs override it with the fused
    /// delta `a − y` and a value computed from `z` where that is more stable.
    fn output_delta<T: Scalar, A: Activation>(
        &self,
        activation: &A,
        z: &[T],
        a: &[T],
        y: &[T],
        delta: &mut [T],
    ) -> T {
        self.gradient(a, y, delta);
        activation.backward(z, a, delta);
        self.value(a, y)
    }

    /// The loss of one sample given as vectors.
    #[must_use]
    fn loss<T: Scalar, const N: usize>(&self, a: &SVector<T, N>, y: &SVector<T, N>) -> T {
        self.value(a.as_slice(), y.as_slice())
    }

    /// The loss of one sample and its output delta `∂L/∂z`.
    #[must_use]
    fn delta<T: Scalar, A: Activation, const N: usize>(
        &self,
        activation: &A,
        z: &SVector<T, N>,
        a: &SVector<T, N>,
        y: &SVector<T, N>,
    ) -> (T, SVector<T, N>) {
        let mut delta = SVector::<T, N>::zeros();
        let value = self.output_delta(
            activation,
            z.as_slice(),
            a.as_slice(),
            y.as_slice(),
            delta.as_mut_slice(),
        );
        (value, delta)
    }

    /// The mean loss of a batch (one sample per column) and the output delta
    /// of the mean, so every column is that sample's delta divided by the
    /// batch size.
    ///
    /// # Panics
    ///
    /// If `y` has a different number of columns than `a`.
    #[must_use]
    fn delta_batch<T: Scalar, A: Activation, const N: usize>(
        &self,
        activation: &A,
        z: &OMatrix<T, Const<N>, Dyn>,
        a: &OMatrix<T, Const<N>, Dyn>,
        y: &OMatrix<T, Const<N>, Dyn>,
    ) -> (T, OMatrix<T, Const<N>, Dyn>) {
        assert_eq!(
            a.ncols(),
            y.ncols(),
            "the batch has {} samples but {} targets",
            a.ncols(),
            y.ncols()
        );
        let batch = a.ncols();
        let mut delta = OMatrix::<T, Const<N>, Dyn>::zeros(batch);
        let mut total = T::zero();
        for (((z, a), y), d) in z
            .as_slice()
            .chunks_exact(N)
            .zip(a.as_slice().chunks_exact(N))
            .zip(y.as_slice().chunks_exact(N))
            .zip(delta.as_mut_slice().chunks_exact_mut(N))
        {
            total += self.output_delta(activation, z, a, y, d);
        }
        if batch == 0 {
            return (T::zero(), delta);
        }
        let scale = T::one() / nalgebra::convert::<f64, T>(batch as f64);
        delta *= scale;
        (total * scale, delta)
    }
}
