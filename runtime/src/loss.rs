//! Loss functions, numerically stable, with fused output deltas for the
//! canonical output/loss pairs.
//!
//! Per sample, a loss sums over the output components; over a batch, it is
//! the mean over samples.

use core::fmt::{Debug, Display};

use nalgebra::SVector;
#[cfg(feature = "alloc")]
use nalgebra::{Const, Dyn, OMatrix};

use crate::Scalar;
use crate::activation::{Activation, ActivationKind};
use crate::scalar::constant;

/// A loss function `L(a, y)` of the network output `a` and the target `y`.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::loss::{AbsoluteError, Loss, SquaredError};
///
/// fn report<L: Loss>(loss: L, a: [f64; 2], y: [f64; 2]) -> String {
///     format!("{loss}: {}", loss.loss(&SVector::from(a), &SVector::from(y)))
/// }
/// assert_eq!(report(SquaredError, [1.0, 2.0], [0.0, 0.0]), "squared_error: 2.5");
/// assert_eq!(report(AbsoluteError, [1.0, 2.0], [0.0, 0.0]), "absolute_error: 3");
/// ```
pub trait Loss: Copy + Debug + Display + PartialEq {
    /// The loss of one sample.
    ///
    /// ```
    /// use staticnet::loss::{Loss, SquaredError};
    ///
    /// // ½ ((1 − 0)² + (2 − 4)²)
    /// assert_eq!(SquaredError.value(&[1.0_f64, 2.0], &[0.0, 4.0]), 2.5);
    /// ```
    fn value<T: Scalar>(&self, a: &[T], y: &[T]) -> T;

    /// Writes `∂L/∂a` of one sample into `grad` (overwriting it).
    ///
    /// ```
    /// use staticnet::loss::{Huber, Loss};
    ///
    /// let mut grad = [0.0_f64; 3];
    /// Huber::new(1.0).gradient(&[0.5, 3.0, -2.0], &[0.0; 3], &mut grad);
    /// assert_eq!(grad, [0.5, 1.0, -1.0]); // a − y clamped to [−1, 1]
    /// ```
    fn gradient<T: Scalar>(&self, a: &[T], y: &[T], grad: &mut [T]);

    /// The loss of one sample and its output delta `∂L/∂z`, written into
    /// `delta`, given the output layer's activation and its pre-activation
    /// `z` and activation `a`.
    ///
    /// The default is the chain rule: [`gradient`](Loss::gradient), then
    /// [`Activation::backward`]. Canonical pairs override it with the fused
    /// delta `a − y` and a value computed from `z` where that is more stable.
    ///
    /// ```
    /// use staticnet::activation::Tanh;
    /// use staticnet::loss::{Loss, SquaredError};
    ///
    /// let (z, a) = ([0.0_f64], [0.0]); // tanh(0) = 0
    /// let mut delta = [0.0];
    /// let value = SquaredError.output_delta(&Tanh, &z, &a, &[1.0], &mut delta);
    /// // L = ½ (0 − 1)², and ∂L/∂z = (a − y) tanh'(0) = −1
    /// assert_eq!((value, delta), (0.5, [-1.0]));
    /// ```
    fn output_delta<T: Scalar, A: Activation>(
        &self,
        activation: &A,
        z: &[T],
        a: &[T],
        y: &[T],
        delta: &mut [T],
    ) -> T {
        chain_rule(self, activation, z, a, y, delta)
    }

    /// The loss of one sample given as vectors.
    ///
    /// ```
    /// use nalgebra::SVector;
    /// use staticnet::loss::{AbsoluteError, Loss};
    ///
    /// let a = SVector::<f32, 3>::new(1.0, -1.0, 0.5);
    /// assert_eq!(AbsoluteError.loss(&a, &SVector::zeros()), 2.5);
    /// ```
    #[must_use]
    fn loss<T: Scalar, const N: usize>(&self, a: &SVector<T, N>, y: &SVector<T, N>) -> T {
        self.value(a.as_slice(), y.as_slice())
    }

