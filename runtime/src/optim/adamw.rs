//! AdamW: Adam with decoupled weight decay.

use super::adam::{Moments, Rule};
use super::{Optimizer, OptimizerState};
use crate::Scalar;
use crate::network::Trainable;
use crate::scalar::constant;

/// AdamW (Loshchilov & Hutter, 2019): [`Adam`](super::Adam) with the weight
/// decay taken out of the gradient,
///
/// ```text
/// m ← β₁ m + (1 − β₁) g,   m̂ = m / (1 − β₁ᵗ)
/// v ← β₂ v + (1 − β₂) g²,  v̂ = v / (1 − β₂ᵗ)
/// θ ← θ − η (m̂ / (√v̂ + ε) + λ θ)
/// ```
///
/// (PyTorch's `AdamW`). The moments see only the gradient of the loss, and
/// every parameter shrinks by the same factor `1 − η λ` whatever its
/// gradient history. Adam's [`with_weight_decay`](super::Adam::with_weight_decay)
/// instead adds `λ θ` to `g`, where the division by `√v̂` rescales it: a
/// parameter with large gradients is barely decayed, and a parameter with no
/// gradient is pulled towards zero at the full rate `η`.
///
/// The two moments are two flat vectors on the heap, allocated on the first
/// step.
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::optim::AdamW;
///
/// network! { struct Net<f64> { input: 1, out: dense(1) } }
///
/// let mut net = Net::zeros();
/// net.out.weight[0] = 2.0;
/// let grads = Trainable::zero_gradients(&net);
/// AdamW::new(0.1).step(&mut net, &grads);
/// // no gradient: only the decay, w ← w − η λ w with λ = 0.01
/// assert_eq!(net.out.weight[0], 2.0 - 0.1 * (0.0 + 0.01 * 2.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AdamW<T> {
    /// The step size `η`.
    pub learning_rate: T,
    /// The decay `β₁` of the first moment, 0.9 by default.
    pub beta1: T,
    /// The decay `β₂` of the second moment, 0.999 by default.
    pub beta2: T,
    /// The `ε` added to `√v̂`, 1e-8 by default.
    pub epsilon: T,
    /// The decoupled weight decay `λ`, 0.01 by default.
    pub weight_decay: T,
    moments: Moments<T>,
}

impl<T: Scalar> AdamW<T> {
    /// AdamW with step size `learning_rate` and PyTorch's defaults:
    /// `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`, `λ = 0.01`.
    ///
    /// ```
    /// use staticnet::optim::AdamW;
    ///
    /// let adamw = AdamW::new(0.001_f64);
    /// assert_eq!((adamw.learning_rate, adamw.beta1, adamw.beta2), (0.001, 0.9, 0.999));
    /// assert_eq!((adamw.epsilon, adamw.weight_decay), (1e-8, 0.01));
    /// ```
    #[must_use]
    pub fn new(learning_rate: T) -> Self {
        Self {
            learning_rate,
            beta1: constant(0.9),
            beta2: constant(0.999),
            epsilon: constant(1e-8),
            weight_decay: constant(0.01),
            moments: Moments::new(),
        }
    }

