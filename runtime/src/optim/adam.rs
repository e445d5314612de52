//! Adam: moving averages of the gradient and its square, bias-corrected.

use super::{Optimizer, OptimizerState, State, decayed};
use crate::Scalar;
use crate::network::Trainable;
use crate::scalar::constant;

/// Adam (Kingma & Ba, 2015, Algorithm 1): with `t` the number of steps
/// taken, counting this one,
///
/// ```text
/// m ← β₁ m + (1 − β₁) g
/// v ← β₂ v + (1 − β₂) g²
/// m̂ = m / (1 − β₁ᵗ)
/// v̂ = v / (1 − β₂ᵗ)
/// θ ← θ − η m̂ / (√v̂ + ε)
/// ```
///
/// with `m` and `v` starting at zero; the defaults are the paper's and
/// PyTorch's (`β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`).
///
/// [`with_weight_decay`](Adam::with_weight_decay) is an L2 penalty, as
/// PyTorch's `Adam(weight_decay = λ)`: `g` is replaced by `g + λ θ` before
/// the moments are updated, so the penalty is divided by `√v̂` like the rest
/// of the gradient and parameters with large gradients are barely decayed.
/// [`AdamW`](super::AdamW) decouples the decay from the gradient instead.
///
/// The two moments are two flat vectors on the heap, allocated on the first
/// step.
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::optim::Adam;
///
/// network! { struct Net<f64> { input: 1, out: dense(1) } }
///
/// let mut net = Net::zeros();
/// let mut grads = Trainable::zero_gradients(&net);
/// grads.out.bias[0] = 0.3;
/// let mut adam = Adam::new(0.01);
/// adam.step(&mut net, &grads);
/// // m = (1 − β₁) g and v = (1 − β₂) g², then the bias corrections
/// let (m, v) = (0.1 * 0.3, 0.001 * 0.3 * 0.3);
/// let expected = -0.01 * (m / (1.0 - 0.9)) / ((v / (1.0 - 0.999_f64)).sqrt() + 1e-8);
/// assert!((net.out.bias[0] - expected).abs() < 1e-15);
/// // m̂ = g and v̂ = g²: the first step is η g / (|g| + ε) ≈ η
/// assert!((net.out.bias[0] + 0.01).abs() < 1e-9);
/// assert_eq!(net.out.weight[0], 0.0); // zero gradient, no move
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Adam<T> {
    /// The step size `η`.
    pub learning_rate: T,
    /// The decay `β₁` of the first moment, 0.9 by default.
    pub beta1: T,
    /// The decay `β₂` of the second moment, 0.999 by default.
    pub beta2: T,
    /// The `ε` added to `√v̂`, 1e-8 by default.
    pub epsilon: T,
    /// The L2 penalty `λ` added to the gradient as `λ θ`; 0 by default.
    pub weight_decay: T,
    pub(super) moments: Moments<T>,
}

impl<T: Scalar> Adam<T> {
    /// Adam with step size `learning_rate`, `β₁ = 0.9`, `β₂ = 0.999`,
    /// `ε = 1e-8` and no weight decay.
    ///
    /// ```
    /// use staticnet::optim::Adam;
    ///
    /// let adam = Adam::new(0.001_f64);
    /// assert_eq!((adam.learning_rate, adam.beta1, adam.beta2), (0.001, 0.9, 0.999));
    /// assert_eq!((adam.epsilon, adam.weight_decay), (1e-8, 0.0));
    /// ```
    #[must_use]
    pub fn new(learning_rate: T) -> Self {
        Self {
            learning_rate,
            beta1: constant(0.9),
            beta2: constant(0.999),
            epsilon: constant(1e-8),
            weight_decay: T::zero(),
            moments: Moments::new(),
        }
    }

