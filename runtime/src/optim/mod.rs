//! Optimizers: update rules that work for any generated network through
//! [`Trainable`], and gradient clipping.
//!
//! Every optimizer visits the network's tensors with
//! [`Trainable::for_each_parameter_and_gradient`]. Optimizers with
//! per-parameter state keep it in flat vectors of
//! [`PARAMETER_COUNT`](crate::network::Parameters::PARAMETER_COUNT) scalars on
//! the heap, allocated on the first step, so that the state of a large
//! network never passes through the stack.
//!
//! With `η` the learning rate and `g` the gradient:
//!
//! | optimizer     | update                                                        |
//! |---------------|---------------------------------------------------------------|
//! | [`Sgd`]       | `θ ← θ − η g`                                                 |
//! | [`Momentum`]  | `v ← μ v − η g`, `θ ← θ + v`                                  |
//! | [`Nesterov`]  | `v ← μ v − η g`, `θ ← θ + μ v − η g`                          |
//! | [`Adagrad`]   | `G ← G + g²`, `θ ← θ − η g / (√G + ε)`                        |
//! | [`RmsProp`]   | `E ← ρ E + (1 − ρ) g²`, `θ ← θ − η g / (√E + ε)`              |
//! | [`Adam`]      | `θ ← θ − η m̂ / (√v̂ + ε)` with bias-corrected moments          |
//! | [`AdamW`]     | `θ ← θ − η (m̂ / (√v̂ + ε) + λ θ)`, decoupled weight decay       |
//!
//! # Memory
//!
//! A network's parameters take [`Summary::parameter_bytes`] (printed by
//! `summary()`); its gradients, a struct of the same shapes, take as much
//! again. Each optimizer's state adds, on the heap from its first step:
//!
//! | optimizer | state | bytes |
//! |---|---|---|
//! | [`Sgd`] | none | 0 |
//! | [`Momentum`], [`Nesterov`] | velocity | 1 × the parameters |
//! | [`Adagrad`] | sum of squared gradients | 1 × |
//! | [`RmsProp`] | running mean of squared gradients | 1 × |
//! | [`Adam`], [`AdamW`] | first and second moments | 2 × |
//!
//! Batch training adds each layer's pre-activations and activations for
//! the batch (the trace) and the batch's deltas, a few matrices of
//! `layer width × batch size` scalars.
//!
//! ```
//! use staticnet::prelude::*;
//! use staticnet::optim::Adam;
//!
//! network! { struct Net { input: 784, hidden: dense(128) -> relu, output: dense(10) -> softmax } }
//!
//! let bytes = Net::summary().parameter_bytes();
//! assert_eq!(bytes, (784 * 128 + 128 + 128 * 10 + 10) * 4); // 407,080 bytes of f32
//! // training with Adam: parameters + gradients + two moments
//! let training = bytes * (1 + 1 + 2);
//! assert_eq!(training, 1_628_320);
//! ```
//!
//! [`Summary::parameter_bytes`]: crate::summary::Summary::parameter_bytes
//!
//! All but [`AdamW`] take an optional L2 penalty, `with_weight_decay(λ)`,
//! which adds `λ θ` to the gradient before the update (PyTorch's
//! `weight_decay`); [`AdamW`] applies its weight decay to the parameters
//! directly instead.
//!
//! ```
//! use staticnet::prelude::*;
//! use staticnet::optim::Adam;
//! use nalgebra::{Matrix1xX, SVector};
//!
//! network! { struct Line<f64> { input: 1, out: dense(1) } }
//!
//! // fit y = 2x + 1
//! let x = Matrix1xX::from_row_slice(&[-1.0, 0.0, 1.0, 2.0]);
//! let y = x.map(|x| 2.0 * x + 1.0);
//! let mut net = Line::zeros();
//! let mut adam = Adam::new(0.05);
//! for _ in 0..1000 {
//!     let (_, grads) = net.batch_gradients(&x, &y, SquaredError);
//!     adam.step(&mut net, &grads);
//! }
//! assert!((net.forward(&SVector::from([3.0]))[0] - 7.0).abs() < 1e-3);
//! ```

mod adagrad;
mod adam;
mod adamw;
pub mod clip;
mod momentum;
mod nesterov;
mod rmsprop;
mod sgd;
#[cfg(test)]
mod testing;

pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamw::AdamW;
pub use clip::{clip_by_global_norm, clip_by_value, global_norm};
pub use momentum::Momentum;
pub use nesterov::Nesterov;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use crate::Scalar;
use crate::network::Trainable;