    /// Sets the decays `β₁` and `β₂` of the two moments.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::AdamW;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut grads = Trainable::zero_gradients(&net);
    /// let mut adamw = AdamW::new(0.1).with_betas(0.5, 0.5).with_epsilon(0.0);
    /// grads.out.bias[0] = 2.0;
    /// adamw.step(&mut net, &grads); // b = −0.1 (θ was 0: no decay)
    /// grads.out.bias[0] = -2.0;
    /// adamw.step(&mut net, &grads);
    /// // step 2: m̂ = −0.5 / 0.75, v̂ = 3 / 0.75, and the decay of b = −0.1
    /// let second = -0.1 * ((-0.5 / 0.75) / (3.0_f64 / 0.75).sqrt() + 0.01 * -0.1);
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
    /// use staticnet::optim::AdamW;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut grads = Trainable::zero_gradients(&net);
    /// grads.out.bias[0] = 1.0;
    /// AdamW::new(0.1).with_epsilon(1.0).step(&mut net, &grads);
    /// // m̂ = 1, v̂ = 1, θ = 0: b = −0.1 · 1 / (1 + 1)
    /// assert_eq!(net.out.bias[0], -0.05);
    /// ```
    #[must_use]
    pub fn with_epsilon(mut self, epsilon: T) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Sets the decoupled weight decay `λ` (0 makes this plain Adam).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::AdamW;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// net.out.weight[0] = 4.0;
    /// let grads = Trainable::zero_gradients(&net);
    /// let mut adamw = AdamW::new(0.1).with_weight_decay(0.5);
    /// adamw.step(&mut net, &grads);
    /// adamw.step(&mut net, &grads);
    /// // w ← (1 − η λ) w, twice
    /// assert_eq!(net.out.weight[0], 4.0 * (1.0 - 0.05) * (1.0 - 0.05));
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
    /// use staticnet::optim::AdamW;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let grads = Trainable::zero_gradients(&net);
    /// let mut adamw = AdamW::new(0.1);
    /// adamw.step(&mut net, &grads);
    /// assert_eq!(adamw.steps(), 1);
    /// ```
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.moments.steps()
    }

    /// Forgets (and frees) the moments and the step count.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::AdamW;
    ///
    /// network! { struct Net<f64> { input: 1, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let grads = Trainable::zero_gradients(&net);
    /// let mut adamw = AdamW::new(0.1);
    /// adamw.step(&mut net, &grads);
    /// adamw.reset();
    /// assert_eq!(adamw.steps(), 0);
    /// ```
    pub fn reset(&mut self) {
        self.moments.clear();
    }
}