    /// Sets the decays `β₁` and `β₂` of the two moments.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Adam;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut grads = Trainable::zero_gradients(&net);
    /// let mut adam = Adam::new(0.1).with_betas(0.5, 0.5).with_epsilon(0.0);
    /// grads.out.bias[0] = 2.0;
    /// adam.step(&mut net, &grads);
    /// grads.out.bias[0] = -2.0;
    /// adam.step(&mut net, &grads);
    /// // step 2: m = 0.5 · 1 − 0.5 · 2 = −0.5, m̂ = −0.5 / 0.75;
    /// //         v = 0.5 · 2 + 0.5 · 4 = 3,     v̂ = 3 / 0.75
    /// let second = -0.1 * (-0.5 / 0.75) / (3.0_f64 / 0.75).sqrt();
    /// assert!((net.out.bias[0] - (-0.1 + second)).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn with_betas(mut self, beta1: T, beta2: T) -> Self {
        self.beta1 = beta1;
        self.beta2 = beta2;
        self
    }

    /// Sets `ε`, added to `√v̂`.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Adam;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut grads = Trainable::zero_gradients(&net);
    /// grads.out.bias[0] = 1.0;
    /// Adam::new(0.1).with_epsilon(1.0).step(&mut net, &grads);
    /// // m̂ = 1, v̂ = 1: b = −0.1 · 1 / (1 + 1)
    /// assert_eq!(net.out.bias[0], -0.05);
    /// ```
    #[must_use]
    pub fn with_epsilon(mut self, epsilon: T) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Adds the L2 penalty `λ θ` to the gradient before the moments are
    /// updated (PyTorch's `Adam(weight_decay = λ)`; see [`AdamW`] for the
    /// decoupled form).
    ///
    /// [`AdamW`]: super::AdamW
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Adam;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// net.out.weight[0] = 2.0;
    /// let grads = Trainable::zero_gradients(&net);
    /// Adam::new(0.1).with_weight_decay(1e-3).step(&mut net, &grads);
    /// // g = 1e-3 · 2: the first step normalises it to η · g / (|g| + ε) ≈ η,
    /// // however small λ is
    /// let expected = 2.0 - 0.1 * 2e-3 / (2e-3 + 1e-8);
    /// assert!((net.out.weight[0] - expected).abs() < 1e-12);
    /// assert!((net.out.weight[0] - (2.0 - 0.1)).abs() < 1e-6);
    /// ```
    #[must_use]
    pub fn with_weight_decay(mut self, weight_decay: T) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// The number of steps taken since the moments were allocated: the `t`
    /// of the last bias correction.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Adam;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let grads = Trainable::zero_gradients(&net);
    /// let mut adam = Adam::new(0.1);
    /// assert_eq!(adam.steps(), 0);
    /// adam.step(&mut net, &grads);
    /// adam.step(&mut net, &grads);
    /// assert_eq!(adam.steps(), 2);
    /// ```
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.moments.steps
    }

    /// Forgets (and frees) the moments and the step count.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Adam;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let grads = Trainable::zero_gradients(&net);
    /// let mut adam = Adam::new(0.1);
    /// adam.step(&mut net, &grads);
    /// adam.reset();
    /// assert_eq!(adam.steps(), 0);
    /// ```
    pub fn reset(&mut self) {
        self.moments.clear();
    }
}

impl<T: Scalar> Optimizer<T> for Adam<T> {
    fn step<N: Trainable<Scalar = T>>(&mut self, network: &mut N, gradients: &N::Gradients) {
        let rule = Rule {
            learning_rate: self.learning_rate,
            beta1: self.beta1,
            beta2: self.beta2,
            epsilon: self.epsilon,
            l2: self.weight_decay,
            decoupled: T::zero(),
        };
        self.moments.step(network, gradients, &rule);
    }

    fn learning_rate(&self) -> T {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, rate: T) {
        self.learning_rate = rate;
    }

    fn state(&self) -> OptimizerState<T> {
        self.moments.state("adam")
    }

    fn restore_state(&mut self, state: OptimizerState<T>) -> crate::Result<()> {
        self.moments.restore("adam", state)
    }
}

/// The hyper-parameters of one Adam or AdamW step.
#[derive(Clone, Copy)]
pub(super) struct Rule<T> {
    pub(super) learning_rate: T,
    pub(super) beta1: T,
    pub(super) beta2: T,
    pub(super) epsilon: T,
    /// Added to the gradient as `λ θ` (Adam's L2 penalty).
    pub(super) l2: T,
    /// Subtracted from the parameters as `η λ θ` (AdamW's decay).
    pub(super) decoupled: T,
}

/// The state Adam and AdamW share: the first and second moments and the
/// step count.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Moments<T> {
    moments: State<T, 2>,
    steps: u64,
}

impl<T: Scalar> Moments<T> {
    pub(super) fn new() -> Self {
        Self {
            moments: State::new(),
            steps: 0,
        }
    }

    pub(super) fn clear(&mut self) {
        self.moments.clear();
        self.steps = 0;
    }

    pub(super) const fn steps(&self) -> u64 {
        self.steps
    }

    /// The moments as `m` and `v` with the step count, for a checkpoint.
    pub(super) fn state(&self, kind: &'static str) -> OptimizerState<T> {
        self.moments.state(kind, self.steps, ["m", "v"])
    }

    /// Restores what [`state`](Self::state) returned.
    pub(super) fn restore(
        &mut self,
        kind: &'static str,
        state: OptimizerState<T>,
    ) -> crate::Result<()> {
        self.steps = self.moments.restore(state, kind, ["m", "v"])?;
        Ok(())
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.moments.len()
    }