    /// The loss of one sample and its output delta `∂L/∂z`.
    ///
    /// ```
    /// use nalgebra::SVector;
    /// use staticnet::activation::{Activation, Identity};
    /// use staticnet::loss::{Loss, SquaredError};
    ///
    /// let z = SVector::<f64, 2>::new(1.0, 2.0);
    /// let y = SVector::<f64, 2>::new(0.0, 4.0);
    /// let (value, delta) = SquaredError.delta(&Identity, &z, &Identity.apply(&z), &y);
    /// assert_eq!(value, 2.5);
    /// assert_eq!(delta, z - y);
    /// ```
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
    /// If `z` or `y` has a different number of columns than `a`.
    ///
    /// ```
    /// use nalgebra::Matrix1xX;
    /// use staticnet::activation::Identity;
    /// use staticnet::loss::{Loss, SquaredError};
    ///
    /// let a = Matrix1xX::from_row_slice(&[1.0, 3.0]);
    /// let y = Matrix1xX::from_row_slice(&[0.0, 0.0]);
    /// let (mean, delta) = SquaredError.delta_batch(&Identity, &a, &a, &y);
    /// assert_eq!(mean, 2.5); // (½ · 1 + ½ · 9) / 2
    /// assert_eq!(delta, Matrix1xX::from_row_slice(&[0.5, 1.5])); // (a − y) / 2
    /// ```
    #[cfg(feature = "alloc")]
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
        assert_eq!(
            z.ncols(),
            a.ncols(),
            "the batch has {} pre-activations but {} activations",
            z.ncols(),
            a.ncols()
        );
        let batch = a.ncols();
        let mut delta = OMatrix::<T, Const<N>, Dyn>::zeros(batch);
        if batch == 0 {
            return (T::zero(), delta);
        }
        let scale = T::one() / nalgebra::convert::<f64, T>(batch as f64);
        let value = self.delta_columns(
            activation,
            N,
            z.as_slice(),
            a.as_slice(),
            y.as_slice(),
            scale,
            delta.as_mut_slice(),
        );
        (value, delta)
    }

    /// The scaled loss sum and output deltas of a batch held column-major
    /// in slices, one sample of `rows` values per column: writes
    /// `scale · ∂L_j/∂z_j` into each column of `delta` (whose previous
    /// contents are overwritten) and returns `scale · Σ_j L_j`. With
    /// `scale = 1 / batch` this is [`delta_batch`](Self::delta_batch)
    /// without allocating; a batch split into parts takes
    /// `scale = 1 / whole batch` in each part, so the parts add up to the
    /// mean.
    ///
    /// ```
    /// use staticnet::activation::Identity;
    /// use staticnet::loss::{Loss, SquaredError};
    ///
    /// let a = [1.0_f64, 3.0];
    /// let mut delta = [f64::NAN; 2];
    /// let mean = SquaredError.delta_columns(&Identity, 1, &a, &a, &[0.0, 0.0], 0.5, &mut delta);
    /// assert_eq!(mean, 2.5); // (½ · 1 + ½ · 9) / 2
    /// assert_eq!(delta, [0.5, 1.5]); // (a − y) / 2
    /// ```
    #[allow(clippy::too_many_arguments)]
    fn delta_columns<T: Scalar, A: Activation>(
        &self,
        activation: &A,
        rows: usize,
        z: &[T],
        a: &[T],
        y: &[T],
        scale: T,
        delta: &mut [T],
    ) -> T {
        if rows == 0 {
            // `chunks_exact(0)` would panic; every sample's loss is an empty
            // sum.
            return T::zero();
        }
        assert!(
            z.len() == a.len() && a.len() == y.len() && y.len() == delta.len(),
            "a batch's pre-activations, activations, targets and deltas differ in length: {}, {}, {} and {}",
            z.len(),
            a.len(),
            y.len(),
            delta.len()
        );
        let mut total = T::zero();
        for (((z, a), y), d) in z
            .chunks_exact(rows)
            .zip(a.chunks_exact(rows))
            .zip(y.chunks_exact(rows))
            .zip(delta.chunks_exact_mut(rows))
        {
            total += self.output_delta(activation, z, a, y, d);
        }
        for d in delta.iter_mut() {
            *d *= scale;
        }
        total * scale
    }
}

/// The default output delta of [`Loss::output_delta`] (the chain rule),
/// shared with the overrides that fall back to it for non-canonical pairs.
fn chain_rule<L: Loss, T: Scalar, A: Activation>(
    loss: &L,
    activation: &A,
    z: &[T],
    a: &[T],
    y: &[T],
    delta: &mut [T],
) -> T {
    loss.gradient(a, y, delta);
    activation.backward(z, a, delta);
    loss.value(a, y)
}

/// `|x|` (spelled out because `Scalar` has two `abs` methods in scope).
#[inline]
fn abs<T: Scalar>(x: T) -> T {
    nalgebra::ComplexField::abs(x)
}

/// The squared error `½ Σ_i (a_i − y_i)²` per sample, with gradient `a − y`.
///
/// Paired with an [`Identity`](crate::activation::Identity) output, the chain
/// rule already yields the delta `a − y` exactly, so no fused path is needed.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::loss::{Loss, SquaredError};
///
/// let a = SVector::<f64, 2>::new(1.0, 2.0);
/// let y = SVector::<f64, 2>::new(0.0, 4.0);
/// assert_eq!(SquaredError.loss(&a, &y), 2.5); // ½ (1 + 4)
/// assert_eq!(SquaredError.to_string(), "squared_error");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct SquaredError;

impl Loss for SquaredError {
    fn value<T: Scalar>(&self, a: &[T], y: &[T]) -> T {
        let sum = a.iter().zip(y).fold(T::zero(), |s, (&a, &y)| {
            let r = a - y;
            s + r * r
        });
        sum * constant::<T>(0.5)
    }

    fn gradient<T: Scalar>(&self, a: &[T], y: &[T], grad: &mut [T]) {
        for ((g, &a), &y) in grad.iter_mut().zip(a).zip(y) {
            *g = a - y;
        }
    }
}

impl Display for SquaredError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("squared_error")
    }
}

/// The absolute error `Σ_i |a_i − y_i|` per sample, with gradient
/// `sign(a − y)` (taking `sign(0) = 0`).
///
/// Per sample the loss is a sum over the outputs; over a batch it is the
/// mean over samples, i.e. the mean absolute error per sample (not per
/// output component).
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::loss::{AbsoluteError, Loss};
///
/// let a = SVector::<f64, 2>::new(1.0, 2.0);
/// let y = SVector::<f64, 2>::new(0.0, 4.0);
/// assert_eq!(AbsoluteError.loss(&a, &y), 3.0);
/// assert_eq!(AbsoluteError.to_string(), "absolute_error");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct AbsoluteError;

