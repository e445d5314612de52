//! Plain stochastic gradient descent.

use super::{Optimizer, OptimizerState, decayed};
use crate::Scalar;
use crate::network::Trainable;

/// Plain gradient descent: `θ ← θ − η g`.
///
/// Whether it is online, minibatch or full-batch gradient descent depends on
/// which gradients it is given. It keeps no state. With
/// [`with_weight_decay`](Sgd::with_weight_decay), `g` is replaced by
/// `g + λ θ` (an L2 penalty `½ λ ‖θ‖²` on the loss).
///
/// ```
/// use staticnet::prelude::*;
/// use nalgebra::SVector;
///
/// network! {
///     struct Line<f64> { input: 1, out: dense(1) }
/// }
///
/// let mut net = Line::zeros();
/// let mut sgd = Sgd::new(0.1);
/// let (x, y) = (SVector::<f64, 1>::new(1.0), SVector::<f64, 1>::new(2.0));
/// for _ in 0..100 {
///     let (_, grads) = net.gradients(&x, &y, SquaredError);
///     sgd.step(&mut net, &grads);
/// }
/// assert!((net.forward(&x)[0] - 2.0).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd<T> {
    /// The step size `η`.
    pub learning_rate: T,
    /// The L2 penalty `λ` added to the gradient as `λ θ`; 0 by default.
    pub weight_decay: T,
}

impl<T: Scalar> Sgd<T> {
    /// Gradient descent with step size `learning_rate` and no weight decay.
    ///
    /// ```
    /// let sgd = staticnet::optim::Sgd::new(0.01_f32);
    /// assert_eq!((sgd.learning_rate, sgd.weight_decay), (0.01, 0.0));
    /// ```
    #[must_use]
    pub fn new(learning_rate: T) -> Self {
        Self {
            learning_rate,
            weight_decay: T::zero(),
        }
    }

    /// Adds the L2 penalty `λ θ` to the gradient before each update:
    /// `θ ← θ − η (g + λ θ)`.
    ///
    /// ```
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// net.out.weight[0] = 2.0;
    /// let grads = Trainable::zero_gradients(&net);
    /// Sgd::new(0.1).with_weight_decay(0.5).step(&mut net, &grads);
    /// // w ← 2 − 0.1 · (0 + 0.5 · 2)
    /// assert_eq!(net.out.weight[0], 2.0 - 0.1 * (0.0 + 0.5 * 2.0));
    /// ```
    #[must_use]
    pub fn with_weight_decay(mut self, weight_decay: T) -> Self {
        self.weight_decay = weight_decay;
        self
    }
}

impl<T: Scalar> Optimizer<T> for Sgd<T> {
    fn step<N: Trainable<Scalar = T>>(&mut self, network: &mut N, gradients: &N::Gradients) {
        let (rate, decay) = (self.learning_rate, self.weight_decay);
        network.for_each_parameter_and_gradient(gradients, |_, theta, grad| {
            // θ + (−η) g is θ − η g to the bit: the kernel that picks AVX2
            // at run time for f32 and f64
            if decay == T::zero() && crate::simd::axpy_scalar(-rate, grad, theta) {
                return;
            }
            for (t, g) in theta.iter_mut().zip(grad) {
                *t -= rate * decayed(*g, *t, decay);
            }
        });
    }

    fn learning_rate(&self) -> T {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, rate: T) {
        self.learning_rate = rate;
    }

    fn state(&self) -> OptimizerState<T> {
        OptimizerState {
            kind: "sgd",
            steps: 0,
            vectors: Vec::new(),
        }
    }

    fn restore_state(&mut self, state: OptimizerState<T>) -> crate::Result<()> {
        super::take_vectors(state, "sgd", []).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{
        assert_close, assert_fits_line, run, step_big_on_a_small_stack, zip,
    };

    const START: [f64; 3] = [0.5, -0.25, 1.0];
    const GRADIENTS: [[f64; 3]; 3] = [[1.0, -2.0, 0.5], [0.5, 1.0, -1.0], [-0.25, 3.0, 2.0]];

    #[test]
    fn three_steps_follow_the_formula() {
        let eta = 0.1;
        let path = run(&mut Sgd::new(eta), START, &GRADIENTS);
        // θ ← θ − η g
        let theta1 = zip(START, GRADIENTS[0], |t, g| t - 0.1 * g);
        let theta2 = zip(theta1, GRADIENTS[1], |t, g| t - 0.1 * g);
        let theta3 = zip(theta2, GRADIENTS[2], |t, g| t - 0.1 * g);
        assert_close(
            path[0],
            [0.5 - 0.1 * 1.0, -0.25 - 0.1 * -2.0, 1.0 - 0.1 * 0.5],
        );
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
    }

    #[test]
    fn weight_decay_adds_lambda_theta_to_the_gradient() {
        let path = run(
            &mut Sgd::new(0.1).with_weight_decay(0.01),
            START,
            &GRADIENTS,
        );
        // θ ← θ − η (g + λ θ)
        let theta1 = zip(START, GRADIENTS[0], |t, g| t - 0.1 * (g + 0.01 * t));
        let theta2 = zip(theta1, GRADIENTS[1], |t, g| t - 0.1 * (g + 0.01 * t));
        let theta3 = zip(theta2, GRADIENTS[2], |t, g| t - 0.1 * (g + 0.01 * t));
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
    }

    #[test]
    fn with_zero_gradients_weight_decay_shrinks_geometrically() {
        let path = run(
            &mut Sgd::new(0.5).with_weight_decay(0.2),
            START,
            &[[0.0; 3]; 3],
        );
        // θ ← (1 − η λ) θ = 0.9 θ
        assert_close(path[2], START.map(|t| 0.9 * 0.9 * 0.9 * t));
    }

    #[test]
    fn fits_a_line() {
        assert_fits_line(Sgd::new(0.1), 2000);
    }

    #[test]
    fn steps_a_large_network_on_a_small_stack() {
        let (_, first) = step_big_on_a_small_stack(Sgd::new(0.5));
        assert_eq!(first, -0.5 - 0.5);
    }
}