/// An update rule for the parameters of a network.
///
/// ```
/// use staticnet::prelude::*;
/// use nalgebra::SVector;
///
/// network! { struct Line<f64> { input: 1, out: dense(1) } }
///
/// let mut net = Line::zeros();
/// let (_, grads) = net.gradients(&SVector::from([1.0]), &SVector::from([2.0]), SquaredError);
/// // ∂L/∂w = ∂L/∂b = ŷ − y = −2, so a step of 0.25 moves both to 0.5
/// let mut optimizer = Sgd::new(0.25);
/// optimizer.step(&mut net, &grads);
/// assert_eq!((net.out.weight[0], net.out.bias[0]), (0.5, 0.5));
/// ```
pub trait Optimizer<T: Scalar> {
    /// Updates `network` from `gradients` (gradients of the loss to
    /// minimise).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use nalgebra::SVector;
    ///
    /// network! { struct Line<f64> { input: 1, out: dense(1) } }
    ///
    /// fn train<O: Optimizer<f64>>(optimizer: &mut O, net: &mut Line, x: f64, y: f64) {
    ///     let (_, grads) = net.gradients(&SVector::from([x]), &SVector::from([y]), SquaredError);
    ///     optimizer.step(net, &grads);
    /// }
    /// let mut net = Line::zeros();
    /// train(&mut Sgd::new(0.5), &mut net, 0.0, 4.0);
    /// // only the bias sees a gradient (x = 0): b ← 0 − 0.5 · (0 − 4)
    /// assert_eq!((net.out.weight[0], net.out.bias[0]), (0.0, 2.0));
    /// ```
    fn step<N: Trainable<Scalar = T>>(&mut self, network: &mut N, gradients: &N::Gradients);

    /// The current learning rate `η`.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Adam;
    ///
    /// fn rate<O: Optimizer<f32>>(optimizer: &O) -> f32 {
    ///     optimizer.learning_rate()
    /// }
    /// assert_eq!(rate(&Sgd::new(0.1)), 0.1);
    /// assert_eq!(rate(&Adam::new(0.001)), 0.001);
    /// ```
    fn learning_rate(&self) -> T;

    /// Changes the learning rate, for schedules; the optimizer's state is
    /// kept.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Momentum;
    ///
    /// fn halve<O: Optimizer<f64>>(optimizer: &mut O) {
    ///     let rate = optimizer.learning_rate();
    ///     optimizer.set_learning_rate(rate / 2.0);
    /// }
    /// let mut momentum = Momentum::new(0.1);
    /// halve(&mut momentum);
    /// assert_eq!(momentum.learning_rate, 0.05);
    /// ```
    fn set_learning_rate(&mut self, rate: T);

    /// The state that a checkpoint saves so that training resumes exactly:
    /// the optimizer's kind, its step count and its per-parameter vectors.
    /// The default, for optimizers without state, is an empty state of kind
    /// `"stateless"`.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Adam;
    ///
    /// network! { struct Net<f64> { input: 2, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// let mut adam = Adam::new(0.1);
    /// let (_, grads) = net.gradients(&[1.0, 2.0].into(), &[1.0].into(), SquaredError);
    /// adam.step(&mut net, &grads);
    /// let state = adam.state();
    /// assert_eq!((state.kind, state.steps), ("adam", 1));
    /// let names: Vec<&str> = state.vectors.iter().map(|(name, v)| { assert_eq!(v.len(), 3); *name }).collect();
    /// assert_eq!(names, ["m", "v"]);
    /// ```
    fn state(&self) -> OptimizerState<T> {
        OptimizerState {
            kind: "stateless",
            steps: 0,
            vectors: Vec::new(),
        }
    }

    /// Restores what [`state`](Self::state) returned, so that the next step
    /// is the one that would have followed.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`](crate::Error::Invalid) when the state is of another
    /// kind of optimizer, or its vectors are not the ones this optimizer
    /// keeps (names, or lengths that differ from each other); the optimizer
    /// is unchanged then.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::optim::Adam;
    ///
    /// network! { #[derive(Clone, Debug, PartialEq)] struct Net<f64> { input: 2, out: dense(1) } }
    ///
    /// let (x, y) = ([1.0, 2.0].into(), [1.0].into());
    /// let (mut a, mut adam) = (Net::from_seed(1), Adam::new(0.1));
    /// for _ in 0..3 {
    ///     let (_, g) = a.gradients(&x, &y, SquaredError);
    ///     adam.step(&mut a, &g);
    /// }
    /// // a fresh optimizer given the state continues as the first one does
    /// let mut b = a.clone();
    /// let mut resumed = Adam::new(0.1);
    /// resumed.restore_state(adam.state())?;
    /// let (_, g) = a.gradients(&x, &y, SquaredError);
    /// adam.step(&mut a, &g);
    /// resumed.step(&mut b, &g);
    /// assert_eq!(a, b);
    /// assert!(Sgd::new(0.1).restore_state(adam.state()).is_err());
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    fn restore_state(&mut self, state: OptimizerState<T>) -> crate::Result<()> {
        if state.vectors.is_empty() && state.kind == "stateless" {
            Ok(())
        } else {
            Err(crate::Error::Invalid(format!(
                "this optimizer keeps no state, but the state is that of `{}`",
                state.kind
            )))
        }
    }
}

