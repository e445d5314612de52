//! Adagrad: per-parameter step sizes from the sum of squared gradients.

use super::{Optimizer, OptimizerState, State, decayed};
use crate::Scalar;
use crate::network::Trainable;
use crate::scalar::constant;

/// Adagrad (Duchi, Hazan & Singer, 2011): each parameter's step is scaled by
/// the root of the sum of its squared gradients so far,
///
/// ```text
/// G ← G + g²
/// θ ← θ − η g / (√G + ε)
/// ```
///
/// with `G` starting at zero (PyTorch's `Adagrad` with its defaults). With
/// [`with_weight_decay`](Adagrad::with_weight_decay), `g` is replaced by
/// `g + λ θ`.
///
/// The sums are one flat vector on the heap, allocated on the first step.
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::optim::Adagrad;
///
/// network! { struct Net<f64> { input: 1, out: dense(1) } }
///
/// let mut net = Net::zeros();
/// let mut grads = Trainable::zero_gradients(&net);
/// grads.out.bias[0] = 3.0;
/// let mut adagrad = Adagrad::new(0.5).with_epsilon(0.0);
/// adagrad.step(&mut net, &grads); // G = 9:  b = −0.5 · 3 / 3
/// adagrad.step(&mut net, &grads); // G = 18: b −= 0.5 · 3 / √18
/// assert!((net.out.bias[0] - (-0.5 - 0.5 * 3.0 / 18_f64.sqrt())).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Adagrad<T> {
    /// The step size `η`.
    pub learning_rate: T,
    /// The `ε` added to the denominator, 1e-10 by default.
    pub epsilon: T,
    /// The L2 penalty `λ` added to the gradient as `λ θ`; 0 by default.
    pub weight_decay: T,
    sums: State<T, 1>,
}

impl<T: Scalar> Adagrad<T> {
    /// Adagrad with step size `learning_rate`, `ε = 1e-10` and no weight
    /// decay.
    ///
    /// ```
    /// use staticnet::optim::Adagrad;
    ///
    /// let a = Adagrad::new(0.01_f64);
    /// assert_eq!((a.learning_rate, a.epsilon, a.weight_decay), (0.01, 1e-10, 0.0));
    /// ```
    #[must_use]
    pub fn new(learning_rate: T) -> Self {
        Self {
            learning_rate,
            epsilon: constant(1e-10),
            weight_decay: T::zero(),
            sums: State::new(),
        }
    }

    /// Sets `ε`, which keeps the first steps of parameters with tiny
    /// gradients finite.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Adagrad;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut grads = Trainable::zero_gradients(&net);
    /// grads.out.bias[0] = 1.0;
    /// Adagrad::new(0.5).with_epsilon(1.0).step(&mut net, &grads);
    /// assert_eq!(net.out.bias[0], -0.5 * 1.0 / (1.0 + 1.0));
    /// ```
    #[must_use]
    pub fn with_epsilon(mut self, epsilon: T) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Adds the L2 penalty `λ θ` to the gradient before each update
    /// (PyTorch's `weight_decay`); the penalty enters the sum of squares
    /// too.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Adagrad;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// net.out.weight[0] = 2.0;
    /// let grads = Trainable::zero_gradients(&net);
    /// Adagrad::new(0.1).with_epsilon(0.0).with_weight_decay(0.25).step(&mut net, &grads);
    /// // g = 0 + 0.25 · 2 = 0.5, G = 0.25: w = 2 − 0.1 · 0.5 / 0.5
    /// assert_eq!(net.out.weight[0], 2.0 - 0.1);
    /// ```
    #[must_use]
    pub fn with_weight_decay(mut self, weight_decay: T) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Forgets (and frees) the sums of squared gradients.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Adagrad;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut grads = Trainable::zero_gradients(&net);
    /// grads.out.bias[0] = 2.0;
    /// let mut adagrad = Adagrad::new(0.5).with_epsilon(0.0);
    /// adagrad.step(&mut net, &grads);
    /// adagrad.reset();
    /// adagrad.step(&mut net, &grads);
    /// // two first steps: −0.5 · 2 / 2 each
    /// assert_eq!(net.out.bias[0], -1.0);
    /// ```
    pub fn reset(&mut self) {
        self.sums.clear();
    }
}

