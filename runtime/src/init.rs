//! Parameter initializers and seeded random number generators.

use core::fmt;

// sqrt, ln and cos of f64 from libm where the crate is `no_std`
#[cfg(not(any(feature = "std", test)))]
use nalgebra::ComplexField as _;
#[cfg(feature = "alloc")]
use nalgebra::DMatrix;
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
/// Below, `U(a, b)` is the uniform distribution on `[a, b]` and `N(m, s²)`
/// the normal distribution with mean `m` and standard deviation `s`.
///
/// | variant | distribution | variance |
/// |---|---|---|
/// | [`Zeros`](Init::Zeros) | `0` | `0` |
/// | [`Constant(c)`](Init::Constant) | `c` | `0` |
/// | [`Uniform`](Init::Uniform) | `U(low, high)` | `(high − low)² / 12` |
/// | [`Normal`](Init::Normal) | `N(mean, std²)` | `std²` |
/// | [`TruncatedNormal`](Init::TruncatedNormal) | `N(mean, std²)` cut at `mean ± 2 std` | `≈ 0.774 std²` |
/// | [`GlorotUniform`](Init::GlorotUniform) | `U(−l, l)`, `l = √(6 / (fan_in + fan_out))` | `2 / (fan_in + fan_out)` |
/// | [`GlorotNormal`](Init::GlorotNormal) | `N(0, 2 / (fan_in + fan_out))` | `2 / (fan_in + fan_out)` |
/// | [`HeUniform`](Init::HeUniform) | `U(−l, l)`, `l = √(6 / fan_in)` | `2 / fan_in` |
/// | [`HeNormal`](Init::HeNormal) | `N(0, 2 / fan_in)` | `2 / fan_in` |
/// | [`LecunUniform`](Init::LecunUniform) | `U(−l, l)`, `l = √(3 / fan_in)` | `1 / fan_in` |
/// | [`LecunNormal`](Init::LecunNormal) | `N(0, 1 / fan_in)` | `1 / fan_in` |
/// | [`Orthogonal`](Init::Orthogonal) | `gain ·` a uniformly random orthogonal matrix | `gain² / max(rows, cols)` |
///
/// A fan of 0 counts as 1.
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
///
/// // every variant is a constant
/// const SMALL: Init = Init::Normal { mean: 0.0, std: 0.01 };
/// const ROTATION: Init = Init::Orthogonal { gain: 1.0 };
/// assert_eq!(SMALL.to_string(), "normal(0, 0.01)");
/// assert_eq!(ROTATION.name(), "orthogonal");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros (the default for biases).
    Zeros,
    /// Every value equal to the given constant.
    Constant(f64),
    /// Uniform on `[low, high]`, variance `(high − low)² / 12`.
    Uniform {
        /// The lower bound.
        low: f64,
        /// The upper bound.
        high: f64,
    },
    /// Normal with the given mean and standard deviation.
    Normal {
        /// The mean.
        mean: f64,
        /// The standard deviation.
        std: f64,
    },
    /// Normal with the given mean and standard deviation, with every draw
    /// outside `mean ± 2 std` discarded and redrawn (as TensorFlow and Keras
    /// do). Cutting the tails shrinks the variance to about `0.774 std²`
    /// (exactly `1 − 4φ(2) / (2Φ(2) − 1) = 0.77374…` times `std²`, with `φ`
    /// and `Φ` the standard normal density and distribution function).
    TruncatedNormal {
        /// The mean (the centre of the kept interval).
        mean: f64,
        /// The standard deviation of the normal before truncation.
        std: f64,
    },
    /// Glorot (Xavier) uniform: `U(−l, l)` with `l = √(6 / (fan_in + fan_out))`,
    /// variance `2 / (fan_in + fan_out)`; the default for tanh, sigmoid,
    /// softmax, softplus and identity.
    GlorotUniform,
    /// Glorot (Xavier) normal: `N(0, σ²)` with `σ = √(2 / (fan_in + fan_out))`,
    /// not truncated (as PyTorch's `xavier_normal_`; Keras truncates and
    /// rescales to the same variance).
    GlorotNormal,
    /// He (Kaiming) uniform: `U(−l, l)` with `l = √(6 / fan_in)`, variance
    /// `2 / fan_in`; the default for the ReLU family.
    HeUniform,
    /// He (Kaiming) normal: `N(0, σ²)` with `σ = √(2 / fan_in)`, not
    /// truncated (as PyTorch's `kaiming_normal_`).
    HeNormal,
    /// LeCun uniform: `U(−l, l)` with `l = √(3 / fan_in)`, variance
    /// `1 / fan_in`.
    LecunUniform,
    /// LeCun normal: `N(0, σ²)` with `σ = √(1 / fan_in)`, not truncated; the
    /// usual choice for SELU.
    LecunNormal,
    /// A uniformly distributed (Haar) random orthogonal matrix times `gain`:
    /// the rows are orthonormal when there are at most as many rows as
    /// columns, the columns otherwise (Saxe et al., 2014).
    ///
    /// It takes a QR decomposition of a heap-allocated matrix, so it needs
    /// the `alloc` feature (on by default, through `std`); without it,
    /// [`fill`](Self::fill) panics with a message that says so.
    Orthogonal {
        /// The factor applied to the orthogonal matrix.
        gain: f64,
    },
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

    /// The initializer's name as the network language spells it.
    ///
    /// ```
    /// use staticnet::init::Init;
    ///
    /// assert_eq!(Init::HeNormal.name(), "he_normal");
    /// assert_eq!(Init::TruncatedNormal { mean: 0.0, std: 1.0 }.name(), "truncated_normal");
    /// const NAME: &str = Init::Constant(0.1).name();
    /// assert_eq!(NAME, "constant");
    /// ```
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Zeros => "zeros",
            Self::Constant(_) => "constant",
            Self::Uniform { .. } => "uniform",
            Self::Normal { .. } => "normal",
            Self::TruncatedNormal { .. } => "truncated_normal",
            Self::GlorotUniform => "glorot_uniform",
            Self::GlorotNormal => "glorot_normal",
            Self::HeUniform => "he_uniform",
            Self::HeNormal => "he_normal",
            Self::LecunUniform => "lecun_uniform",
            Self::LecunNormal => "lecun_normal",
            Self::Orthogonal { .. } => "orthogonal",
        }
    }

    /// Fills `values`. Values are drawn as `f64` and converted, so a seed
    /// gives the same draws whatever the scalar type.
    ///
    /// When `values.len() == fan_in * fan_out`, `values` is the weight
    /// matrix of `fan_out` rows and `fan_in` columns stored column-major (the
    /// nalgebra layout); any other length (a bias) is a `len × 1` matrix. The
    /// layout matters only for [`Orthogonal`](Init::Orthogonal); every other
    /// initializer draws the values independently, in order. The uniform
    /// initializers draw one `f64` `u` in `[0, 1)` per value and store
    /// `centre + (2u − 1) · half_width`.
    ///
    /// ```
    /// use staticnet::init::{Init, seeded_rng};
    ///
    /// let mut w = [0.0_f32; 6];
    /// Init::HeUniform.fill(&mut w, 3, 2, &mut seeded_rng(1));
    /// let limit = (6.0_f32 / 3.0).sqrt();
    /// assert!(w.iter().all(|x| x.abs() <= limit));
    ///
    /// // a 2 × 3 weight matrix (fan_in 3, fan_out 2) with orthonormal rows
    /// let mut w = [0.0_f64; 6];
    /// Init::Orthogonal { gain: 1.0 }.fill(&mut w, 3, 2, &mut seeded_rng(1));
    /// let w = nalgebra::Matrix2x3::from_column_slice(&w);
    /// assert!((w * w.transpose() - nalgebra::Matrix2::identity()).norm() < 1e-12);
    /// ```
    ///
    /// # Panics
    ///
    /// If a parameter is not finite, `low > high`, or a standard deviation
    /// is negative; for [`Orthogonal`](Self::Orthogonal) without the `alloc`
    /// feature.
    pub fn fill<T: Scalar, R: Rng + ?Sized>(
        self,
        values: &mut [T],
        fan_in: usize,
        fan_out: usize,
        rng: &mut R,
    ) {
        self.check();
        let fan_in_f = fan_in.max(1) as f64;
        let fan_sum = (fan_in + fan_out).max(1) as f64;
        match self {
            Self::Zeros => values.fill(T::zero()),
            Self::Constant(c) => values.fill(crate::scalar::constant(c)),
            Self::Uniform { low, high } => {
                let half = 0.5 * (high - low);
                fill_uniform(values, low + half, half, rng);
            }
            Self::GlorotUniform => fill_uniform(values, 0.0, (6.0 / fan_sum).sqrt(), rng),
            Self::HeUniform => fill_uniform(values, 0.0, (6.0 / fan_in_f).sqrt(), rng),
            Self::LecunUniform => fill_uniform(values, 0.0, (3.0 / fan_in_f).sqrt(), rng),
            Self::Normal { mean, std } => fill_normal(values, mean, std, rng),
            Self::GlorotNormal => fill_normal(values, 0.0, (2.0 / fan_sum).sqrt(), rng),
            Self::HeNormal => fill_normal(values, 0.0, (2.0 / fan_in_f).sqrt(), rng),
            Self::LecunNormal => fill_normal(values, 0.0, (1.0 / fan_in_f).sqrt(), rng),
            Self::TruncatedNormal { mean, std } => {
                for v in values {
                    let z = loop {
                        let z = standard_normal(rng);
                        if z.abs() <= 2.0 {
                            break z;
                        }
                    };
                    *v = crate::scalar::constant(mean + std * z);
                }
            }
            #[cfg(not(feature = "alloc"))]
            Self::Orthogonal { .. } => {
                panic!("orthogonal initialization needs the `alloc` feature of staticnet")
            }
            #[cfg(feature = "alloc")]
            Self::Orthogonal { gain } => {
                let (rows, cols) = match fan_in.checked_mul(fan_out) {
                    Some(n) if n == values.len() => (fan_out, fan_in),
                    _ => (values.len(), 1),
                };
                let q = orthogonal(rows, cols, rng);
                for (v, q) in values.iter_mut().zip(q.as_slice()) {
                    *v = crate::scalar::constant(gain * q);
                }
            }
        }
    }

    /// Panics with a message naming the initializer if a parameter is out
    /// of range.
    fn check(self) {
        let ok = match self {
            Self::Constant(c) => c.is_finite(),
            Self::Uniform { low, high } => low.is_finite() && high.is_finite() && low <= high,
            Self::Normal { mean, std } | Self::TruncatedNormal { mean, std } => {
                mean.is_finite() && std.is_finite() && std >= 0.0
            }
            Self::Orthogonal { gain } => gain.is_finite(),
            _ => true,
        };
        assert!(ok, "invalid initializer {self}");
    }
}