/// The state of an optimizer: what a checkpoint saves besides the network.
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::optim::OptimizerState;
///
/// let state: OptimizerState<f32> = Sgd::new(0.1).state();
/// assert_eq!(state, OptimizerState { kind: "sgd", steps: 0, vectors: vec![] });
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState<T> {
    /// The optimizer: `sgd`, `momentum`, `nesterov`, `adagrad`, `rmsprop`,
    /// `adam`, `adamw`.
    pub kind: &'static str,
    /// Steps taken (Adam's `t`); 0 for optimizers that do not count.
    pub steps: u64,
    /// Per-parameter vectors by name (`velocity`; Adam's `m` and `v`), each
    /// one value per scalar parameter in visiting order, or empty before the
    /// first step.
    pub vectors: Vec<(&'static str, Vec<T>)>,
}

/// Checks that `state` is of `kind` with exactly the vectors `names`, of
/// equal lengths, and returns the vectors in that order.
fn take_vectors<T, const K: usize>(
    mut state: OptimizerState<T>,
    kind: &'static str,
    names: [&'static str; K],
) -> crate::Result<(u64, [Vec<T>; K])> {
    let invalid = |message: String| Err(crate::Error::Invalid(message));
    if state.kind != kind {
        return invalid(format!(
            "the optimizer state is that of `{}`, not of `{kind}`",
            state.kind
        ));
    }
    let found: Vec<&str> = state.vectors.iter().map(|(name, _)| *name).collect();
    if found != names {
        return invalid(format!(
            "`{kind}` keeps the vectors {names:?}, the state holds {found:?}"
        ));
    }
    let lengths: Vec<usize> = state.vectors.iter().map(|(_, v)| v.len()).collect();
    if lengths.windows(2).any(|w| w[0] != w[1]) {
        return invalid(format!(
            "the vectors of the `{kind}` state differ in length: {lengths:?}"
        ));
    }
    let mut vectors = state.vectors.drain(..).map(|(_, v)| v);
    let vectors = core::array::from_fn(|_| vectors.next().unwrap_or_default());
    Ok((state.steps, vectors))
}

/// `K` flat vectors of per-parameter state, one value per scalar parameter
/// each, on the heap.
#[derive(Clone, Debug, PartialEq)]
struct State<T, const K: usize> {
    vectors: [Vec<T>; K],
}

impl<T: Scalar, const K: usize> State<T, K> {
    /// The vectors under `names` as the state of an optimizer of `kind`
    /// after `steps` steps, for [`Optimizer::state`].
    fn state(&self, kind: &'static str, steps: u64, names: [&'static str; K]) -> OptimizerState<T> {
        OptimizerState {
            kind,
            steps,
            vectors: names
                .into_iter()
                .zip(self.vectors.iter().cloned())
                .collect(),
        }
    }

    /// Takes the vectors of `state` (checked to be those of `kind`, under
    /// `names`, of equal lengths) and returns its step count, for
    /// [`Optimizer::restore_state`]; unchanged on error.
    fn restore(
        &mut self,
        state: OptimizerState<T>,
        kind: &'static str,
        names: [&'static str; K],
    ) -> crate::Result<u64> {
        let (steps, vectors) = take_vectors(state, kind, names)?;
        self.vectors = vectors;
        Ok(steps)
    }

    /// No state: allocated by the first [`prepare`](Self::prepare).
    fn new() -> Self {
        Self {
            vectors: core::array::from_fn(|_| Vec::new()),
        }
    }

    /// Frees the state; the next step starts afresh.
    fn clear(&mut self) {
        self.vectors = core::array::from_fn(|_| Vec::new());
    }

    /// The number of parameters the state is allocated for (0 before the
    /// first step).
    fn len(&self) -> usize {
        self.vectors.first().map_or(0, Vec::len)
    }

    /// Makes every vector hold `count` values: unchanged if they do already,
    /// otherwise freshly allocated zeros. Returns whether they were
    /// (re)allocated.
    fn prepare(&mut self, count: usize) -> bool {
        if self.vectors.iter().all(|v| v.len() == count) {
            return false;
        }
        self.vectors = core::array::from_fn(|_| vec![T::zero(); count]);
        true
    }

    /// Calls `f` with each tensor's values, its gradients and its slice of
    /// every state vector, walking the state with a running offset. The
    /// state must have been [prepared](Self::prepare) for `N`.
    fn walk<N, F>(&mut self, network: &mut N, gradients: &N::Gradients, mut f: F)
    where
        N: Trainable<Scalar = T>,
        F: FnMut(&mut [T], &[T], [&mut [T]; K]),
    {
        let capacity = self.len();
        let mut offset = 0;
        network.for_each_parameter_and_gradient(gradients, |name, theta, grad| {
            assert_eq!(
                theta.len(),
                grad.len(),
                "`{name}` and its gradient differ in length"
            );
            let end = offset + theta.len();
            assert!(
                end <= capacity,
                "the network visits more than its PARAMETER_COUNT ({capacity}) parameters"
            );
            let slices = self.vectors.each_mut().map(|v| &mut v[offset..end]);
            f(theta, grad, slices);
            offset = end;
        });
        assert_eq!(
            offset, capacity,
            "the network visits fewer than its PARAMETER_COUNT parameters"
        );
    }
}

/// The gradient with the L2 penalty `λ θ` added (PyTorch's `weight_decay`).
#[inline]
fn decayed<T: Scalar>(gradient: T, theta: T, weight_decay: T) -> T {
    if weight_decay == T::zero() {
        gradient
    } else {
        gradient + weight_decay * theta
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{Net, assert_close, gradients, parameters, set_parameters};
    use super::*;
    use crate::network::Parameters;

    #[test]
    fn state_is_allocated_once_and_reallocated_for_a_different_count() {
        let mut state = State::<f64, 2>::new();
        assert_eq!(state.len(), 0);
        assert!(state.prepare(3));
        assert_eq!(state.vectors, [vec![0.0; 3], vec![0.0; 3]]);
        state.vectors[0][1] = 5.0;
        assert!(!state.prepare(3));
        assert_eq!(state.vectors[0], [0.0, 5.0, 0.0]);
        assert!(state.prepare(4));
        assert_eq!(state.vectors, [vec![0.0; 4], vec![0.0; 4]]);
        state.clear();
        assert_eq!(state.len(), 0);
    }

    #[test]
    fn walk_hands_out_consecutive_slices_in_declaration_order() {
        let mut net = Net::zeros();
        set_parameters(&mut net, [1.0, 2.0, 3.0]);
        let grads = gradients([10.0, 20.0, 30.0]);
        let mut state = State::<f64, 1>::new();
        state.prepare(<Net as Parameters>::PARAMETER_COUNT);
        let mut seen = Vec::new();
        state.walk(&mut net, &grads, |theta, grad, [s]| {
            for ((t, g), s) in theta.iter_mut().zip(grad).zip(s.iter_mut()) {
                *s = *t + *g;
                *t = -*t;
            }
            seen.push(theta.len());
        });
        assert_eq!(seen, [2, 1]);
        assert_eq!(state.vectors[0], [11.0, 22.0, 33.0]);
        assert_close(parameters(&net), [-1.0, -2.0, -3.0]);
    }

    #[test]
    #[should_panic(expected = "PARAMETER_COUNT")]
    fn walk_refuses_a_network_larger_than_the_state() {
        let mut net = Net::zeros();
        let grads = gradients([0.0; 3]);
        let mut state = State::<f64, 1>::new();
        state.prepare(2);
        state.walk(&mut net, &grads, |_, _, _| {});
    }

    #[test]
    #[should_panic(expected = "fewer than its PARAMETER_COUNT")]
    fn walk_refuses_a_network_smaller_than_the_state() {
        let mut net = Net::zeros();
        let grads = gradients([0.0; 3]);
        let mut state = State::<f64, 1>::new();
        state.prepare(4);
        state.walk(&mut net, &grads, |_, _, _| {});
    }

    #[test]
    fn decayed_adds_the_l2_penalty() {
        assert_eq!(decayed(1.0, 4.0, 0.0), 1.0);
        assert_eq!(decayed(1.0, 4.0, 0.5), 1.0 + 0.5 * 4.0);
    }

    #[test]
    fn the_learning_rate_is_read_and_set_through_the_trait() {
        fn check<O: Optimizer<f64>>(mut optimizer: O) {
            assert_eq!(optimizer.learning_rate(), 0.5);
            optimizer.set_learning_rate(0.25);
            assert_eq!(optimizer.learning_rate(), 0.25);
        }
        check(Sgd::new(0.5));
        check(Momentum::new(0.5));
        check(Nesterov::new(0.5));
        check(Adagrad::new(0.5));
        check(RmsProp::new(0.5));
        check(Adam::new(0.5));
        check(AdamW::new(0.5));
    }
}
