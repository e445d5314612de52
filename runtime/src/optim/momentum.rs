//! Gradient descent with (heavy-ball) momentum.

use super::{Optimizer, OptimizerState, State, decayed};
use crate::Scalar;
use crate::network::Trainable;
use crate::scalar::constant;

/// Gradient descent with momentum (Polyak's heavy ball), in the form of
/// Sutskever et al. (2013):
///
/// ```text
/// v ← μ v − η g
/// θ ← θ + v
/// ```
///
/// with the velocity `v` starting at zero. With a constant learning rate this
/// is the same sequence of parameters as PyTorch's `SGD(momentum = μ)`. With
/// [`with_weight_decay`](Momentum::with_weight_decay), `g` is replaced by
/// `g + λ θ`.
///
/// The velocity is one flat vector on the heap, allocated on the first step.
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::optim::Momentum;
///
/// network! { struct Net<f64> { input: 1, out: dense(1) } }
///
/// let mut net = Net::zeros();
/// let mut grads = Trainable::zero_gradients(&net);
/// grads.out.bias[0] = 1.0;
/// let mut momentum = Momentum::new(0.1).with_momentum(0.5);
/// momentum.step(&mut net, &grads); // v = −0.1,               b = −0.1
/// momentum.step(&mut net, &grads); // v = 0.5 · −0.1 − 0.1,  b = −0.1 + v
/// assert!((net.out.bias[0] - (-0.1 + (0.5 * -0.1 - 0.1))).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Momentum<T> {
    /// The step size `η`.
    pub learning_rate: T,
    /// The momentum `μ`, 0.9 by default.
    pub momentum: T,
    /// The L2 penalty `λ` added to the gradient as `λ θ`; 0 by default.
    pub weight_decay: T,
    velocity: State<T, 1>,
}

impl<T: Scalar> Momentum<T> {
    /// Momentum with step size `learning_rate`, `μ = 0.9` and no weight
    /// decay.
    ///
    /// ```
    /// use staticnet::optim::Momentum;
    ///
    /// let m = Momentum::new(0.01_f32);
    /// assert_eq!((m.learning_rate, m.momentum, m.weight_decay), (0.01, 0.9, 0.0));
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
    /// use staticnet::optim::Momentum;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let (mut a, mut b) = (Net::from_seed(1), Net::from_seed(1));
    /// let mut grads = Trainable::zero_gradients(&a);
    /// grads.out.weight[0] = 0.5;
    /// let (mut heavy, mut plain) = (Momentum::new(0.1).with_momentum(0.0), Sgd::new(0.1));
    /// for _ in 0..3 {
    ///     heavy.step(&mut a, &grads);
    ///     plain.step(&mut b, &grads);
    /// }
    /// assert_eq!(a.out.weight, b.out.weight);
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
    /// use staticnet::optim::Momentum;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// net.out.weight[0] = 2.0;
    /// let grads = Trainable::zero_gradients(&net);
    /// Momentum::new(0.1).with_weight_decay(0.5).step(&mut net, &grads);
    /// // v = −0.1 · (0 + 0.5 · 2), w = 2 + v
    /// assert_eq!(net.out.weight[0], 2.0 + -0.1 * (0.0 + 0.5 * 2.0));
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
    /// use staticnet::optim::Momentum;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut grads = Trainable::zero_gradients(&net);
    /// grads.out.bias[0] = 1.0;
    /// let mut momentum = Momentum::new(0.1);
    /// momentum.step(&mut net, &grads);
    /// momentum.reset();
    /// momentum.step(&mut net, &grads);
    /// // two steps from rest: −0.1 each
    /// assert_eq!(net.out.bias[0], -0.1 + -0.1);
    /// ```
    pub fn reset(&mut self) {
        self.velocity.clear();
    }
}

