//! The scalar types a network computes with.

use nalgebra::RealField;

/// A real number type that networks compute with: `f32`, `f64`, or any other
/// nalgebra [`RealField`] that is `Copy` (for example dual numbers).
///
/// This is an alias trait with a blanket implementation; it exists so that
/// signatures read `T: Scalar` instead of `T: RealField + Copy`.
///
/// ```
/// use staticnet::Scalar;
///
/// fn double<T: Scalar>(x: T) -> T {
///     x + x
/// }
/// assert_eq!(double(1.5_f32), 3.0);
/// assert_eq!(double(1.5_f64), 3.0);
/// ```
pub trait Scalar: RealField + Copy {}

impl<T: RealField + Copy> Scalar for T {}

/// Converts an `f64` constant into the scalar type `T`.
///
/// ```
/// use staticnet::scalar::constant;
///
/// let half: f32 = constant(0.5);
/// assert_eq!(half, 0.5_f32);
/// ```
#[inline]
#[must_use]
pub fn constant<T: Scalar>(value: f64) -> T {
    nalgebra::convert(value)
}