impl<T: Scalar> Optimizer<T> for Adagrad<T> {
    fn step<N: Trainable<Scalar = T>>(&mut self, network: &mut N, gradients: &N::Gradients) {
        let (rate, epsilon, decay) = (self.learning_rate, self.epsilon, self.weight_decay);
        self.sums.prepare(N::PARAMETER_COUNT);
        self.sums.walk(network, gradients, |theta, grad, [sums]| {
            for ((t, g), sum) in theta.iter_mut().zip(grad).zip(sums) {
                let g = decayed(*g, *t, decay);
                *sum += g * g;
                *t -= rate * g / (sum.sqrt() + epsilon);
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
        self.sums.state("adagrad", 0, ["sum_of_squares"])
    }

    fn restore_state(&mut self, state: OptimizerState<T>) -> crate::Result<()> {
        self.sums
            .restore(state, "adagrad", ["sum_of_squares"])
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{
        assert_close, assert_fits_line, assert_within, run, step_big_on_a_small_stack, zip,
    };

    const START: [f64; 3] = [0.5, -0.25, 1.0];
    const GRADIENTS: [[f64; 3]; 3] = [[1.0, -2.0, 0.5], [0.5, 1.0, -1.0], [-0.25, 3.0, 2.0]];

    #[test]
    fn three_steps_follow_the_formula() {
        let mut optimizer = Adagrad::new(0.1).with_epsilon(1e-3);
        let path = run(&mut optimizer, START, &GRADIENTS);
        // G ← G + g²; θ ← θ − η g / (√G + ε), from G = 0
        let s1 = GRADIENTS[0].map(|g| 0.0 + g * g);
        let theta1 = [
            0.5 - 0.1 * 1.0 / ((1.0_f64 * 1.0).sqrt() + 1e-3),
            -0.25 - 0.1 * -2.0 / ((2.0_f64 * 2.0).sqrt() + 1e-3),
            1.0 - 0.1 * 0.5 / ((0.5_f64 * 0.5).sqrt() + 1e-3),
        ];
        let s2 = zip(s1, GRADIENTS[1], |s, g| s + g * g);
        let step2 = zip(GRADIENTS[1], s2, |g, s| 0.1 * g / (s.sqrt() + 1e-3));
        let theta2 = zip(theta1, step2, |t, d| t - d);
        let s3 = zip(s2, GRADIENTS[2], |s, g| s + g * g);
        let step3 = zip(GRADIENTS[2], s3, |g, s| 0.1 * g / (s.sqrt() + 1e-3));
        let theta3 = zip(theta2, step3, |t, d| t - d);
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
        assert_close(optimizer.sums.vectors[0].clone().try_into().unwrap(), s3);
    }

    #[test]
    fn weight_decay_adds_lambda_theta_to_the_gradient() {
        let path = run(
            &mut Adagrad::new(0.1).with_weight_decay(0.01),
            START,
            &GRADIENTS,
        );
        // g' = g + λ θ; G ← G + g'²; θ ← θ − η g' / (√G + 1e-10)
        let g1 = zip(GRADIENTS[0], START, |g, t| g + 0.01 * t);
        let s1 = g1.map(|g| g * g);
        let theta1 = zip(
            START,
            zip(g1, s1, |g, s| 0.1 * g / (s.sqrt() + 1e-10)),
            |t, d| t - d,
        );
        let g2 = zip(GRADIENTS[1], theta1, |g, t| g + 0.01 * t);
        let s2 = zip(s1, g2, |s, g| s + g * g);
        let theta2 = zip(
            theta1,
            zip(g2, s2, |g, s| 0.1 * g / (s.sqrt() + 1e-10)),
            |t, d| t - d,
        );
        let g3 = zip(GRADIENTS[2], theta2, |g, t| g + 0.01 * t);
        let s3 = zip(s2, g3, |s, g| s + g * g);
        let theta3 = zip(
            theta2,
            zip(g3, s3, |g, s| 0.1 * g / (s.sqrt() + 1e-10)),
            |t, d| t - d,
        );
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
    }

    #[test]
    fn the_first_step_is_the_learning_rate_times_the_sign() {
        let path = run(&mut Adagrad::new(0.1), START, &GRADIENTS[..1]);
        // g / √(g²) = sign(g), up to ε
        assert_within(path[0], [0.5 - 0.1, -0.25 + 0.1, 1.0 - 0.1], 1e-9);
    }

    #[test]
    fn reset_starts_afresh() {
        let mut optimizer = Adagrad::new(0.1);
        run(&mut optimizer, START, &GRADIENTS);
        optimizer.reset();
        assert_eq!(optimizer.sums.len(), 0);
        assert_eq!(
            run(&mut optimizer, START, &GRADIENTS),
            run(&mut Adagrad::new(0.1), START, &GRADIENTS)
        );
    }

    #[test]
    fn fits_a_line() {
        assert_fits_line(Adagrad::new(0.5), 3000);
    }

    #[test]
    fn state_lives_on_the_heap_for_a_large_network() {
        let (optimizer, first) = step_big_on_a_small_stack(Adagrad::new(0.5).with_epsilon(0.0));
        assert_eq!(optimizer.sums.len(), 300 * 300 + 300);
        // G = 1, then 2: θ = −0.5 · 1 / 1 − 0.5 · 1 / √2
        assert_eq!(first, -0.5 - 0.5 / 2_f64.sqrt());
    }
}
