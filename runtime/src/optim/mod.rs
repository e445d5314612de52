//! Optimizers: update rules that work for any generated network through
//! [`Trainable`](crate::network::Trainable).

mod sgd;

pub use sgd::Sgd;

use crate::network::Trainable;

/// An update rule for the parameters of a network.
pub trait Optimizer<T> {
    /// Updates `network` from `gradients` (gradients of the loss to
    /// minimise).
    fn step<N: Trainable<Scalar = T>>(&mut self, network: &mut N, gradients: &N::Gradients);
}
