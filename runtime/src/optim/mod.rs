//! Optimizers: update rules that work for any generated network through
//! [`Trainable`].

mod sgd;

pub use sgd::Sgd;

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
pub trait Optimizer<T> {
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
}
