//! RMSProp: per-parameter step sizes from a moving average of squared
//! gradients.

use super::{Optimizer, OptimizerState, State, decayed};
use crate::Scalar;
use crate::network::Trainable;
use crate::scalar::constant;

/// RMSProp (Tieleman & Hinton, 2012): each parameter's step is scaled by the
/// root of an exponential moving average of its squared gradients,
///
/// ```text
/// E ← ρ E + (1 − ρ) g²
/// θ ← θ − η g / (√E + ε)
/// ```
///
/// with `E` starting at zero, as PyTorch's `RMSprop` (whose `alpha` is `ρ`)
/// without momentum or centering. With
/// [`with_weight_decay`](RmsProp::with_weight_decay), `g` is replaced by
/// `g + λ θ`.
///
/// The averages are one flat vector on the heap, allocated on the first
/// step.
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::optim::RmsProp;
///
/// network! { struct Net<f64> { input: 1, out: dense(1) } }
///
/// let mut net = Net::zeros();
/// let mut grads = Trainable::zero_gradients(&net);
/// grads.out.bias[0] = 2.0;
/// let mut rmsprop = RmsProp::new(0.01).with_decay(0.75).with_epsilon(0.0);
/// rmsprop.step(&mut net, &grads);
/// // E = 0.25 · 2² = 1: b = −0.01 · 2 / 1
/// assert_eq!(net.out.bias[0], -0.02);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RmsProp<T> {
    /// The step size `η`.
    pub learning_rate: T,
    /// The decay `ρ` of the moving average, 0.99 by default.
    pub decay: T,
    /// The `ε` added to the denominator, 1e-8 by default.
    pub epsilon: T,
    /// The L2 penalty `λ` added to the gradient as `λ θ`; 0 by default.
    pub weight_decay: T,
    averages: State<T, 1>,
}

impl<T: Scalar> RmsProp<T> {
    /// RMSProp with step size `learning_rate` and PyTorch's defaults:
    /// `ρ = 0.99`, `ε = 1e-8`, no weight decay.
    ///
    /// ```
    /// use staticnet::optim::RmsProp;
    ///
    /// let r = RmsProp::new(0.01_f64);
    /// assert_eq!((r.learning_rate, r.decay, r.epsilon, r.weight_decay), (0.01, 0.99, 1e-8, 0.0));
    /// ```
    #[must_use]
    pub fn new(learning_rate: T) -> Self {
        Self {
            learning_rate,
            decay: constant(0.99),
            epsilon: constant(1e-8),
            weight_decay: T::zero(),
            averages: State::new(),
        }
    }

    /// Sets the decay `ρ` of the moving average (PyTorch's `alpha`).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::RmsProp;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut grads = Trainable::zero_gradients(&net);
    /// grads.out.bias[0] = 1.0;
    /// RmsProp::new(0.1).with_decay(0.0).with_epsilon(0.0).step(&mut net, &grads);
    /// // ρ = 0: E = g², so the step is η · sign(g)
    /// assert_eq!(net.out.bias[0], -0.1);
    /// ```
    #[must_use]
    pub fn with_decay(mut self, decay: T) -> Self {
        self.decay = decay;
        self
    }

    /// Sets `ε`, added to `√E`.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::RmsProp;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut grads = Trainable::zero_gradients(&net);
    /// grads.out.bias[0] = 1.0;
    /// RmsProp::new(0.1).with_decay(0.0).with_epsilon(1.0).step(&mut net, &grads);
    /// assert_eq!(net.out.bias[0], -0.1 * 1.0 / (1.0 + 1.0));
    /// ```
    #[must_use]
    pub fn with_epsilon(mut self, epsilon: T) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Adds the L2 penalty `λ θ` to the gradient before each update
    /// (PyTorch's `weight_decay`); the penalty enters the moving average
    /// too.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::RmsProp;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// net.out.weight[0] = 4.0;
    /// let grads = Trainable::zero_gradients(&net);
    /// let mut rmsprop = RmsProp::new(0.1).with_decay(0.0).with_epsilon(0.0).with_weight_decay(0.5);
    /// rmsprop.step(&mut net, &grads);
    /// // g = 0 + 0.5 · 4 = 2, E = 4: w = 4 − 0.1 · 2 / 2
    /// assert_eq!(net.out.weight[0], 4.0 - 0.1);
    /// ```
    #[must_use]
    pub fn with_weight_decay(mut self, weight_decay: T) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Forgets (and frees) the moving averages.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::RmsProp;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut grads = Trainable::zero_gradients(&net);
    /// grads.out.bias[0] = 1.0;
    /// let mut rmsprop = RmsProp::new(0.1).with_decay(0.75).with_epsilon(0.0);
    /// rmsprop.step(&mut net, &grads);
    /// rmsprop.reset();
    /// rmsprop.step(&mut net, &grads);
    /// // two first steps: E = 0.25, −0.1 · 1 / 0.5 each
    /// assert_eq!(net.out.bias[0], -0.4);
    /// ```
    pub fn reset(&mut self) {
        self.averages.clear();
    }
}