impl<T: Scalar> Optimizer<T> for AdamW<T> {
    fn step<N: Trainable<Scalar = T>>(&mut self, network: &mut N, gradients: &N::Gradients) {
        let rule = Rule {
            learning_rate: self.learning_rate,
            beta1: self.beta1,
            beta2: self.beta2,
            epsilon: self.epsilon,
            l2: T::zero(),
            decoupled: self.weight_decay,
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
        self.moments.state("adamw")
    }

    fn restore_state(&mut self, state: OptimizerState<T>) -> crate::Result<()> {
        self.moments.restore("adamw", state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Adam;
    use crate::optim::testing::{
        assert_close, assert_fits_line, assert_within, run, step_big_on_a_small_stack, zip,
    };

    const START: [f64; 3] = [0.5, -0.25, 1.0];
    const GRADIENTS: [[f64; 3]; 3] = [[1.0, -2.0, 0.5], [0.5, 1.0, -1.0], [-0.25, 3.0, 2.0]];

    /// `θ ← θ − η (m̂ / (√v̂ + ε) + λ θ)` with `η = 0.01`, `λ = 0.1` and the
    /// default β and ε, written out for three steps.
    fn by_hand() -> [[f64; 3]; 3] {
        let m1 = GRADIENTS[0].map(|g| 0.9 * 0.0 + 0.1 * g);
        let v1 = GRADIENTS[0].map(|g| 0.999 * 0.0 + 0.001 * g * g);
        let a1 = zip(m1, v1, |m, v| {
            (m / (1.0 - 0.9)) / ((v / (1.0 - 0.999)).sqrt() + 1e-8)
        });
        let theta1 = zip(START, a1, |t, a| t - 0.01 * (a + 0.1 * t));
        let m2 = zip(m1, GRADIENTS[1], |m, g| 0.9 * m + 0.1 * g);
        let v2 = zip(v1, GRADIENTS[1], |v, g| 0.999 * v + 0.001 * g * g);
        let a2 = zip(m2, v2, |m, v| {
            (m / (1.0 - 0.9 * 0.9)) / ((v / (1.0 - 0.999 * 0.999)).sqrt() + 1e-8)
        });
        let theta2 = zip(theta1, a2, |t, a| t - 0.01 * (a + 0.1 * t));
        let m3 = zip(m2, GRADIENTS[2], |m, g| 0.9 * m + 0.1 * g);
        let v3 = zip(v2, GRADIENTS[2], |v, g| 0.999 * v + 0.001 * g * g);
        let a3 = zip(m3, v3, |m, v| {
            (m / (1.0 - 0.9 * 0.9 * 0.9)) / ((v / (1.0 - 0.999 * 0.999 * 0.999)).sqrt() + 1e-8)
        });
        let theta3 = zip(theta2, a3, |t, a| t - 0.01 * (a + 0.1 * t));
        [theta1, theta2, theta3]
    }

    #[test]
    fn three_steps_follow_the_formula() {
        let mut optimizer = AdamW::new(0.01).with_weight_decay(0.1);
        let path = run(&mut optimizer, START, &GRADIENTS);
        let expected = by_hand();
        for (actual, expected) in path.iter().zip(&expected) {
            assert_close(*actual, *expected);
        }
        assert_eq!(optimizer.steps(), 3);
        // the moments never see the decay: they are Adam's on the raw gradients
        let mut adam = Adam::new(0.01);
        run(&mut adam, START, &GRADIENTS);
        assert_eq!(optimizer.moments, adam.moments);
    }

    #[test]
    fn adamw_and_adam_with_l2_differ_as_the_formulas_say() {
        let decoupled = run(
            &mut AdamW::new(0.01).with_weight_decay(0.1),
            START,
            &GRADIENTS,
        );
        let coupled = run(
            &mut Adam::new(0.01).with_weight_decay(0.1),
            START,
            &GRADIENTS,
        );
        assert_ne!(decoupled, coupled);

        // Adam + L2, by hand: the decay goes through the moments
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
        assert_close(coupled[0], theta1);
        assert_close(decoupled[0], by_hand()[0]);

        // with no gradient, the difference is stark: Adam + L2 normalises
        // λ θ to a step of about η, AdamW decays by η λ θ
        let coupled = run(
            &mut Adam::new(0.01).with_weight_decay(0.1),
            START,
            &[[0.0; 3]],
        );
        let decoupled = run(
            &mut AdamW::new(0.01).with_weight_decay(0.1),
            START,
            &[[0.0; 3]],
        );
        let l2 = START.map(|t| 0.1 * t);
        assert_close(
            coupled[0],
            zip(START, l2, |t, g| {
                t - 0.01 * ((0.1 * g) / 0.1) / ((0.001 * g * g / 0.001).sqrt() + 1e-8)
            }),
        );
        // ≈ η sign(θ), whatever λ
        assert_within(coupled[0], [0.5 - 0.01, -0.25 + 0.01, 1.0 - 0.01], 1e-7);
        assert_close(decoupled[0], START.map(|t| t - 0.01 * (0.0 + 0.1 * t)));
    }

    #[test]
    fn without_weight_decay_it_is_adam() {
        let adamw = run(
            &mut AdamW::new(0.01).with_weight_decay(0.0),
            START,
            &GRADIENTS,
        );
        let adam = run(&mut Adam::new(0.01), START, &GRADIENTS);
        assert_eq!(adamw, adam);
    }

    #[test]
    fn reset_starts_afresh() {
        let mut optimizer = AdamW::new(0.01);
        run(&mut optimizer, START, &GRADIENTS);
        optimizer.reset();
        assert_eq!((optimizer.steps(), optimizer.moments.len()), (0, 0));
        assert_eq!(
            run(&mut optimizer, START, &GRADIENTS),
            run(&mut AdamW::new(0.01), START, &GRADIENTS)
        );
    }

    #[test]
    fn fits_a_line() {
        // the decay pulls the optimum slightly towards zero, so fit without it
        assert_fits_line(AdamW::new(0.05).with_weight_decay(0.0), 3000);
        let (before, after, w, b) = crate::optim::testing::fit_line(&mut AdamW::new(0.05), 3000);
        assert!(after < 1e-3 * before && (w - 2.0).abs() < 0.05 && (b - 1.0).abs() < 0.05);
    }

    #[test]
    fn state_lives_on_the_heap_for_a_large_network() {
        let (optimizer, first) =
            step_big_on_a_small_stack(AdamW::new(0.5).with_epsilon(0.0).with_weight_decay(0.1));
        assert_eq!(
            (optimizer.moments.len(), optimizer.steps()),
            (300 * 300 + 300, 2)
        );
        // m̂ = v̂ = 1 every step: θ₁ = −0.5, θ₂ = θ₁ − 0.5 (1 + 0.1 θ₁)
        let theta1 = -0.5 * (1.0 + 0.1 * 0.0);
        let expected = theta1 - 0.5 * (1.0 + 0.1 * theta1);
        assert!((first - expected).abs() < 1e-12, "{first}");
    }
}
