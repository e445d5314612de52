//! Gradient clipping: bound the gradients before an optimizer step, for any
//! [`Parameters`] value (usually a network's gradients).
//!
//! ```
//! use staticnet::prelude::*;
//! use staticnet::optim::clip::clip_by_global_norm;
//! use nalgebra::SVector;
//!
//! network! { struct Line<f64> { input: 1, out: dense(1) } }
//!
//! let mut net = Line::zeros();
//! let mut sgd = Sgd::new(0.1);
//! // a far-off target: ∂L/∂w = ∂L/∂b = −100
//! let (_, mut grads) = net.gradients(&SVector::from([1.0]), &SVector::from([100.0]), SquaredError);
//! let norm = clip_by_global_norm(&mut grads, 1.0);
//! assert!((norm - 100.0 * 2_f64.sqrt()).abs() < 1e-12);
//! sgd.step(&mut net, &grads);
//! // the step is at most η · 1 long
//! assert!((net.out.bias[0] - 0.1 / 2_f64.sqrt()).abs() < 1e-12);
//! ```

use crate::Scalar;
use crate::network::Parameters;

/// The L2 norm of all tensors together, `‖g‖ = √(Σ g²)` over every
/// component.
///
/// A sum of squares that overflows is redone scaled by the largest
/// magnitude, so the norm is finite whenever every component is; a NaN
/// component gives NaN and an infinite one gives infinity.
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::optim::global_norm;
///
/// network! { struct Net<f64> { input: 2, out: dense(1) } }
///
/// let mut grads = NetGradients::default();
/// grads.out.weight[0] = 3.0;
/// grads.out.weight[1] = 4.0;
/// grads.out.bias[0] = 12.0;
/// assert_eq!(global_norm(&grads), 13.0); // √(9 + 16 + 144)
/// ```
#[must_use]
pub fn global_norm<G: Parameters>(gradients: &G) -> G::Scalar {
    norm(gradients)
}

/// [`global_norm`] with the scalar type as a parameter, whose bounds bring
/// the scalar's methods into scope.
fn norm<T: Scalar, G: Parameters<Scalar = T>>(gradients: &G) -> T {
    let zero = T::zero();
    let mut sum = zero;
    gradients.for_each_parameter(|_, values| {
        for v in values {
            sum += *v * *v;
        }
    });
    if sum.is_finite() {
        return sum.sqrt();
    }
    if sum.partial_cmp(&sum).is_none() {
        return sum; // NaN, unordered even with itself: a NaN component
    }
    // the sum is infinite: an infinite component, or an overflow
    let mut largest = zero;
    gradients.for_each_parameter(|_, values| {
        for v in values {
            let magnitude = v.abs();
            if magnitude > largest {
                largest = magnitude;
            }
        }
    });
    if !largest.is_finite() {
        return largest;
    }
    let mut scaled = zero;
    gradients.for_each_parameter(|_, values| {
        for v in values {
            let s = *v / largest;
            scaled += s * s;
        }
    });
    largest * scaled.sqrt()
}

/// Scales every tensor by `max_norm / ‖g‖` when the [global
/// norm](global_norm) `‖g‖` exceeds `max_norm`, so that it becomes
/// `max_norm`, keeping the direction; returns `‖g‖` before clipping.
///
/// Gradients whose norm is not finite (a NaN or infinite component) are left
/// as they are: check the returned norm to skip such a step.
///
/// # Panics
///
/// If `max_norm` is negative or NaN.
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::optim::clip_by_global_norm;
///
/// network! { struct Net<f64> { input: 2, out: dense(1) } }
///
/// let mut grads = NetGradients::default();
/// grads.out.weight[0] = 3.0;
/// grads.out.weight[1] = 4.0;
/// grads.out.bias[0] = 12.0;
/// assert_eq!(clip_by_global_norm(&mut grads, 6.5), 13.0);
/// // halved: 6.5 / 13
/// assert_eq!((grads.out.weight[0], grads.out.weight[1], grads.out.bias[0]), (1.5, 2.0, 6.0));
/// // within the bound now: unchanged
/// assert_eq!(clip_by_global_norm(&mut grads, 10.0), 6.5);
/// assert_eq!(grads.out.bias[0], 6.0);
/// ```
pub fn clip_by_global_norm<G: Parameters>(gradients: &mut G, max_norm: G::Scalar) -> G::Scalar {
    clip_norm(gradients, max_norm)
}

/// [`clip_by_global_norm`] with the scalar type as a parameter.
fn clip_norm<T: Scalar, G: Parameters<Scalar = T>>(gradients: &mut G, max_norm: T) -> T {
    assert!(
        max_norm >= T::zero(),
        "clip_by_global_norm: max_norm must be non-negative"
    );
    let norm = global_norm(gradients);
    if norm > max_norm && norm.is_finite() {
        let scale = max_norm / norm;
        gradients.for_each_parameter_mut(|_, values| {
            for v in values {
                *v *= scale;
            }
        });
    }
    norm
}