/// `centre + (2u − 1) · half`, one `u` per value.
fn fill_uniform<T: Scalar, R: Rng + ?Sized>(values: &mut [T], centre: f64, half: f64, rng: &mut R) {
    for v in values {
        let u: f64 = rng.random();
        *v = crate::scalar::constant(centre + (2.0 * u - 1.0) * half);
    }
}

/// A standard normal draw by the Box–Muller transform of two uniforms:
/// `√(−2 ln u₁) · cos(2π u₂)`, with `u₁` in (0, 1]. Written here rather than
/// taken from rand_distr, whose `libm` dependency added about 3 s of CPU to
/// every user's cold build for this one function.
fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (core::f64::consts::TAU * u2).cos()
}

/// `mean + std · z` with `z` standard normal, one `z` per value.
fn fill_normal<T: Scalar, R: Rng + ?Sized>(values: &mut [T], mean: f64, std: f64, rng: &mut R) {
    for v in values {
        let z = standard_normal(rng);
        *v = crate::scalar::constant(mean + std * z);
    }
}

/// A uniformly distributed `rows × cols` matrix with orthonormal rows (when
/// `rows ≤ cols`) or columns (otherwise).
///
/// Draws a standard normal `rows × cols` matrix in column-major order and
/// takes the QR decomposition of it (or of its transpose, when it is wide),
/// so that `Q` has orthonormal columns. `Q` is Haar distributed only for the
/// unique factorization whose `R` has a positive diagonal (Mezzadri, 2007),
/// so column `j` of `Q` is multiplied by the sign of `R[j, j]`. nalgebra 0.35
/// already returns that factorization (its `r()` has a nonnegative diagonal
/// and `q()` carries the signs), which makes the fix a no-op today; it is
/// kept so the result does not depend on that convention.
#[cfg(feature = "alloc")]
fn orthogonal<R: Rng + ?Sized>(rows: usize, cols: usize, rng: &mut R) -> DMatrix<f64> {
    if rows == 0 || cols == 0 {
        return DMatrix::zeros(rows, cols);
    }
    let a =
        DMatrix::<f64>::from_iterator(rows, cols, (0..rows * cols).map(|_| standard_normal(rng)));
    let wide = rows < cols;
    let qr = if wide { a.transpose() } else { a }.qr();
    let r = qr.r();
    let mut q = qr.q();
    for (j, mut column) in q.column_iter_mut().enumerate() {
        if r[(j, j)] < 0.0 {
            column.neg_mut();
        }
    }
    if wide { q.transpose() } else { q }
}