impl Loss for AbsoluteError {
    fn value<T: Scalar>(&self, a: &[T], y: &[T]) -> T {
        a.iter()
            .zip(y)
            .fold(T::zero(), |s, (&a, &y)| s + abs(a - y))
    }

    fn gradient<T: Scalar>(&self, a: &[T], y: &[T], grad: &mut [T]) {
        let zero = T::zero();
        let one = T::one();
        for ((g, &a), &y) in grad.iter_mut().zip(a).zip(y) {
            let r = a - y;
            *g = if r > zero {
                one
            } else if r < zero {
                -one
            } else {
                // ±0 gives 0 and NaN stays NaN.
                r
            };
        }
    }
}

impl Display for AbsoluteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("absolute_error")
    }
}

/// The Huber loss, quadratic near zero and linear in the tails: per
/// component, with `r = a − y`, `r²/2` if `|r| <= delta` and
/// `delta (|r| − delta/2)` otherwise. Its gradient is `r` clamped to
/// `[−delta, delta]`.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::loss::{Huber, Loss};
///
/// let a = SVector::<f64, 2>::new(0.5, 3.0);
/// let y = SVector::<f64, 2>::new(0.0, 0.0);
/// assert_eq!(Huber::default().loss(&a, &y), 0.125 + 2.5);
/// assert_eq!(Huber::default().to_string(), "huber(1)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber {
    /// The residual magnitude where the loss turns from quadratic to linear.
    pub delta: f64,
}

impl Huber {
    /// A Huber loss with threshold `delta`.
    ///
    /// ```
    /// use staticnet::loss::{Huber, Loss};
    ///
    /// let huber = Huber::new(2.0);
    /// // |a − y| = 3 > 2, on the linear branch: 2 (3 − 2/2)
    /// assert_eq!(huber.value(&[3.0_f64], &[0.0]), 4.0);
    /// assert_eq!(huber.to_string(), "huber(2)");
    /// ```
    #[must_use]
    pub const fn new(delta: f64) -> Self {
        Self { delta }
    }
}

impl Default for Huber {
    /// The usual threshold `delta = 1`.
    fn default() -> Self {
        Self::new(1.0)
    }
}

impl Loss for Huber {
    fn value<T: Scalar>(&self, a: &[T], y: &[T]) -> T {
        let delta = constant::<T>(self.delta);
        let half = constant::<T>(0.5);
        a.iter().zip(y).fold(T::zero(), |s, (&a, &y)| {
            let r = abs(a - y);
            s + if r <= delta {
                half * r * r
            } else {
                delta * (r - half * delta)
            }
        })
    }

    fn gradient<T: Scalar>(&self, a: &[T], y: &[T], grad: &mut [T]) {
        let delta = constant::<T>(self.delta);
        for ((g, &a), &y) in grad.iter_mut().zip(a).zip(y) {
            *g = (a - y).clamp(-delta, delta);
        }
    }
}

impl Display for Huber {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "huber({})", self.delta)
    }
}

/// The binary cross-entropy `−Σ_i [y_i ln a_i + (1 − y_i) ln(1 − a_i)]`, for
/// independent probabilities `a_i` (multi-label outputs) and targets `y_i`
/// in `[0, 1]`.
///
/// On its own it clamps `a` to `[ε, 1 − ε]` with `ε = 1e-7`
/// ([`BinaryCrossEntropy::EPSILON`]) so the value stays finite; the gradient
/// is `(a − y) / (a (1 − a))`, and `0` for components where `a` lies outside
/// `[ε, 1 − ε]` (where the clamped loss is flat).
///
/// With a [`Sigmoid`](crate::activation::Sigmoid) output,
/// [`output_delta`](Loss::output_delta) is fused: the value is computed from
/// the logits `z` as `max(z, 0) − z y + ln(1 + e^−|z|)` (no clamping, finite
/// for any `z`) and the delta is exactly `a − y`.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, Sigmoid};
/// use staticnet::loss::{BinaryCrossEntropy, Loss};
///
/// let z = SVector::<f64, 2>::new(1000.0, -3.0);
/// let a = Sigmoid.apply(&z);
/// let y = SVector::<f64, 2>::new(0.0, 0.0);
/// let (value, delta) = BinaryCrossEntropy.delta(&Sigmoid, &z, &a, &y);
/// assert!((value - (1000.0 + 3.0_f64.exp().recip().ln_1p())).abs() < 1e-12);
/// assert_eq!(delta, a - y);
/// assert_eq!(BinaryCrossEntropy.to_string(), "binary_cross_entropy");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct BinaryCrossEntropy;

impl BinaryCrossEntropy {
    /// The clamping margin `ε = 1e-7` for probabilities.
    ///
    /// ```
    /// use staticnet::loss::{BinaryCrossEntropy, Loss};
    ///
    /// // a = 0 against y = 1 is clamped to ε: the loss is −ln ε, not infinity
    /// let value = BinaryCrossEntropy.value(&[0.0_f64], &[1.0]);
    /// assert!((value + BinaryCrossEntropy::EPSILON.ln()).abs() < 1e-9);
    /// ```
    pub const EPSILON: f64 = 1e-7;
}

impl Loss for BinaryCrossEntropy {
    fn value<T: Scalar>(&self, a: &[T], y: &[T]) -> T {
        let eps = constant::<T>(Self::EPSILON);
        let one = T::one();
        let upper = one - eps;
        let sum = a.iter().zip(y).fold(T::zero(), |s, (&a, &y)| {
            let a = a.clamp(eps, upper);
            s + y * a.ln() + (one - y) * (-a).ln_1p()
        });
        -sum
    }

