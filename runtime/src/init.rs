//! Parameter initializers and seeded random number generators.

use rand::{Rng, RngExt, SeedableRng};

use crate::Scalar;
use crate::activation::ActivationKind;

/// The random number generator behind [`seeded_rng`]: ChaCha with 8 rounds,
/// whose output for a seed is fixed on every platform and release.
///
/// ```
/// use staticnet::init::{SeededRng, seeded_rng};
/// use staticnet::prelude::*;
///
/// network! { struct Net { input: 2, out: dense(3) } }
///
/// let mut rng: SeededRng = seeded_rng(7);
/// let net = Net::from_rng(&mut rng);
/// assert_eq!(net.out.weight, Net::from_seed(7).out.weight);
/// assert_ne!(net.out.weight, Net::from_seed(8).out.weight);
/// ```
pub type SeededRng = rand_chacha::ChaCha8Rng;

/// A generator whose output depends only on `seed`: the same seed gives the
/// same weights, bit for bit, on every run and every machine.
///
/// ```
/// use rand::RngExt;
///
/// let a: f64 = staticnet::init::seeded_rng(7).random();
/// let b: f64 = staticnet::init::seeded_rng(7).random();
/// assert_eq!(a.to_bits(), b.to_bits());
/// ```
#[must_use]
pub fn seeded_rng(seed: u64) -> SeededRng {
    SeededRng::seed_from_u64(seed)
}

/// How to fill a parameter tensor.
///
/// `fan_in` is the number of inputs of a unit and `fan_out` the number of
/// units fed by one input (for a dense layer, its input and output sizes).
///
/// ```
/// use staticnet::init::{Init, seeded_rng};
///
/// let mut w = [1.0_f64; 4];
/// Init::Zeros.fill(&mut w, 2, 2, &mut seeded_rng(0));
/// assert_eq!(w, [0.0; 4]);
/// Init::GlorotUniform.fill(&mut w, 2, 2, &mut seeded_rng(0));
/// let limit = (6.0_f64 / (2.0 + 2.0)).sqrt();
/// assert!(w.iter().all(|x| *x != 0.0 && x.abs() <= limit));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros (the default for biases).
    Zeros,
    /// He (Kaiming) uniform: `U(−l, l)` with `l = √(6 / fan_in)`, variance
    /// `2 / fan_in`; the default for the ReLU family.
    HeUniform,
    /// Glorot (Xavier) uniform: `U(−l, l)` with `l = √(6 / (fan_in + fan_out))`,
    /// variance `2 / (fan_in + fan_out)`; the default for tanh, sigmoid,
    /// softmax, softplus and identity.
    GlorotUniform,
}

impl Init {
    /// The default weight initializer for a layer followed by `activation`:
    /// He for the ReLU family, Glorot otherwise.
    ///
    /// ```
    /// use staticnet::activation::ActivationKind;
    /// use staticnet::init::Init;
    ///
    /// assert_eq!(Init::default_for(ActivationKind::Relu), Init::HeUniform);
    /// assert_eq!(Init::default_for(ActivationKind::Tanh), Init::GlorotUniform);
    /// ```
    #[must_use]
    pub const fn default_for(activation: ActivationKind) -> Self {
        if activation.is_relu_family() {
            Self::HeUniform
        } else {
            Self::GlorotUniform
        }
    }

    /// Fills `values` in order. Values are drawn as `f64` and converted, so a
    /// seed gives the same draws whatever the scalar type.
    ///
    /// ```
    /// use staticnet::init::{Init, seeded_rng};
    ///
    /// let mut w = [0.0_f32; 6];
    /// Init::HeUniform.fill(&mut w, 3, 2, &mut seeded_rng(1));
    /// let limit = (6.0_f32 / 3.0).sqrt();
    /// assert!(w.iter().all(|x| x.abs() <= limit));
    /// ```
    pub fn fill<T: Scalar, R: Rng + ?Sized>(
        self,
        values: &mut [T],
        fan_in: usize,
        fan_out: usize,
        rng: &mut R,
    ) {
        let limit = match self {
            Self::Zeros => {
                values.fill(T::zero());
                return;
            }
            Self::HeUniform => (6.0 / fan_in.max(1) as f64).sqrt(),
            Self::GlorotUniform => (6.0 / (fan_in + fan_out).max(1) as f64).sqrt(),
        };
        for v in values {
            let u: f64 = rng.random();
            *v = crate::scalar::constant((2.0 * u - 1.0) * limit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    }

    #[test]
    fn he_uniform_has_variance_two_over_fan_in() {
        let mut w = vec![0.0_f64; 200_000];
        Init::HeUniform.fill(&mut w, 50, 10, &mut seeded_rng(3));
        let (mean, var) = moments(&w);
        assert!(mean.abs() < 0.005, "mean {mean}");
        assert!((var / (2.0 / 50.0) - 1.0).abs() < 0.01, "variance {var}");
    }

    #[test]
    fn glorot_uniform_has_variance_two_over_fan_sum() {
        let mut w = vec![0.0_f64; 200_000];
        Init::GlorotUniform.fill(&mut w, 30, 70, &mut seeded_rng(4));
        let (mean, var) = moments(&w);
        assert!(mean.abs() < 0.005, "mean {mean}");
        assert!((var / (2.0 / 100.0) - 1.0).abs() < 0.01, "variance {var}");
    }

    #[test]
    fn same_seed_same_bits_across_scalar_types() {
        let mut a = [0.0_f64; 16];
        let mut b = [0.0_f32; 16];
        Init::GlorotUniform.fill(&mut a, 4, 4, &mut seeded_rng(9));
        Init::GlorotUniform.fill(&mut b, 4, 4, &mut seeded_rng(9));
        for (a, b) in a.iter().zip(&b) {
            assert_eq!((*a as f32).to_bits(), b.to_bits());
        }
    }

    #[test]
    fn zeros_fills_zeros() {
        let mut w = [1.0_f32; 5];
        Init::Zeros.fill(&mut w, 5, 5, &mut seeded_rng(0));
        assert_eq!(w, [0.0; 5]);
    }
}