    pub(super) fn step<N: Trainable<Scalar = T>>(
        &mut self,
        network: &mut N,
        gradients: &N::Gradients,
        rule: &Rule<T>,
    ) {
        if self.moments.prepare(N::PARAMETER_COUNT) {
            self.steps = 0;
        }
        self.steps += 1;
        // beyond i32::MAX steps, βᵗ has long been 0 for any β < 1
        let exponent = i32::try_from(self.steps).unwrap_or(i32::MAX);
        let one = T::one();
        let correction1 = one - rule.beta1.powi(exponent);
        let correction2 = one - rule.beta2.powi(exponent);
        let (one_minus_beta1, one_minus_beta2) = (one - rule.beta1, one - rule.beta2);
        let Rule {
            learning_rate,
            beta1,
            beta2,
            epsilon,
            l2,
            decoupled,
        } = *rule;
        self.moments
            .walk(network, gradients, |theta, grad, [m, v]| {
                for (((t, g), m), v) in theta.iter_mut().zip(grad).zip(m).zip(v) {
                    let g = decayed(*g, *t, l2);
                    *m = beta1 * *m + one_minus_beta1 * g;
                    *v = beta2 * *v + one_minus_beta2 * g * g;
                    let m_hat = *m / correction1;
                    let v_hat = *v / correction2;
                    let mut update = m_hat / (v_hat.sqrt() + epsilon);
                    if decoupled != T::zero() {
                        update += decoupled * *t;
                    }
                    *t -= learning_rate * update;
                }
            });
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
    fn three_steps_follow_algorithm_1() {
        let mut optimizer = Adam::new(0.01);
        let path = run(&mut optimizer, START, &GRADIENTS);
        // m ← β₁ m + (1 − β₁) g; v ← β₂ v + (1 − β₂) g²;
        // θ ← θ − η (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
        let m1 = GRADIENTS[0].map(|g| 0.9 * 0.0 + 0.1 * g);
        let v1 = GRADIENTS[0].map(|g| 0.999 * 0.0 + 0.001 * g * g);
        let d1 = zip(m1, v1, |m, v| {
            (m / (1.0 - 0.9)) / ((v / (1.0 - 0.999)).sqrt() + 1e-8)
        });
        let theta1 = zip(START, d1, |t, d| t - 0.01 * d);
        let m2 = zip(m1, GRADIENTS[1], |m, g| 0.9 * m + 0.1 * g);
        let v2 = zip(v1, GRADIENTS[1], |v, g| 0.999 * v + 0.001 * g * g);
        let d2 = zip(m2, v2, |m, v| {
            (m / (1.0 - 0.9 * 0.9)) / ((v / (1.0 - 0.999 * 0.999)).sqrt() + 1e-8)
        });
        let theta2 = zip(theta1, d2, |t, d| t - 0.01 * d);
        let m3 = zip(m2, GRADIENTS[2], |m, g| 0.9 * m + 0.1 * g);
        let v3 = zip(v2, GRADIENTS[2], |v, g| 0.999 * v + 0.001 * g * g);
        let d3 = zip(m3, v3, |m, v| {
            (m / (1.0 - 0.9 * 0.9 * 0.9)) / ((v / (1.0 - 0.999 * 0.999 * 0.999)).sqrt() + 1e-8)
        });
        let theta3 = zip(theta2, d3, |t, d| t - 0.01 * d);
        // the first step moves each parameter by η · sign(g), up to ε
        assert_within(path[0], [0.5 - 0.01, -0.25 + 0.01, 1.0 - 0.01], 1e-9);
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
        assert_eq!(optimizer.steps(), 3);
        let [m, v] = &optimizer.moments.moments.vectors;
        assert_close(m.clone().try_into().unwrap(), m3);
        assert_close(v.clone().try_into().unwrap(), v3);
    }

    #[test]
    fn other_betas_and_epsilon() {
        let mut optimizer = Adam::new(0.1).with_betas(0.5, 0.75).with_epsilon(0.01);
        let path = run(&mut optimizer, START, &GRADIENTS);
        let m1 = GRADIENTS[0].map(|g| 0.5 * g);
        let v1 = GRADIENTS[0].map(|g| 0.25 * g * g);
        let theta1 = zip(
            START,
            zip(m1, v1, |m, v| {
                (m / (1.0 - 0.5)) / ((v / (1.0 - 0.75)).sqrt() + 0.01)
            }),
            |t, d| t - 0.1 * d,
        );
        let m2 = zip(m1, GRADIENTS[1], |m, g| 0.5 * m + 0.5 * g);
        let v2 = zip(v1, GRADIENTS[1], |v, g| 0.75 * v + 0.25 * g * g);
        let theta2 = zip(
            theta1,
            zip(m2, v2, |m, v| {
                (m / (1.0 - 0.5 * 0.5)) / ((v / (1.0 - 0.75 * 0.75)).sqrt() + 0.01)
            }),
            |t, d| t - 0.1 * d,
        );
        let m3 = zip(m2, GRADIENTS[2], |m, g| 0.5 * m + 0.5 * g);
        let v3 = zip(v2, GRADIENTS[2], |v, g| 0.75 * v + 0.25 * g * g);
        let theta3 = zip(
            theta2,
            zip(m3, v3, |m, v| {
                (m / (1.0 - 0.5 * 0.5 * 0.5)) / ((v / (1.0 - 0.75 * 0.75 * 0.75)).sqrt() + 0.01)
            }),
            |t, d| t - 0.1 * d,
        );
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
    }

    #[test]
    fn weight_decay_adds_lambda_theta_to_the_gradient() {
        let path = run(
            &mut Adam::new(0.01).with_weight_decay(0.1),
            START,
            &GRADIENTS,
        );
        // g' = g + λ θ, then Algorithm 1 with g'
        let g1 = zip(GRADIENTS[0], START, |g, t| g + 0.1 * t);
        let m1 = g1.map(|g| 0.1 * g);
        let v1 = g1.map(|g| 0.001 * g * g);
        let theta1 = zip(
            START,
            zip(m1, v1, |m, v| {
                (m / (1.0 - 0.9)) / ((v / (1.0 - 0.999)).sqrt() + 1e-8)
            }),
            |t, d| t - 0.01 * d,
        );
        let g2 = zip(GRADIENTS[1], theta1, |g, t| g + 0.1 * t);
        let m2 = zip(m1, g2, |m, g| 0.9 * m + 0.1 * g);
        let v2 = zip(v1, g2, |v, g| 0.999 * v + 0.001 * g * g);
        let theta2 = zip(
            theta1,
            zip(m2, v2, |m, v| {
                (m / (1.0 - 0.9 * 0.9)) / ((v / (1.0 - 0.999 * 0.999)).sqrt() + 1e-8)
            }),
            |t, d| t - 0.01 * d,
        );
        let g3 = zip(GRADIENTS[2], theta2, |g, t| g + 0.1 * t);
        let m3 = zip(m2, g3, |m, g| 0.9 * m + 0.1 * g);
        let v3 = zip(v2, g3, |v, g| 0.999 * v + 0.001 * g * g);
        let theta3 = zip(
            theta2,
            zip(m3, v3, |m, v| {
                (m / (1.0 - 0.9 * 0.9 * 0.9)) / ((v / (1.0 - 0.999 * 0.999 * 0.999)).sqrt() + 1e-8)
            }),
            |t, d| t - 0.01 * d,
        );
        assert_close(path[0], theta1);
        assert_close(path[1], theta2);
        assert_close(path[2], theta3);
    }

    #[test]
    fn reset_and_a_new_parameter_count_restart_the_step_count() {
        let mut optimizer = Adam::new(0.01);
        run(&mut optimizer, START, &GRADIENTS);
        optimizer.reset();
        assert_eq!((optimizer.steps(), optimizer.moments.len()), (0, 0));
        assert_eq!(
            run(&mut optimizer, START, &GRADIENTS),
            run(&mut Adam::new(0.01), START, &GRADIENTS)
        );

        crate::network! { struct Other<f64> { input: 3, out: dense(1) } }
        let mut other = Other::zeros();
        let mut grads = Trainable::zero_gradients(&other);
        grads.out.bias[0] = 0.5;
        optimizer.step(&mut other, &grads);
        // a first step again: −η · g / (|g| + ε)
        assert_eq!((optimizer.steps(), optimizer.moments.len()), (1, 4));
        let expected = -0.01 * (0.05 / (1.0 - 0.9)) / ((0.00025_f64 / (1.0 - 0.999)).sqrt() + 1e-8);
        assert!((other.out.bias[0] - expected).abs() < 1e-12);
    }

    #[test]
    fn fits_a_line() {
        assert_fits_line(Adam::new(0.05), 3000);
    }

    #[test]
    fn state_lives_on_the_heap_for_a_large_network() {
        let (optimizer, first) = step_big_on_a_small_stack(Adam::new(0.5).with_epsilon(0.0));
        assert_eq!(
            (optimizer.moments.len(), optimizer.steps()),
            (300 * 300 + 300, 2)
        );
        // a constant gradient: m̂ = 1 and v̂ = 1 at every step
        assert!((first - (-0.5 - 0.5)).abs() < 1e-12, "{first}");
    }
}