impl<T: Scalar> Optimizer<T> for Momentum<T> {
    fn step<N: Trainable<Scalar = T>>(&mut self, network: &mut N, gradients: &N::Gradients) {
        let (rate, mu, decay) = (self.learning_rate, self.momentum, self.weight_decay);
        self.velocity.prepare(N::PARAMETER_COUNT);
        self.velocity
            .walk(network, gradients, |theta, grad, [velocity]| {
                for ((t, g), v) in theta.iter_mut().zip(grad).zip(velocity) {
                    *v = mu * *v - rate * decayed(*g, *t, decay);
                    *t += *v;
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
        self.velocity.state("momentum", 0, ["velocity"])
    }

    fn restore_state(&mut self, state: OptimizerState<T>) -> crate::Result<()> {
        self.velocity
            .restore(state, "momentum", ["velocity"])
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Sgd;
    use crate::optim::testing::{
        Net, assert_close, assert_fits_line, gradients, parameters, run, set_parameters,
        step_big_on_a_small_stack, zip,
    };

    const START: [f64; 3] = [0.5, -0.25, 1.0];
    const GRADIENTS: [[f64; 3]; 3] = [[1.0, -2.0, 0.5], [0.5, 1.0, -1.0], [-0.25, 3.0, 2.0]];

    #[test]
    fn three_steps_follow_the_formula() {
        let mut optimizer = Momentum::new(0.1).with_momentum(0.8);
        let path = run(&mut optimizer, START, &GRADIENTS);
        // v ← μ v − η g; θ ← θ + v, from v = 0
        let v1 = GRADIENTS[0].map(|g| 0.8 * 0.0 - 0.1 * g);
        let theta1 = zip(START, v1, |t, v| t + v);
        let v2 = zip(v1, GRADIENTS[1], |v, g| 0.8 * v - 0.1 * g);
        let theta2 = zip(theta1, v2, |t, v| t + v);
        let v3 = zip(v2, GRADIENTS[2], |v, g| 0.8 * v - 0.1 * g);
        let theta3 = zip(theta2, v3, |t, v| t + v);
        assert_close(
            path[0],
            [0.5 - 0.1 * 1.0, -0.25 - 0.1 * -2.0, 1.0 - 0.1 * 0.5],
        );
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
        assert_eq!(optimizer.velocity.vectors[0].len(), 3);
        assert_close(
            optimizer.velocity.vectors[0].clone().try_into().unwrap(),
            v3,
        );
    }

    #[test]
    fn weight_decay_adds_lambda_theta_to_the_gradient() {
        let path = run(
            &mut Momentum::new(0.1).with_weight_decay(0.01),
            START,
            &GRADIENTS,
        );
        // v ← 0.9 v − η (g + λ θ); θ ← θ + v
        let v1 = zip(START, GRADIENTS[0], |t, g| 0.9 * 0.0 - 0.1 * (g + 0.01 * t));
        let theta1 = zip(START, v1, |t, v| t + v);
        let g2 = zip(theta1, GRADIENTS[1], |t, g| g + 0.01 * t);
        let v2 = zip(v1, g2, |v, g| 0.9 * v - 0.1 * g);
        let theta2 = zip(theta1, v2, |t, v| t + v);
        let g3 = zip(theta2, GRADIENTS[2], |t, g| g + 0.01 * t);
        let v3 = zip(v2, g3, |v, g| 0.9 * v - 0.1 * g);
        let theta3 = zip(theta2, v3, |t, v| t + v);
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
    }

    #[test]
    fn zero_momentum_is_sgd() {
        let a = run(
            &mut Momentum::new(0.1).with_momentum(0.0),
            START,
            &GRADIENTS,
        );
        let b = run(&mut Sgd::new(0.1), START, &GRADIENTS);
        assert_eq!(a, b);
    }

    #[test]
    fn reset_and_a_new_parameter_count_start_from_rest() {
        let mut optimizer = Momentum::new(0.1);
        run(&mut optimizer, START, &GRADIENTS);
        optimizer.reset();
        assert!(optimizer.velocity.vectors[0].is_empty());
        assert_eq!(
            run(&mut optimizer, START, &GRADIENTS),
            run(&mut Momentum::new(0.1), START, &GRADIENTS)
        );

        // a network of another size: the velocity is reallocated as zeros
        crate::network! { struct Other<f64> { input: 3, out: dense(1) } }
        let mut other = Other::zeros();
        let mut grads = Trainable::zero_gradients(&other);
        grads.out.bias[0] = 1.0;
        optimizer.step(&mut other, &grads);
        assert_eq!(optimizer.velocity.vectors[0].len(), 4);
        assert_eq!(other.out.bias[0], -0.1 * 1.0);
        // and back
        let mut net = Net::zeros();
        set_parameters(&mut net, START);
        optimizer.step(&mut net, &gradients(GRADIENTS[0]));
        assert_close(
            parameters(&net),
            run(&mut Momentum::new(0.1), START, &GRADIENTS[..1])[0],
        );
    }

    #[test]
    fn fits_a_line() {
        assert_fits_line(Momentum::new(0.02), 2000);
    }

    #[test]
    fn state_lives_on_the_heap_for_a_large_network() {
        let (optimizer, first) = step_big_on_a_small_stack(Momentum::new(0.5));
        assert_eq!(optimizer.velocity.vectors[0].len(), 300 * 300 + 300);
        // v₁ = −0.5, v₂ = 0.9 · −0.5 − 0.5
        assert_eq!(first, -0.5 + (0.9 * -0.5 - 0.5));
    }
}