/// The network language's call form: `constant(0.1)`, `uniform(-0.5, 0.5)`,
/// `normal(0, 0.1)`, `truncated_normal(0, 0.1)`, `orthogonal(1)`, and the
/// plain name for initializers without parameters.
///
/// ```
/// use staticnet::init::Init;
///
/// assert_eq!(Init::Constant(0.1).to_string(), "constant(0.1)");
/// assert_eq!(Init::Uniform { low: -0.5, high: 0.5 }.to_string(), "uniform(-0.5, 0.5)");
/// assert_eq!(Init::Orthogonal { gain: 1.0 }.to_string(), "orthogonal(1)");
/// assert_eq!(Init::GlorotNormal.to_string(), "glorot_normal");
/// ```
impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match *self {
            Self::Constant(c) => write!(f, "{name}({c})"),
            Self::Uniform { low, high } => write!(f, "{name}({low}, {high})"),
            Self::Normal { mean, std } | Self::TruncatedNormal { mean, std } => {
                write!(f, "{name}({mean}, {std})")
            }
            Self::Orthogonal { gain } => write!(f, "{name}({gain})"),
            _ => f.write_str(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "alloc")]
    use nalgebra::DMatrix;

    const N: usize = 200_000;

    /// How many standard errors a sample moment may be from its expectation.
    const Z: f64 = 5.0;

    /// Kurtosis `E[x⁴] / E[x²]²` of a centred uniform distribution.
    const KURTOSIS_UNIFORM: f64 = 9.0 / 5.0;
    /// Kurtosis of a normal distribution.
    const KURTOSIS_NORMAL: f64 = 3.0;

    fn moments(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    }

    /// Checks the sample mean and variance of `values` against a
    /// distribution with the given mean, variance and kurtosis. The standard
    /// error of the mean is `σ / √n`; that of the sample variance is
    /// `σ² √((κ − 1) / n)` (to first order); both must be within `Z` of them.
    fn check_moments(values: &[f64], mean: f64, var: f64, kurtosis: f64) -> Result<(), String> {
        let n = values.len() as f64;
        let (m, v) = moments(values);
        let se_mean = (var / n).sqrt();
        let se_var = var * ((kurtosis - 1.0) / n).sqrt();
        if (m - mean).abs() > Z * se_mean {
            return Err(format!("mean {m}, expected {mean} ± {}", Z * se_mean));
        }
        if (v - var).abs() > Z * se_var {
            return Err(format!("variance {v}, expected {var} ± {}", Z * se_var));
        }
        Ok(())
    }

    fn sample(init: Init, fan_in: usize, fan_out: usize, seed: u64) -> Vec<f64> {
        let mut w = vec![0.0_f64; N];
        init.fill(&mut w, fan_in, fan_out, &mut seeded_rng(seed));
        w
    }

    /// `∫ₐᵇ f` by Simpson's rule on 20,000 intervals (error far below 1e-12
    /// for the smooth integrands here).
    fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
        let n = 20_000;
        let h = (b - a) / n as f64;
        let inner: f64 = (1..n)
            .map(|i| f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 })
            .sum();
        (f(a) + inner + f(b)) * h / 3.0
    }

    /// The second and fourth moments of a standard normal truncated to
    /// `[−2, 2]`.
    fn truncated_moments() -> (f64, f64) {
        let phi = |x: f64| (-0.5 * x * x).exp();
        let mass = simpson(phi, -2.0, 2.0);
        let m2 = simpson(|x| x * x * phi(x), -2.0, 2.0) / mass;
        let m4 = simpson(|x| x.powi(4) * phi(x), -2.0, 2.0) / mass;
        (m2, m4)
    }

    #[test]
    fn moment_check_rejects_a_wrong_variance() {
        // the check is sharp enough to tell He (2 / fan_in) from LeCun
        // (1 / fan_in) and from a variance 2 % off
        let w = sample(Init::HeNormal, 50, 10, 1);
        check_moments(&w, 0.0, 2.0 / 50.0, KURTOSIS_NORMAL).unwrap();
        assert!(check_moments(&w, 0.0, 1.0 / 50.0, KURTOSIS_NORMAL).is_err());
        assert!(check_moments(&w, 0.0, 1.02 * 2.0 / 50.0, KURTOSIS_NORMAL).is_err());
        // the old fixed tolerance of 0.005 on the mean was 11 standard errors
        assert!(check_moments(&w, 0.005, 2.0 / 50.0, KURTOSIS_NORMAL).is_err());
    }

    #[test]
    fn uniform_initializers_match_their_formulas() {
        let cases = [
            (Init::HeUniform, 50, 10, 0.0, 2.0 / 50.0),
            (Init::GlorotUniform, 30, 70, 0.0, 2.0 / 100.0),
            (Init::LecunUniform, 40, 7, 0.0, 1.0 / 40.0),
            (
                Init::Uniform {
                    low: -0.2,
                    high: 0.7,
                },
                3,
                3,
                0.25,
                0.81 / 12.0,
            ),
        ];
        for (seed, (init, fan_in, fan_out, mean, var)) in cases.into_iter().enumerate() {
            let w = sample(init, fan_in, fan_out, seed as u64);
            check_moments(&w, mean, var, KURTOSIS_UNIFORM)
                .unwrap_or_else(|e| panic!("{init}: {e}"));
            let (low, high) = (mean - (3.0 * var).sqrt(), mean + (3.0 * var).sqrt());
            assert!(
                w.iter().all(|x| (low - 1e-15..=high + 1e-15).contains(x)),
                "{init} out of [{low}, {high}]"
            );
        }
    }

    #[test]
    fn normal_initializers_match_their_formulas() {
        let cases = [
            (Init::HeNormal, 50, 10, 0.0, 2.0 / 50.0),
            (Init::GlorotNormal, 30, 70, 0.0, 2.0 / 100.0),
            (Init::LecunNormal, 40, 7, 0.0, 1.0 / 40.0),
            (
                Init::Normal {
                    mean: 1.5,
                    std: 0.3,
                },
                3,
                3,
                1.5,
                0.09,
            ),
        ];
        for (seed, (init, fan_in, fan_out, mean, var)) in cases.into_iter().enumerate() {
            let w = sample(init, fan_in, fan_out, 10 + seed as u64);
            check_moments(&w, mean, var, KURTOSIS_NORMAL).unwrap_or_else(|e| panic!("{init}: {e}"));
            // an untruncated normal reaches beyond 4σ in 200,000 draws
            // (expected count 200,000 · 6.3e-5 ≈ 13)
            let max = w
                .iter()
                .map(|x| ((x - mean) / var.sqrt()).abs())
                .fold(0.0, f64::max);
            assert!(max > 4.0, "{init}: largest |z| {max}");
        }
    }

    #[test]
    fn truncated_normal_stays_within_two_std_and_shrinks_the_variance() {
        let (m2, m4) = truncated_moments();
        // 1 − 4φ(2) / (2Φ(2) − 1) with φ(2) = e⁻² / √(2π), 2Φ(2) − 1 = erf(√2)
        let phi2 = (-2.0_f64).exp() / (2.0 * core::f64::consts::PI).sqrt();
        let erf_sqrt2 = 0.954_499_736_103_641_6;
        assert!((m2 - (1.0 - 4.0 * phi2 / erf_sqrt2)).abs() < 1e-12, "{m2}");
        assert!((m2 - 0.774).abs() < 5e-4, "{m2}");

        let (mean, std) = (-0.4, 0.25);
        let init = Init::TruncatedNormal { mean, std };
        let w = sample(init, 1, 1, 21);
        assert!(w.iter().all(|x| (x - mean).abs() <= 2.0 * std + 1e-15));
        // the bounds are ±2σ, not tighter: the tail beyond 1.99σ keeps
        // about 2 · 0.0010 / 0.954 of the mass, ~440 draws
        assert!(w.iter().any(|x| (x - mean).abs() > 1.99 * std));
        check_moments(&w, mean, m2 * std * std, m4 / (m2 * m2)).unwrap();
        // and it is not a plain normal
        assert!(check_moments(&w, mean, std * std, KURTOSIS_NORMAL).is_err());
    }

    #[test]
    fn constants_fill_constants() {
        let mut w = [1.0_f32; 5];
        Init::Zeros.fill(&mut w, 5, 5, &mut seeded_rng(0));
        assert_eq!(w, [0.0; 5]);
        Init::Constant(0.1).fill(&mut w, 5, 5, &mut seeded_rng(0));
        assert_eq!(w, [0.1_f32; 5]);
        // a zero-width uniform and a zero-std normal are constants too
        let mut w = [0.0_f64; 5];
        Init::Uniform {
            low: 2.0,
            high: 2.0,
        }
        .fill(&mut w, 5, 5, &mut seeded_rng(0));
        assert_eq!(w, [2.0; 5]);
        Init::TruncatedNormal {
            mean: -1.0,
            std: 0.0,
        }
        .fill(&mut w, 5, 5, &mut seeded_rng(0));
        assert_eq!(w, [-1.0; 5]);
    }

    /// `W` as a `fan_out × fan_in` matrix, or `len × 1`.
    #[cfg(feature = "alloc")]
    fn orthogonal_matrix(gain: f64, rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
        let mut w = vec![0.0_f64; rows * cols];
        Init::Orthogonal { gain }.fill(&mut w, cols, rows, &mut seeded_rng(seed));
        DMatrix::from_column_slice(rows, cols, &w)
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn orthogonal_is_orthogonal_in_every_shape() {
        for (rows, cols) in [
            (1, 1),
            (7, 7),
            (64, 64),
            (3, 10),
            (40, 100),
            (10, 3),
            (100, 40),
        ] {
            for gain in [1.0, 2.5, -0.5] {
                let w = orthogonal_matrix(gain, rows, cols, 3);
                let (gram, k) = if rows <= cols {
                    (&w * w.transpose(), rows)
                } else {
                    (w.transpose() * &w, cols)
                };
                let error = (gram - DMatrix::identity(k, k) * (gain * gain)).amax();
                assert!(error < 1e-10, "{rows}×{cols}, gain {gain}: {error}");
            }
        }
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn orthogonal_bias_is_a_scaled_unit_vector() {
        // length 4 ≠ fan_in · fan_out: a 4 × 1 matrix with an orthonormal column
        let mut b = [0.0_f64; 4];
        Init::Orthogonal { gain: 3.0 }.fill(&mut b, 5, 4, &mut seeded_rng(2));
        let norm = b.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 3.0).abs() < 1e-12, "{norm}");
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn orthogonal_is_uniformly_distributed() {
        // For a Haar random n × n orthogonal matrix every entry has mean 0
        // and variance 1/n. A QR with the other sign convention (Householder
        // without the fix, or fixing the signs of Q's diagonal instead of
        // R's) gives diagonal entries of one sign, mean ≈ ±0.5 for n = 3 (the
        // latter was tried: this test fails at 42 standard errors). One
        // diagonal and one off-diagonal entry per matrix keeps the samples
        // independent.
        let n = 3;
        let trials = 60_000;
        let mut diagonal = Vec::with_capacity(trials);
        let mut off = Vec::with_capacity(trials);
        let mut rng = seeded_rng(5);
        for t in 0..trials {
            let mut w = vec![0.0_f64; n * n];
            Init::Orthogonal { gain: 1.0 }.fill(&mut w, n, n, &mut rng);
            let w = DMatrix::from_column_slice(n, n, &w);
            let i = t % n;
            diagonal.push(w[(i, i)]);
            off.push(w[(i, (i + 1) % n)]);
        }
        // one entry of a uniform unit vector in ℝ³ is uniform on [−1, 1]
        // (Archimedes), kurtosis 9/5
        check_moments(&diagonal, 0.0, 1.0 / 3.0, KURTOSIS_UNIFORM).unwrap();
        check_moments(&off, 0.0, 1.0 / 3.0, KURTOSIS_UNIFORM).unwrap();
    }

    #[test]
    #[cfg(feature = "alloc")]
    fn orthogonal_entries_have_variance_gain_squared_over_the_long_side() {
        for (rows, cols) in [(40, 100), (100, 40)] {
            let w = orthogonal_matrix(2.0, rows, cols, 8);
            let mean_square = w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64;
            // exact: the squared norms of the orthonormal rows (or columns) sum to their count
            assert!((mean_square - 4.0 / 100.0).abs() < 1e-12, "{mean_square}");
        }
    }

    const ALL: [Init; 12] = [
        Init::Zeros,
        Init::Constant(0.1),
        Init::Uniform {
            low: -0.5,
            high: 0.5,
        },
        Init::Normal {
            mean: 0.0,
            std: 0.1,
        },
        Init::TruncatedNormal {
            mean: 0.0,
            std: 0.1,
        },
        Init::GlorotUniform,
        Init::GlorotNormal,
        Init::HeUniform,
        Init::HeNormal,
        Init::LecunUniform,
        Init::LecunNormal,
        Init::Orthogonal { gain: 1.0 },
    ];

    #[test]
    #[cfg(not(feature = "alloc"))]
    #[should_panic(expected = "orthogonal initialization needs the `alloc` feature")]
    fn orthogonal_needs_alloc() {
        Init::Orthogonal { gain: 1.0 }.fill(&mut [0.0_f32; 4], 2, 2, &mut seeded_rng(0));
    }

    #[test]
    fn same_seed_same_bits_across_scalar_types() {
        for init in ALL {
            if cfg!(not(feature = "alloc")) && matches!(init, Init::Orthogonal { .. }) {
                continue;
            }
            let mut a = [0.0_f64; 12];
            let mut a2 = [0.0_f64; 12];
            let mut b = [0.0_f32; 12];
            init.fill(&mut a, 4, 3, &mut seeded_rng(9));
            init.fill(&mut a2, 4, 3, &mut seeded_rng(9));
            init.fill(&mut b, 4, 3, &mut seeded_rng(9));
            for ((a, a2), b) in a.iter().zip(&a2).zip(&b) {
                assert_eq!(a.to_bits(), a2.to_bits(), "{init}");
                assert_eq!((*a as f32).to_bits(), b.to_bits(), "{init}");
            }
            if !matches!(init, Init::Zeros | Init::Constant(_)) {
                let mut c = [0.0_f64; 12];
                init.fill(&mut c, 4, 3, &mut seeded_rng(10));
                assert_ne!(a, c, "{init}");
            }
        }
    }

    #[test]
    fn he_and_glorot_uniform_draws_are_pinned() {
        // `from_seed` of every network depends on these exact bits
        let mut w = [0.0_f64; 6];
        Init::HeUniform.fill(&mut w, 3, 2, &mut seeded_rng(1));
        assert_eq!(
            w.map(f64::to_bits),
            [
                13_822_012_247_548_126_850,
                13_831_395_971_708_342_387,
                4_598_591_594_172_966_149,
                13_828_697_801_400_478_328,
                13_827_057_999_605_012_187,
                4_603_540_769_134_825_186,
            ]
        );
        let mut g = [0.0_f32; 6];
        Init::GlorotUniform.fill(&mut g, 2, 3, &mut seeded_rng(2));
        assert_eq!(
            g.map(f32::to_bits),
            [
                1_062_592_956,
                1_037_651_607,
                1_059_208_003,
                1_061_710_799,
                3_206_274_929,
                1_053_110_312,
            ]
        );
        // and the formula behind them: one `random::<f64>()` per value
        let mut rng = seeded_rng(1);
        let limit = 2.0_f64.sqrt();
        for x in w {
            let u: f64 = rng.random();
            assert_eq!(x.to_bits(), ((2.0 * u - 1.0) * limit).to_bits());
        }
        // a symmetric `uniform` with the same limit draws the same bits
        let mut v = [0.0_f64; 6];
        Init::Uniform {
            low: -limit,
            high: limit,
        }
        .fill(&mut v, 3, 2, &mut seeded_rng(1));
        assert_eq!(v.map(f64::to_bits), w.map(f64::to_bits));
    }

    #[test]
    fn names_and_display() {
        let names: Vec<_> = ALL.iter().map(|i| i.name()).collect();
        assert_eq!(
            names,
            [
                "zeros",
                "constant",
                "uniform",
                "normal",
                "truncated_normal",
                "glorot_uniform",
                "glorot_normal",
                "he_uniform",
                "he_normal",
                "lecun_uniform",
                "lecun_normal",
                "orthogonal",
            ]
        );
        let shown: Vec<_> = ALL.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "zeros",
                "constant(0.1)",
                "uniform(-0.5, 0.5)",
                "normal(0, 0.1)",
                "truncated_normal(0, 0.1)",
                "glorot_uniform",
                "glorot_normal",
                "he_uniform",
                "he_normal",
                "lecun_uniform",
                "lecun_normal",
                "orthogonal(1)",
            ]
        );
    }

    #[test]
    #[should_panic(expected = "invalid initializer uniform(1, -1)")]
    fn reversed_uniform_bounds_panic() {
        Init::Uniform {
            low: 1.0,
            high: -1.0,
        }
        .fill(&mut [0.0_f64; 3], 3, 1, &mut seeded_rng(0));
    }

    #[test]
    #[should_panic(expected = "invalid initializer normal(0, -1)")]
    fn negative_std_panics() {
        Init::Normal {
            mean: 0.0,
            std: -1.0,
        }
        .fill(&mut [0.0_f64; 3], 3, 1, &mut seeded_rng(0));
    }
}