    fn gradient<T: Scalar>(&self, a: &[T], y: &[T], grad: &mut [T]) {
        let eps = constant::<T>(Self::EPSILON);
        let one = T::one();
        let upper = one - eps;
        for ((g, &a), &y) in grad.iter_mut().zip(a).zip(y) {
            *g = if a < eps || a > upper {
                T::zero()
            } else {
                (a - y) / (a * (one - a))
            };
        }
    }

    fn output_delta<T: Scalar, A: Activation>(
        &self,
        activation: &A,
        z: &[T],
        a: &[T],
        y: &[T],
        delta: &mut [T],
    ) -> T {
        if A::KIND != ActivationKind::Sigmoid {
            return chain_rule(self, activation, z, a, y, delta);
        }
        let zero = T::zero();
        let mut value = zero;
        for (((d, &z), &a), &y) in delta.iter_mut().zip(z).zip(a).zip(y) {
            value += z.max(zero) - z * y + (-abs(z)).exp().ln_1p();
            *d = a - y;
        }
        value
    }
}

impl Display for BinaryCrossEntropy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("binary_cross_entropy")
    }
}

/// The categorical cross-entropy `−Σ_i y_i ln a_i`, for a probability
/// vector `a` (one class per sample) and a target distribution `y`
/// (usually one-hot).
///
/// On its own it uses `max(a, ε)` with `ε = 1e-7`
/// ([`CrossEntropy::EPSILON`]) in place of `a`, so the value stays finite;
/// the gradient is `−y / max(a, ε)` (which keeps pushing a vanishing
/// probability up rather than being flat below `ε`).
///
/// With a [`Softmax`](crate::activation::Softmax) output,
/// [`output_delta`](Loss::output_delta) is fused: the value is computed from
/// the logits `z` by log-sum-exp, `Σ_i y_i (lse(z) − z_i)`, and the delta is
/// `a (Σ_j y_j) − y`, which is exactly `a − y` for targets summing to one.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::activation::{Activation, Softmax};
/// use staticnet::loss::{CrossEntropy, Loss};
///
/// let z = SVector::<f64, 3>::new(1000.0, 0.0, -1000.0);
/// let a = Softmax.apply(&z);
/// let y = SVector::<f64, 3>::new(0.0, 1.0, 0.0);
/// let (value, delta) = CrossEntropy.delta(&Softmax, &z, &a, &y);
/// assert_eq!(value, 1000.0);
/// assert_eq!(delta, a - y);
/// assert_eq!(CrossEntropy.to_string(), "cross_entropy");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct CrossEntropy;

impl CrossEntropy {
    /// The floor `ε = 1e-7` for probabilities.
    ///
    /// ```
    /// use staticnet::loss::{CrossEntropy, Loss};
    ///
    /// // a probability of 0 for the true class counts as ε
    /// let value = CrossEntropy.value(&[0.0_f64, 1.0], &[1.0, 0.0]);
    /// assert_eq!(value, -CrossEntropy::EPSILON.ln());
    /// ```
    pub const EPSILON: f64 = 1e-7;
}

impl Loss for CrossEntropy {
    fn value<T: Scalar>(&self, a: &[T], y: &[T]) -> T {
        let eps = constant::<T>(Self::EPSILON);
        let sum = a
            .iter()
            .zip(y)
            .fold(T::zero(), |s, (&a, &y)| s + y * a.max(eps).ln());
        -sum
    }

    fn gradient<T: Scalar>(&self, a: &[T], y: &[T], grad: &mut [T]) {
        let eps = constant::<T>(Self::EPSILON);
        for ((g, &a), &y) in grad.iter_mut().zip(a).zip(y) {
            *g = -y / a.max(eps);
        }
    }

    fn output_delta<T: Scalar, A: Activation>(
        &self,
        activation: &A,
        z: &[T],
        a: &[T],
        y: &[T],
        delta: &mut [T],
    ) -> T {
        if A::KIND != ActivationKind::Softmax {
            return chain_rule(self, activation, z, a, y, delta);
        }
        let Some((&first, rest)) = z.split_first() else {
            return T::zero();
        };
        let max = rest.iter().fold(first, |m, &z| m.max(z));
        let sum_exp = z.iter().fold(T::zero(), |s, &z| s + (z - max).exp());
        let lse = max + sum_exp.ln();
        let mut value = T::zero();
        let mut y_sum = T::zero();
        for (&z, &y) in z.iter().zip(y) {
            value += y * (lse - z);
            y_sum += y;
        }
        for ((d, &a), &y) in delta.iter_mut().zip(a).zip(y) {
            *d = a * y_sum - y;
        }
        value
    }
}

impl Display for CrossEntropy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("cross_entropy")
    }
}

#[cfg(test)]
mod tests {
    use approx::{assert_abs_diff_eq, assert_relative_eq};
    #[cfg(feature = "alloc")]
    use nalgebra::{Const, Dyn, Matrix3xX, OMatrix};
    use nalgebra::{SVector, Vector3};

    use super::*;
    use crate::activation::{
        Elu, Gelu, Identity, LeakyRelu, Relu, Selu, Sigmoid, Softmax, Softplus, Tanh,
    };

    /// Finite-difference step.
    const H: f64 = 1e-6;
    /// Relative tolerance of gradients and deltas against central
    /// differences. Components much smaller than the largest one are compared
    /// against that scale instead (absolute floor `FD_TOL * max |delta|`).
    const FD_TOL: f64 = 1e-6;