/// Clamps every component to `[−limit, limit]` (NaN stays NaN).
///
/// Unlike [`clip_by_global_norm`] this changes the gradient's direction.
///
/// # Panics
///
/// If `limit` is negative or NaN.
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::optim::clip_by_value;
///
/// network! { struct Net<f64> { input: 2, out: dense(1) } }
///
/// let mut grads = NetGradients::default();
/// grads.out.weight[0] = 3.0;
/// grads.out.weight[1] = -0.5;
/// grads.out.bias[0] = -12.0;
/// clip_by_value(&mut grads, 1.0);
/// assert_eq!((grads.out.weight[0], grads.out.weight[1], grads.out.bias[0]), (1.0, -0.5, -1.0));
/// ```
pub fn clip_by_value<G: Parameters>(gradients: &mut G, limit: G::Scalar) {
    clip_value(gradients, limit);
}

/// [`clip_by_value`] with the scalar type as a parameter.
fn clip_value<T: Scalar, G: Parameters<Scalar = T>>(gradients: &mut G, limit: T) {
    assert!(
        limit >= T::zero(),
        "clip_by_value: limit must be non-negative"
    );
    gradients.for_each_parameter_mut(|_, values| {
        for v in values {
            *v = clamp(*v, limit);
        }
    });
}

/// `x` clamped to `[−limit, limit]`; NaN stays NaN.
#[inline]
fn clamp<T: Scalar>(x: T, limit: T) -> T {
    if x > limit {
        limit
    } else if x < -limit {
        -limit
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::testing::{Net, NetGradients, assert_close, gradients};

    fn values(grads: &NetGradients) -> [f64; 3] {
        [grads.out.weight[0], grads.out.weight[1], grads.out.bias[0]]
    }

    #[test]
    fn the_global_norm_spans_every_tensor() {
        // √(1 + 4 + 4) = 3
        assert_eq!(global_norm(&gradients([1.0, -2.0, 2.0])), 3.0);
        assert_eq!(global_norm(&gradients([0.0; 3])), 0.0);
        // the network itself is a Parameters value too
        let mut net = Net::zeros();
        net.out.bias[0] = -4.0;
        assert_eq!(global_norm(&net), 4.0);
    }

    #[test]
    fn the_global_norm_survives_overflow_and_reports_non_finite_components() {
        // the squares overflow f64; the norm does not: 1e200 · √(9 + 16)
        let norm = global_norm(&gradients([3e200, 4e200, 0.0]));
        assert!((norm / 5e200 - 1.0).abs() < 1e-15, "{norm}");
        assert_eq!(
            global_norm(&gradients([1.0, f64::INFINITY, 0.0])),
            f64::INFINITY
        );
        assert!(global_norm(&gradients([1.0, f64::NAN, 0.0])).is_nan());
        assert!(global_norm(&gradients([f64::INFINITY, f64::NAN, 0.0])).is_nan());
    }

    #[test]
    fn clipping_by_norm_scales_to_the_bound() {
        let mut grads = gradients([1.0, -2.0, 2.0]);
        let norm = clip_by_global_norm(&mut grads, 1.5);
        assert_eq!(norm, 3.0);
        // scaled by 1.5 / 3
        assert_close(values(&grads), [1.0 * 0.5, -2.0 * 0.5, 2.0 * 0.5]);
        assert!((global_norm(&grads) - 1.5).abs() < 1e-12);

        let mut grads = gradients([3e200, 4e200, 0.0]);
        clip_by_global_norm(&mut grads, 10.0);
        assert_close(values(&grads), [6.0, 8.0, 0.0]);
    }

    #[test]
    fn clipping_by_norm_leaves_small_and_non_finite_gradients_alone() {
        let mut grads = gradients([1.0, -2.0, 2.0]);
        assert_eq!(clip_by_global_norm(&mut grads, 3.0), 3.0);
        assert_eq!(values(&grads), [1.0, -2.0, 2.0]);
        assert_eq!(clip_by_global_norm(&mut grads, 5.0), 3.0);
        assert_eq!(values(&grads), [1.0, -2.0, 2.0]);

        let mut grads = gradients([1.0, f64::INFINITY, 2.0]);
        assert_eq!(clip_by_global_norm(&mut grads, 1.0), f64::INFINITY);
        assert_eq!(values(&grads), [1.0, f64::INFINITY, 2.0]);
    }

    #[test]
    fn clipping_to_a_zero_norm_zeroes() {
        let mut grads = gradients([1.0, -2.0, 2.0]);
        clip_by_global_norm(&mut grads, 0.0);
        assert_eq!(values(&grads), [0.0, -0.0, 0.0]);
    }

    #[test]
    #[should_panic(expected = "non-negative")]
    fn a_negative_max_norm_is_refused() {
        clip_by_global_norm(&mut gradients([1.0; 3]), -1.0);
    }

    #[test]
    fn clipping_by_value_clamps_each_component() {
        let mut grads = gradients([0.25, -3.0, 7.0]);
        clip_by_value(&mut grads, 0.5);
        assert_eq!(values(&grads), [0.25, -0.5, 0.5]);

        let mut grads = gradients([f64::NAN, f64::NEG_INFINITY, -0.5]);
        clip_by_value(&mut grads, 0.5);
        let [nan, rest @ ..] = values(&grads);
        assert!(nan.is_nan());
        assert_eq!(rest, [-0.5, -0.5]);

        let mut grads = gradients([1.0, -2.0, 0.0]);
        clip_by_value(&mut grads, 0.0);
        assert_eq!(values(&grads), [0.0, 0.0, 0.0]);
    }

    #[test]
    #[should_panic(expected = "non-negative")]
    fn a_nan_limit_is_refused() {
        clip_by_value(&mut gradients([1.0; 3]), f64::NAN);
    }
}
