//! Gradient descent with Nesterov momentum.

use super::{Optimizer, OptimizerState, State, decayed};
use crate::Scalar;
use crate::network::Trainable;
use crate::scalar::constant;

/// Gradient descent with Nesterov momentum, in the form of Sutskever et al.
/// (2013) that PyTorch's `SGD(momentum = μ, nesterov = True)` uses:
///
/// ```text
/// v ← μ v − η g
/// θ ← θ + μ v − η g
/// ```
///
/// with the velocity `v` starting at zero and the new `v` in the second line:
/// the step looks ahead along the velocity, where [`Momentum`] steps by `v`
/// itself. With [`with_weight_decay`](Nesterov::with_weight_decay), `g` is
/// replaced by `g + λ θ`.
///
/// The velocity is one flat vector on the heap, allocated on the first step.
///
/// [`Momentum`]: super::Momentum
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::optim::Nesterov;
///
/// network! { struct Net<f64> { input: 1, out: dense(1) } }
///
/// let mut net = Net::zeros();
/// let mut grads = Trainable::zero_gradients(&net);
/// grads.out.bias[0] = 1.0;
/// let mut nesterov = Nesterov::new(0.1).with_momentum(0.5);
/// nesterov.step(&mut net, &grads);
/// // v = −0.1, b = 0.5 · −0.1 − 0.1
/// assert_eq!(net.out.bias[0], 0.5 * -0.1 - 0.1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Nesterov<T> {
    /// The step size `η`.
    pub learning_rate: T,
    /// The momentum `μ`, 0.9 by default.
    pub momentum: T,
    /// The L2 penalty `λ` added to the gradient as `λ θ`; 0 by default.
    pub weight_decay: T,
    velocity: State<T, 1>,
}

impl<T: Scalar> Nesterov<T> {
    /// Nesterov momentum with step size `learning_rate`, `μ = 0.9` and no
    /// weight decay.
    ///
    /// ```
    /// use staticnet::optim::Nesterov;
    ///
    /// let n = Nesterov::new(0.01_f32);
    /// assert_eq!((n.learning_rate, n.momentum, n.weight_decay), (0.01, 0.9, 0.0));
    /// ```
    #[must_use]
    pub fn new(learning_rate: T) -> Self {
        Self {
            learning_rate,
            momentum: constant(0.9),
            weight_decay: T::zero(),
            velocity: State::new(),
        }
    }

    /// Sets the momentum `μ` (0 is plain gradient descent).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Nesterov;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut grads = Trainable::zero_gradients(&net);
    /// grads.out.bias[0] = 1.0;
    /// let mut nesterov = Nesterov::new(0.1).with_momentum(0.0);
    /// nesterov.step(&mut net, &grads);
    /// nesterov.step(&mut net, &grads);
    /// assert_eq!(net.out.bias[0], -0.1 - 0.1);
    /// ```
    #[must_use]
    pub fn with_momentum(mut self, momentum: T) -> Self {
        self.momentum = momentum;
        self
    }

    /// Adds the L2 penalty `λ θ` to the gradient before each update
    /// (PyTorch's `weight_decay`).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Nesterov;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// net.out.weight[0] = 2.0;
    /// let grads = Trainable::zero_gradients(&net);
    /// Nesterov::new(0.1).with_weight_decay(0.5).step(&mut net, &grads);
    /// // g = 0 + 0.5 · 2 = 1: v = −0.1, w = 2 + 0.9 · −0.1 − 0.1
    /// assert_eq!(net.out.weight[0], 2.0 + (0.9 * -0.1 - 0.1));
    /// ```
    #[must_use]
    pub fn with_weight_decay(mut self, weight_decay: T) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Forgets the velocity (and frees it): the next step starts from rest.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Nesterov;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut grads = Trainable::zero_gradients(&net);
    /// grads.out.bias[0] = 1.0;
    /// let mut nesterov = Nesterov::new(0.1);
    /// nesterov.step(&mut net, &grads);
    /// nesterov.reset();
    /// nesterov.step(&mut net, &grads);
    /// // two steps from rest
    /// let from_rest = 0.9 * -0.1 - 0.1;
    /// assert_eq!(net.out.bias[0], from_rest + from_rest);
    /// ```
    pub fn reset(&mut self) {
        self.velocity.clear();
    }
}