    fn forward<A: Activation>(act: &A, z: &[f64]) -> Vec<f64> {
        let mut a = vec![f64::NAN; z.len()];
        act.forward(z, &mut a);
        a
    }

    fn max_abs(v: &[f64]) -> f64 {
        v.iter().fold(0.0, |m, x| m.max(x.abs()))
    }

    /// Central differences of `f` at `x`, one component at a time.
    fn numeric_gradient(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
        (0..x.len())
            .map(|k| {
                let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
                xp[k] += H;
                xm[k] -= H;
                (f(&xp) - f(&xm)) / (xp[k] - xm[k])
            })
            .collect()
    }

    fn assert_gradient_close(analytic: &[f64], numeric: &[f64]) {
        let floor = FD_TOL * max_abs(analytic).max(max_abs(numeric));
        for (&an, &fd) in analytic.iter().zip(numeric) {
            assert_relative_eq!(an, fd, max_relative = FD_TOL, epsilon = floor);
        }
    }

    /// `gradient` against central differences of `value`.
    fn check_gradient<L: Loss>(loss: &L, a: &[f64], y: &[f64]) {
        let mut grad = vec![f64::NAN; a.len()];
        loss.gradient(a, y, &mut grad);
        let fd = numeric_gradient(a, |a| loss.value(a, y));
        assert_gradient_close(&grad, &fd);
    }

    /// `output_delta` against central differences of `z ↦ value(f(z), y)`,
    /// and its value against `value(f(z), y)`.
    fn check_output_delta<L: Loss, A: Activation>(loss: &L, act: &A, z: &[f64], y: &[f64]) {
        let a = forward(act, z);
        let mut delta = vec![f64::NAN; z.len()];
        let value = loss.output_delta(act, z, &a, y, &mut delta);
        assert_relative_eq!(value, loss.value(&a, y), max_relative = 1e-12);
        let fd = numeric_gradient(z, |z| loss.value(&forward(act, z), y));
        assert_gradient_close(&delta, &fd);
    }

    fn a_minus_y(a: &[f64], y: &[f64]) -> Vec<f64> {
        a.iter().zip(y).map(|(a, y)| a - y).collect()
    }

    #[test]
    fn display_and_defaults() {
        assert_eq!(SquaredError.to_string(), "squared_error");
        assert_eq!(AbsoluteError.to_string(), "absolute_error");
        assert_eq!(Huber::default().to_string(), "huber(1)");
        assert_eq!(Huber::new(0.25).to_string(), "huber(0.25)");
        assert_eq!(BinaryCrossEntropy.to_string(), "binary_cross_entropy");
        assert_eq!(CrossEntropy.to_string(), "cross_entropy");
        const HUBER: Huber = Huber::new(2.0);
        assert_eq!(HUBER.delta, 2.0);
        assert_eq!(Huber::default(), Huber { delta: 1.0 });
    }

    #[test]
    fn values_by_hand() {
        let a = [1.0, 2.0, -1.0];
        let y = [0.0, 4.0, 1.0];
        assert_eq!(SquaredError.value(&a, &y), 4.5);
        assert_eq!(AbsoluteError.value(&a, &y), 5.0);
        // Residuals 0.5, -3, 1: quadratic, linear, and exactly on the threshold.
        let a = [0.5, -3.0, 1.0];
        let y = [0.0; 3];
        assert_eq!(Huber::default().value(&a, &y), 0.125 + 2.5 + 0.5);
        assert_eq!(Huber::new(2.0).value(&a, &y), 0.125 + 4.0 + 0.5);
        assert_relative_eq!(
            BinaryCrossEntropy.value(&[0.9, 0.2], &[1.0, 0.0]),
            0.328_504_066_972_036,
            max_relative = 1e-14
        );
        assert_relative_eq!(
            BinaryCrossEntropy.value(&[0.6], &[0.3]),
            0.794_651_199_441_705_7,
            max_relative = 1e-14
        );
        assert_relative_eq!(
            CrossEntropy.value(&[0.7, 0.2, 0.1], &[0.0, 1.0, 0.0]),
            1.609_437_912_434_100_3,
            max_relative = 1e-14
        );
        assert_relative_eq!(
            CrossEntropy.value(&[0.7, 0.2, 0.1], &[0.5, 0.0, 0.25]),
            0.753_983_745_217_877_6,
            max_relative = 1e-14
        );
        // Empty samples have zero loss.
        assert_eq!(SquaredError.value::<f64>(&[], &[]), 0.0);
        assert_eq!(
            CrossEntropy.output_delta::<f64, _>(&Softmax, &[], &[], &[], &mut []),
            0.0
        );
    }

