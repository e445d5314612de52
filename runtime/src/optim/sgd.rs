//! Plain stochastic gradient descent.

use super::Optimizer;
use crate::Scalar;
use crate::network::Trainable;

/// Plain gradient descent: `θ ← θ − η ∇θ`.
///
/// Whether it is online, minibatch or full-batch gradient descent depends on
/// which gradients it is given.
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
}

impl<T: Scalar> Sgd<T> {
    /// Gradient descent with step size `learning_rate`.
    ///
    /// ```
    /// let sgd = staticnet::optim::Sgd::new(0.01_f32);
    /// assert_eq!(sgd.learning_rate, 0.01);
    /// ```
    #[must_use]
    pub const fn new(learning_rate: T) -> Self {
        Self { learning_rate }
    }
}

impl<T: Scalar> Optimizer<T> for Sgd<T> {
    fn step<N: Trainable<Scalar = T>>(&mut self, network: &mut N, gradients: &N::Gradients) {
        let rate = self.learning_rate;
        network.for_each_parameter_and_gradient(gradients, |_, theta, grad| {
            for (t, g) in theta.iter_mut().zip(grad) {
                *t -= rate * *g;
            }
        });
    }
}