impl<T: Scalar> Optimizer<T> for RmsProp<T> {
    fn step<N: Trainable<Scalar = T>>(&mut self, network: &mut N, gradients: &N::Gradients) {
        let (rate, rho, epsilon, decay) = (
            self.learning_rate,
            self.decay,
            self.epsilon,
            self.weight_decay,
        );
        let one_minus_rho = T::one() - rho;
        self.averages.prepare(N::PARAMETER_COUNT);
        self.averages
            .walk(network, gradients, |theta, grad, [averages]| {
                for ((t, g), e) in theta.iter_mut().zip(grad).zip(averages) {
                    let g = decayed(*g, *t, decay);
                    *e = rho * *e + one_minus_rho * g * g;
                    *t -= rate * g / (e.sqrt() + epsilon);
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
        self.averages.state("rmsprop", 0, ["mean_square"])
    }

    fn restore_state(&mut self, state: OptimizerState<T>) -> crate::Result<()> {
        self.averages
            .restore(state, "rmsprop", ["mean_square"])
            .map(drop)
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
        let mut optimizer = RmsProp::new(0.01).with_decay(0.9).with_epsilon(1e-3);
        let path = run(&mut optimizer, START, &GRADIENTS);
        // E ← ρ E + (1 − ρ) g²; θ ← θ − η g / (√E + ε), from E = 0
        let e1 = GRADIENTS[0].map(|g| 0.9 * 0.0 + (1.0 - 0.9) * g * g);
        let theta1 = [
            0.5 - 0.01 * 1.0 / ((0.1_f64 * 1.0).sqrt() + 1e-3),
            -0.25 - 0.01 * -2.0 / ((0.1_f64 * 4.0).sqrt() + 1e-3),
            1.0 - 0.01 * 0.5 / ((0.1_f64 * 0.25).sqrt() + 1e-3),
        ];
        let e2 = zip(e1, GRADIENTS[1], |e, g| 0.9 * e + (1.0 - 0.9) * g * g);
        let theta2 = zip(
            theta1,
            zip(GRADIENTS[1], e2, |g, e| 0.01 * g / (e.sqrt() + 1e-3)),
            |t, d| t - d,
        );
        let e3 = zip(e2, GRADIENTS[2], |e, g| 0.9 * e + (1.0 - 0.9) * g * g);
        let theta3 = zip(
            theta2,
            zip(GRADIENTS[2], e3, |g, e| 0.01 * g / (e.sqrt() + 1e-3)),
            |t, d| t - d,
        );
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
        assert_close(
            optimizer.averages.vectors[0].clone().try_into().unwrap(),
            e3,
        );
    }

    #[test]
    fn the_defaults_are_pytorchs() {
        let path = run(&mut RmsProp::new(0.01), START, &GRADIENTS[..2]);
        // ρ = 0.99, ε = 1e-8
        let e1 = GRADIENTS[0].map(|g| 0.01 * g * g);
        let theta1 = zip(
            START,
            zip(GRADIENTS[0], e1, |g, e| 0.01 * g / (e.sqrt() + 1e-8)),
            |t, d| t - d,
        );
        let e2 = zip(e1, GRADIENTS[1], |e, g| 0.99 * e + 0.01 * g * g);
        let theta2 = zip(
            theta1,
            zip(GRADIENTS[1], e2, |g, e| 0.01 * g / (e.sqrt() + 1e-8)),
            |t, d| t - d,
        );
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
    }

    #[test]
    fn weight_decay_adds_lambda_theta_to_the_gradient() {
        let path = run(
            &mut RmsProp::new(0.01).with_weight_decay(0.1),
            START,
            &GRADIENTS,
        );
        // g' = g + λ θ; E ← 0.99 E + 0.01 g'²; θ ← θ − η g' / (√E + 1e-8)
        let g1 = zip(GRADIENTS[0], START, |g, t| g + 0.1 * t);
        let e1 = g1.map(|g| 0.99 * 0.0 + 0.01 * g * g);
        let theta1 = zip(
            START,
            zip(g1, e1, |g, e| 0.01 * g / (e.sqrt() + 1e-8)),
            |t, d| t - d,
        );
        let g2 = zip(GRADIENTS[1], theta1, |g, t| g + 0.1 * t);
        let e2 = zip(e1, g2, |e, g| 0.99 * e + 0.01 * g * g);
        let theta2 = zip(
            theta1,
            zip(g2, e2, |g, e| 0.01 * g / (e.sqrt() + 1e-8)),
            |t, d| t - d,
        );
        let g3 = zip(GRADIENTS[2], theta2, |g, t| g + 0.1 * t);
        let e3 = zip(e2, g3, |e, g| 0.99 * e + 0.01 * g * g);
        let theta3 = zip(
            theta2,
            zip(g3, e3, |g, e| 0.01 * g / (e.sqrt() + 1e-8)),
            |t, d| t - d,
        );
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
    }

    #[test]
    fn reset_starts_afresh() {
        let mut optimizer = RmsProp::new(0.01);
        run(&mut optimizer, START, &GRADIENTS);
        optimizer.reset();
        assert_eq!(optimizer.averages.len(), 0);
        assert_eq!(
            run(&mut optimizer, START, &GRADIENTS),
            run(&mut RmsProp::new(0.01), START, &GRADIENTS)
        );
    }

    #[test]
    fn fits_a_line() {
        assert_fits_line(RmsProp::new(0.01), 3000);
    }

    #[test]
    fn state_lives_on_the_heap_for_a_large_network() {
        let (optimizer, first) =
            step_big_on_a_small_stack(RmsProp::new(0.5).with_decay(0.75).with_epsilon(0.0));
        assert_eq!(optimizer.averages.len(), 300 * 300 + 300);
        // E = 0.25, then 0.75 · 0.25 + 0.25: θ = −0.5 / 0.5 − 0.5 / √0.4375
        assert_eq!(
            first,
            -0.5 / 0.25_f64.sqrt() - 0.5 / (0.75_f64 * 0.25 + 0.25).sqrt()
        );
    }
}