    #[test]
    fn gradients_by_hand() {
        let mut g = [0.0; 4];
        SquaredError.gradient(&[1.0, 2.0, -1.0, 0.5], &[0.0, 4.0, 1.0, 0.5], &mut g);
        assert_eq!(g, [1.0, -2.0, -2.0, 0.0]);
        AbsoluteError.gradient(&[1.0, 2.0, -1.0, 0.5], &[0.0, 4.0, 1.0, 0.5], &mut g);
        assert_eq!(g, [1.0, -1.0, -1.0, 0.0]);
        Huber::default().gradient(&[0.5, -3.0, 1.0, 7.0], &[0.0; 4], &mut g);
        assert_eq!(g, [0.5, -1.0, 1.0, 1.0]);
        let mut g = [0.0; 2];
        BinaryCrossEntropy.gradient(&[0.9, 0.2], &[1.0, 0.0], &mut g);
        assert_relative_eq!(g[0], -1.0 / 0.9, max_relative = 1e-14);
        assert_relative_eq!(g[1], 1.0 / 0.8, max_relative = 1e-14);
        let mut g = [0.0; 3];
        CrossEntropy.gradient(&[0.7, 0.2, 1e-9], &[0.0, 1.0, 0.5], &mut g);
        assert_eq!(g, [0.0, -5.0, -0.5 / 1e-7]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let a = [0.7, -1.3, 2.1, -0.4];
        let y = [0.2, 0.9, -0.4, 0.3];
        check_gradient(&SquaredError, &a, &y);
        check_gradient(&AbsoluteError, &a, &y);
        check_gradient(&Huber::default(), &a, &y);
        check_gradient(&Huber::new(0.3), &a, &y);
        check_gradient(&Huber::new(10.0), &a, &y);
        let p = [0.9, 0.2, 0.6, 0.01];
        check_gradient(&BinaryCrossEntropy, &p, &[1.0, 0.0, 0.3, 1.0]);
        check_gradient(&CrossEntropy, &p, &[0.0, 1.0, 0.0, 0.0]);
        check_gradient(&CrossEntropy, &p, &[0.1, 0.2, 0.3, 0.4]);
    }

    /// Every activation, for the losses defined on any real output.
    fn check_regression_loss<L: Loss>(loss: &L) {
        let z = [0.7, -1.3, 2.1, -0.4];
        let y = [0.2, 0.9, -0.4, 0.3];
        check_output_delta(loss, &Identity, &z, &y);
        check_output_delta(loss, &Relu, &z, &y);
        check_output_delta(loss, &LeakyRelu::default(), &z, &y);
        check_output_delta(loss, &Elu::default(), &z, &y);
        check_output_delta(loss, &Selu, &z, &y);
        check_output_delta(loss, &Gelu, &z, &y);
        check_output_delta(loss, &Sigmoid, &z, &y);
        check_output_delta(loss, &Tanh, &z, &y);
        check_output_delta(loss, &Softplus, &z, &y);
        check_output_delta(loss, &Softmax, &z, &y);
    }

    #[test]
    fn squared_error_output_delta() {
        check_regression_loss(&SquaredError);
        // Identity + squared error gives a − y exactly through the chain rule.
        let z = [0.7, -1.3, 2.1];
        let y = [0.2, 0.9, -0.4];
        let mut delta = [0.0; 3];
        let value = SquaredError.output_delta(&Identity, &z, &z, &y, &mut delta);
        assert_eq!(delta.to_vec(), a_minus_y(&z, &y));
        assert_eq!(value, SquaredError.value(&z, &y));
    }

    #[test]
    fn absolute_error_output_delta() {
        check_regression_loss(&AbsoluteError);
    }

    #[test]
    fn huber_output_delta() {
        check_regression_loss(&Huber::default());
        check_regression_loss(&Huber::new(0.3));
    }

    #[test]
    fn binary_cross_entropy_output_delta() {
        let z = [0.7, -1.3, 2.1, -0.4];
        for y in [[1.0, 0.0, 0.0, 1.0], [0.3, 0.9, 0.5, 0.0]] {
            // Fused.
            check_output_delta(&BinaryCrossEntropy, &Sigmoid, &z, &y);
            // Chain rule, with outputs in (0, 1).
            check_output_delta(&BinaryCrossEntropy, &Softmax, &z, &y);
        }
        // Without a sigmoid output the fallback is exactly gradient, then
        // backward, then value.
        let a = forward(&Softmax, &z);
        let y = [0.0, 1.0, 0.0, 0.0];
        let mut delta = [0.0; 4];
        let value = BinaryCrossEntropy.output_delta(&Softmax, &z, &a, &y, &mut delta);
        let mut expected = [0.0; 4];
        BinaryCrossEntropy.gradient(&a, &y, &mut expected);
        Softmax.backward(&z, &a, &mut expected);
        assert_eq!(delta, expected);
        assert_eq!(value, BinaryCrossEntropy.value(&a, &y));
    }

    #[test]
    fn fused_sigmoid_binary_cross_entropy_is_exactly_a_minus_y() {
        let z = [0.7, -1.3, 2.1, -0.4, 9.0];
        let a = forward(&Sigmoid, &z);
        for y in [[1.0, 0.0, 0.0, 1.0, 1.0], [0.3, 0.9, 0.5, 0.0, 0.2]] {
            let mut delta = [f64::NAN; 5];
            let value = BinaryCrossEntropy.output_delta(&Sigmoid, &z, &a, &y, &mut delta);
            assert_eq!(delta.to_vec(), a_minus_y(&a, &y));
            assert_relative_eq!(
                value,
                BinaryCrossEntropy.value(&a, &y),
                max_relative = 1e-12
            );
        }
        // By hand: softplus(z) − z y summed.
        let mut delta = [0.0; 2];
        let a = forward(&Sigmoid, &[2.0, -1.0]);
        let value =
            BinaryCrossEntropy.output_delta(&Sigmoid, &[2.0, -1.0], &a, &[1.0, 0.3], &mut delta);
        assert_relative_eq!(value, 0.740_189_698_561_195_5, max_relative = 1e-14);
    }

    #[test]
    fn cross_entropy_output_delta() {
        let z = [0.7, -1.3, 2.1, -0.4];
        for y in [
            [0.0, 0.0, 1.0, 0.0],
            [0.1, 0.2, 0.3, 0.4],
            // Not summing to one: the fused delta a Σy − y is still exact.
            [0.5, 0.0, 1.0, 0.25],
        ] {
            // Fused.
            check_output_delta(&CrossEntropy, &Softmax, &z, &y);
            // Chain rule.
            check_output_delta(&CrossEntropy, &Sigmoid, &z, &y);
        }
        // By hand.
        let z = [1.0, 2.0, 0.5];
        let a = forward(&Softmax, &z);
        let mut delta = [0.0; 3];
        let value = CrossEntropy.output_delta(&Softmax, &z, &a, &[0.2, 0.5, 0.3], &mut delta);
        assert_relative_eq!(value, 1.114_368_784_107_944_6, max_relative = 1e-14);
    }

    #[test]
    fn fused_softmax_cross_entropy_is_exactly_a_minus_y() {
        let z = [0.7, -1.3, 2.1, -0.4];
        let a = forward(&Softmax, &z);
        for k in 0..4 {
            let mut y = [0.0; 4];
            y[k] = 1.0;
            let mut delta = [f64::NAN; 4];
            let value = CrossEntropy.output_delta(&Softmax, &z, &a, &y, &mut delta);
            assert_eq!(delta.to_vec(), a_minus_y(&a, &y));
            assert_relative_eq!(value, -a[k].ln(), max_relative = 1e-13);
        }
    }

    #[test]
    fn fused_paths_are_stable_for_huge_logits() {
        // BCE + sigmoid: softplus(z) − z y, exactly 0 or |z| in the limit.
        for (z, y, want) in [
            (1000.0, 1.0, 0.0),
            (1000.0, 0.0, 1000.0),
            (-1000.0, 0.0, 0.0),
            (-1000.0, 1.0, 1000.0),
        ] {
            let a = forward(&Sigmoid, &[z]);
            let mut delta = [f64::NAN];
            let value = BinaryCrossEntropy.output_delta(&Sigmoid, &[z], &a, &[y], &mut delta);
            assert_eq!(value, want, "z = {z}, y = {y}");
            assert_eq!(delta, [a[0] - y]);
            assert!(delta[0].is_finite());
        }
        // CE + softmax: lse = 1000, so the loss is 1000 − z_k.
        let z = [1000.0, 0.0, -1000.0];
        let a = forward(&Softmax, &z);
        for (k, want) in [0.0, 1000.0, 2000.0].into_iter().enumerate() {
            let mut y = [0.0; 3];
            y[k] = 1.0;
            let mut delta = [f64::NAN; 3];
            let value = CrossEntropy.output_delta(&Softmax, &z, &a, &y, &mut delta);
            assert_eq!(value, want, "class {k}");
            assert_eq!(delta.to_vec(), a_minus_y(&a, &y));
        }
    }

    #[test]
    fn saturated_probabilities_stay_finite() {
        // BCE on a = 0 or 1 directly is clamped to [ε, 1 − ε].
        let worst = -(1e-7_f64).ln();
        assert_relative_eq!(worst, 16.118_095_650_958_32, max_relative = 1e-15);
        assert_relative_eq!(
            BinaryCrossEntropy.value(&[0.0, 1.0], &[1.0, 0.0]),
            2.0 * worst,
            max_relative = 1e-8
        );
        let best = BinaryCrossEntropy.value::<f64>(&[0.0, 1.0], &[0.0, 1.0]);
        assert!(best.is_finite() && (0.0..3e-7).contains(&best), "{best}");
        let mut g = [f64::NAN; 4];
        BinaryCrossEntropy.gradient(&[0.0, 1.0, 1e-7, 0.5], &[1.0, 0.0, 1.0, 1.0], &mut g);
        assert_eq!(&g[..2], &[0.0, 0.0]);
        assert!(g.iter().all(|g| g.is_finite()), "{g:?}");
        // CE on a = 0 uses ε.
        assert_relative_eq!(
            CrossEntropy.value(&[0.0, 1.0, 0.0], &[1.0, 0.0, 0.0]),
            worst,
            max_relative = 1e-15
        );
        let mut g = [f64::NAN; 3];
        CrossEntropy.gradient(&[0.0, 1.0, 0.0], &[1.0, 0.0, 0.0], &mut g);
        assert!(g.iter().all(|g| g.is_finite()), "{g:?}");
    }

    #[test]
    fn vector_helpers() {
        let z = Vector3::new(0.7, -1.3, 2.1);
        let a = Tanh.apply(&z);
        let y = Vector3::new(0.2, 0.9, -0.4);
        assert_eq!(
            SquaredError.loss(&a, &y),
            SquaredError.value(a.as_slice(), y.as_slice())
        );
        let (value, delta) = SquaredError.delta(&Tanh, &z, &a, &y);
        let mut expected = [0.0; 3];
        let expected_value = SquaredError.output_delta(
            &Tanh,
            z.as_slice(),
            a.as_slice(),
            y.as_slice(),
            &mut expected,
        );
        assert_eq!(value, expected_value);
        assert_eq!(delta.as_slice(), &expected);
    }

    /// `delta_batch` is the mean of the per-sample values and every column
    /// is that sample's delta over the batch size.
    #[cfg(feature = "alloc")]
    fn check_delta_batch<L: Loss, A: Activation>(loss: &L, act: &A, y: &Matrix3xX<f64>) {
        let z = Matrix3xX::from_columns(&[
            Vector3::new(0.7, -1.3, 2.1),
            Vector3::new(-0.4, 0.2, 1.1),
            Vector3::new(1.5, 0.3, -2.2),
        ]);
        let a = act.apply_batch(&z);
        let (value, delta) = loss.delta_batch(act, &z, &a, y);
        assert_eq!(delta.ncols(), 3);
        let mut total = 0.0;
        for j in 0..3 {
            let (zj, aj, yj): (Vector3<f64>, Vector3<f64>, Vector3<f64>) =
                (z.column(j).into(), a.column(j).into(), y.column(j).into());
            let (vj, dj) = loss.delta(act, &zj, &aj, &yj);
            total += vj;
            for i in 0..3 {
                assert_relative_eq!(delta[(i, j)], dj[i] / 3.0, max_relative = 1e-15);
            }
        }
        assert_relative_eq!(value, total / 3.0, max_relative = 1e-15);
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn delta_batch_is_the_mean() {
        let one_hot = Matrix3xX::from_columns(&[
            Vector3::new(0.0, 0.0, 1.0),
            Vector3::new(1.0, 0.0, 0.0),
            Vector3::new(0.0, 1.0, 0.0),
        ]);
        let real = Matrix3xX::from_columns(&[
            Vector3::new(0.2, 0.9, -0.4),
            Vector3::new(0.0, 1.0, 0.5),
            Vector3::new(-1.0, 0.3, 0.3),
        ]);
        check_delta_batch(&SquaredError, &Tanh, &real);
        check_delta_batch(&Huber::default(), &Identity, &real);
        check_delta_batch(&AbsoluteError, &Relu, &real);
        check_delta_batch(&CrossEntropy, &Softmax, &one_hot);
        check_delta_batch(&BinaryCrossEntropy, &Sigmoid, &one_hot);

        // Empty batches and zero-width outputs give zero loss, not NaN or a panic.
        let empty = Matrix3xX::<f64>::zeros(0);
        let (value, delta) = SquaredError.delta_batch(&Identity, &empty, &empty, &empty);
        assert_eq!((value, delta.ncols()), (0.0, 0));
        let narrow = OMatrix::<f64, Const<0>, Dyn>::zeros(2);
        let (value, delta) = SquaredError.delta_batch(&Identity, &narrow, &narrow, &narrow);
        assert_eq!((value, delta.ncols()), (0.0, 2));
    }

    #[test]
    #[cfg(feature = "alloc")]
    #[should_panic(expected = "the batch has 2 samples but 1 targets")]
    fn delta_batch_rejects_mismatched_targets() {
        let a = Matrix3xX::<f64>::zeros(2);
        let y = Matrix3xX::<f64>::zeros(1);
        let _ = SquaredError.delta_batch(&Identity, &a, &a, &y);
    }

    #[test]
    #[cfg(feature = "alloc")]
    #[should_panic(expected = "the batch has 1 pre-activations but 2 activations")]
    fn delta_batch_rejects_mismatched_pre_activations() {
        let z = Matrix3xX::<f64>::zeros(1);
        let a = Matrix3xX::<f64>::zeros(2);
        let _ = SquaredError.delta_batch(&Identity, &z, &a, &a);
    }

    #[test]
    fn f32_smoke() {
        fn check<L: Loss, A: Activation>(loss: L, act: A, y: [f64; 3]) {
            let z64 = SVector::<f64, 3>::new(0.7, -1.3, 2.1);
            let y64 = SVector::<f64, 3>::from(y);
            let (z32, y32) = (z64.cast::<f32>(), y64.cast::<f32>());
            let (v64, d64) = loss.delta(&act, &z64, &act.apply(&z64), &y64);
            let (v32, d32) = loss.delta(&act, &z32, &act.apply(&z32), &y32);
            assert!(v32.is_finite() && d32.iter().all(|d| d.is_finite()));
            assert_relative_eq!(f64::from(v32), v64, max_relative = 1e-5);
            for (&d32, &d64) in d32.iter().zip(&d64) {
                assert_abs_diff_eq!(f64::from(d32), d64, epsilon = 1e-5);
            }
        }
        let real = [0.2, 0.9, -0.4];
        let one_hot = [0.0, 1.0, 0.0];
        check(SquaredError, Identity, real);
        check(AbsoluteError, Tanh, real);
        check(Huber::default(), Elu::default(), real);
        check(BinaryCrossEntropy, Sigmoid, one_hot);
        check(BinaryCrossEntropy, Softmax, one_hot);
        check(CrossEntropy, Softmax, one_hot);
        check(CrossEntropy, Sigmoid, one_hot);
        // The fused paths stay finite in f32 too.
        let z = SVector::<f32, 3>::new(1000.0, 0.0, -1000.0);
        let y = SVector::<f32, 3>::new(0.0, 1.0, 0.0);
        let (value, delta) = CrossEntropy.delta(&Softmax, &z, &Softmax.apply(&z), &y);
        assert_eq!(value, 1000.0);
        assert_eq!(delta, SVector::<f32, 3>::new(1.0, -1.0, 0.0));
        let (value, _) = BinaryCrossEntropy.delta(&Sigmoid, &z, &Sigmoid.apply(&z), &y);
        // softplus(1000) − 0 + softplus(0) − 0 + softplus(−1000) − 0.
        assert_relative_eq!(value, 1000.0 + core::f32::consts::LN_2, max_relative = 1e-7);
    }
}