impl<T: Scalar> Optimizer<T> for Nesterov<T> {
    fn step<N: Trainable<Scalar = T>>(&mut self, network: &mut N, gradients: &N::Gradients) {
        let (rate, mu, decay) = (self.learning_rate, self.momentum, self.weight_decay);
        self.velocity.prepare(N::PARAMETER_COUNT);
        self.velocity
            .walk(network, gradients, |theta, grad, [velocity]| {
                for ((t, g), v) in theta.iter_mut().zip(grad).zip(velocity) {
                    let step = rate * decayed(*g, *t, decay);
                    *v = mu * *v - step;
                    *t += mu * *v - step;
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
        self.velocity.state("nesterov", 0, ["velocity"])
    }

    fn restore_state(&mut self, state: OptimizerState<T>) -> crate::Result<()> {
        self.velocity
            .restore(state, "nesterov", ["velocity"])
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{
        assert_close, assert_fits_line, run, step_big_on_a_small_stack, zip,
    };
    use crate::optim::{Momentum, Sgd};

    const START: [f64; 3] = [0.5, -0.25, 1.0];
    const GRADIENTS: [[f64; 3]; 3] = [[1.0, -2.0, 0.5], [0.5, 1.0, -1.0], [-0.25, 3.0, 2.0]];

    #[test]
    fn three_steps_follow_the_formula() {
        let path = run(
            &mut Nesterov::new(0.1).with_momentum(0.8),
            START,
            &GRADIENTS,
        );
        // v ← μ v − η g; θ ← θ + μ v − η g, from v = 0
        let v1 = GRADIENTS[0].map(|g| 0.8 * 0.0 - 0.1 * g);
        let theta1 = zip(zip(START, v1, |t, v| t + 0.8 * v), GRADIENTS[0], |t, g| {
            t - 0.1 * g
        });
        let v2 = zip(v1, GRADIENTS[1], |v, g| 0.8 * v - 0.1 * g);
        let theta2 = zip(zip(theta1, v2, |t, v| t + 0.8 * v), GRADIENTS[1], |t, g| {
            t - 0.1 * g
        });
        let v3 = zip(v2, GRADIENTS[2], |v, g| 0.8 * v - 0.1 * g);
        let theta3 = zip(zip(theta2, v3, |t, v| t + 0.8 * v), GRADIENTS[2], |t, g| {
            t - 0.1 * g
        });
        // the first step, written out: θ − (1 + μ) η g
        assert_close(
            path[0],
            [
                0.5 - 1.8 * 0.1 * 1.0,
                -0.25 - 1.8 * 0.1 * -2.0,
                1.0 - 1.8 * 0.1 * 0.5,
            ],
        );
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
    }

    #[test]
    fn it_is_pytorchs_nesterov_in_buffer_form() {
        // PyTorch: b ← μ b + g; θ ← θ − η (g + μ b)
        let path = run(&mut Nesterov::new(0.1), START, &GRADIENTS);
        let b1 = GRADIENTS[0];
        let theta1 = zip(START, zip(GRADIENTS[0], b1, |g, b| g + 0.9 * b), |t, d| {
            t - 0.1 * d
        });
        let b2 = zip(b1, GRADIENTS[1], |b, g| 0.9 * b + g);
        let theta2 = zip(theta1, zip(GRADIENTS[1], b2, |g, b| g + 0.9 * b), |t, d| {
            t - 0.1 * d
        });
        let b3 = zip(b2, GRADIENTS[2], |b, g| 0.9 * b + g);
        let theta3 = zip(theta2, zip(GRADIENTS[2], b3, |g, b| g + 0.9 * b), |t, d| {
            t - 0.1 * d
        });
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
    }

    #[test]
    fn weight_decay_adds_lambda_theta_to_the_gradient() {
        let path = run(
            &mut Nesterov::new(0.1).with_weight_decay(0.01),
            START,
            &GRADIENTS,
        );
        // g' = g + λ θ; v ← 0.9 v − η g'; θ ← θ + 0.9 v − η g'
        let g1 = zip(GRADIENTS[0], START, |g, t| g + 0.01 * t);
        let v1 = g1.map(|g| 0.9 * 0.0 - 0.1 * g);
        let theta1 = zip(zip(START, v1, |t, v| t + 0.9 * v), g1, |t, g| t - 0.1 * g);
        let g2 = zip(GRADIENTS[1], theta1, |g, t| g + 0.01 * t);
        let v2 = zip(v1, g2, |v, g| 0.9 * v - 0.1 * g);
        let theta2 = zip(zip(theta1, v2, |t, v| t + 0.9 * v), g2, |t, g| t - 0.1 * g);
        let g3 = zip(GRADIENTS[2], theta2, |g, t| g + 0.01 * t);
        let v3 = zip(v2, g3, |v, g| 0.9 * v - 0.1 * g);
        let theta3 = zip(zip(theta2, v3, |t, v| t + 0.9 * v), g3, |t, g| t - 0.1 * g);
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
    }

    #[test]
    fn it_differs_from_heavy_ball_momentum_and_not_without_momentum() {
        let nesterov = run(&mut Nesterov::new(0.1), START, &GRADIENTS);
        let heavy = run(&mut Momentum::new(0.1), START, &GRADIENTS);
        assert_ne!(nesterov, heavy);
        let plain = run(
            &mut Nesterov::new(0.1).with_momentum(0.0),
            START,
            &GRADIENTS,
        );
        assert_eq!(plain, run(&mut Sgd::new(0.1), START, &GRADIENTS));
    }

    #[test]
    fn reset_starts_from_rest() {
        let mut optimizer = Nesterov::new(0.1);
        run(&mut optimizer, START, &GRADIENTS);
        optimizer.reset();
        assert_eq!(optimizer.velocity.len(), 0);
        assert_eq!(
            run(&mut optimizer, START, &GRADIENTS),
            run(&mut Nesterov::new(0.1), START, &GRADIENTS)
        );
    }

    #[test]
    fn fits_a_line() {
        assert_fits_line(Nesterov::new(0.02), 2000);
    }

    #[test]
    fn state_lives_on_the_heap_for_a_large_network() {
        let (optimizer, first) = step_big_on_a_small_stack(Nesterov::new(0.5));
        assert_eq!(optimizer.velocity.len(), 300 * 300 + 300);
        // v₁ = −0.5, θ₁ = 0.9 v₁ − 0.5; v₂ = 0.9 v₁ − 0.5, θ₂ = θ₁ + 0.9 v₂ − 0.5
        let v1 = -0.5;
        let theta1 = 0.9 * v1 - 0.5;
        let v2 = 0.9 * v1 - 0.5;
        assert_eq!(first, theta1 + 0.9 * v2 - 0.5);
    }
}
