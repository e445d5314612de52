//! Fast `f32` kernels for activations: `exp`, `tanh`, the logistic sigmoid
//! and the tanh form of GELU, as branch-free polynomial and rational
//! approximations that the compiler can vectorise.
//!
//! Every kernel uses only `core` (arithmetic, comparisons and
//! [`f32::to_bits`]/[`f32::from_bits`]), so it works without std and gives
//! the same bits with and without it. None has a branch: where two
//! formulas are needed both are computed and one is selected, which
//! compiles to a blend. The `*_slice` functions apply a kernel in place
//! with a plain loop that the compiler vectorises (packed SSE2 on the
//! default x86-64 target, wider with `-C target-cpu=native`).
//!
//! The error bounds are against the `f64` functions of the standard
//! library (`f64::exp`, `f64::tanh`, and the `f64` evaluation of the same
//! sigmoid and GELU formulas), measured over *every* `f32` in `[-20, 20]`
//! (in the range of normal results for `exp`, and down to `-87.33` for the
//! sigmoid's relative error); the kernels are exactly `±1`, `0`, `1` or `x`
//! beyond. The tests of this module check the bounds again on 3 million
//! points each (a uniform grid of 2 million, one million evenly spaced bit
//! patterns, which reach the tiny magnitudes) plus the edges: `±0`, large
//! magnitudes, `±∞` and NaN.
//!
//! | kernel | bound (vs `f64`) | measured maximum |
//! |---|---|---|
//! | [`exp_f32`] | relative `1.0e-7` for normal results, `2⁻¹⁴⁹` (one subnormal step) absolute below | `8.2e-8`, `1.05e-45` |
//! | [`tanh_f32`] | absolute `1.0e-7`, relative `1.5e-7` | `7.9e-8`, `1.42e-7` |
//! | [`sigmoid_f32`] | absolute `1.0e-7`, relative `2.0e-7` (for normal results) | `8.9e-8`, `1.78e-7` |
//! | [`gelu_tanh_f32`] | `2.0e-7 · max(1, |x|)` absolute | `1.59e-7 · max(1, |x|)` |
//!
//! NaN propagates through every kernel; `f64` has no kernels here and keeps
//! the full accuracy of its math library.
//!
//! ```
//! use staticnet::fastmath::{sigmoid_f32_slice, tanh_f32};
//!
//! assert!((tanh_f32(0.5) - 0.462_117_16).abs() < 2e-7);
//! let mut xs = [-1.0_f32, 0.0, 1.0];
//! sigmoid_f32_slice(&mut xs);
//! assert_eq!(xs[1], 0.5);
//! assert!((xs[0] + xs[2] - 1.0).abs() < 2e-7);
//! ```

/// `|x|`, by clearing the sign bit.
#[inline(always)]
fn abs(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & 0x7fff_ffff)
}

/// `|x|` with the sign of `sign`.
#[inline(always)]
fn copysign(x: f32, sign: f32) -> f32 {
    f32::from_bits((x.to_bits() & 0x7fff_ffff) | (sign.to_bits() & 0x8000_0000))
}

/// `2^k` for `-126 ≤ k ≤ 127`, from the exponent bits (wrapping, so that
/// the garbage `k` of a NaN input cannot panic in a debug build).
#[inline(always)]
fn pow2i(k: i32) -> f32 {
    f32::from_bits((k.wrapping_add(127) as u32).wrapping_shl(23))
}

/// `e^x` for `f32`, branch-free, with relative error at most `1.0e-7`
/// (measured over every such `f32`: `8.2e-8`, under 1.4 units in the last
/// place) wherever the result is a normal number.
///
/// The argument is reduced as `x = k ln 2 + r` with `|r| ≤ ½ ln 2` (`k`
/// rounded by adding `1.5·2²³`, `ln 2` in two parts so that `r` is exact),
/// `e^r` is a degree-7 polynomial (Cephes' `expf` coefficients) and the
/// result is scaled by `2^k` built from exponent bits, in two factors so
/// that every `k` from `-150` to `128` works. Hence:
///
/// - `exp(±0) = 1` exactly;
/// - above `ln(f32::MAX) ≈ 88.7228` the result is `+∞`, and `exp(+∞) = +∞`;
/// - below `-87.34` the result is subnormal, rounded once from the
///   polynomial's value (so within one subnormal step, `2⁻¹⁴⁹`, of the true
///   value; measured: `0.75 · 2⁻¹⁴⁹`); below about `-103.97` it is `0`, and `exp(-∞) = 0`;
/// - NaN gives NaN.
///
/// ```
/// use staticnet::fastmath::exp_f32;
///
/// assert_eq!(exp_f32(0.0), 1.0);
/// assert_eq!(exp_f32(-0.0), 1.0);
/// let e = exp_f32(1.0);
/// assert!((e - core::f32::consts::E).abs() <= 1e-7 * core::f32::consts::E);
/// assert_eq!(exp_f32(89.0), f32::INFINITY);
/// assert_eq!(exp_f32(-110.0), 0.0);
/// assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
/// assert!(exp_f32(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    // Clamped by comparisons (which keep a NaN, unlike `min`/`max`): the
    // bounds still overflow to ∞ and underflow to 0 through the scaling.
    const HI: f32 = 89.0;
    const LO: f32 = -104.0;
    // 1.5·2²³: adding it rounds to an integer, which then sits in the low
    // mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_359_4; // 0.693359375, 9 significant bits
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = if x > HI { HI } else { x };
    let x = if x < LO { LO } else { x };
    let t = x * core::f32::consts::LOG2_E + MAGIC;
    let k = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let kf = t - MAGIC;
    let r = x - kf * LN2_HI - kf * LN2_LO;
    let r2 = r * r;
    let p = (((((1.987_569_1e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5)
        * r2
        + r
        + 1.0;
    // 2^k = 2^k1 · 2^k2 with both factors normal for -150 ≤ k ≤ 128; the
    // first product is exact, the second rounds once (to ∞, a subnormal
    // or 0 at the ends).
    let k1 = k >> 1;
    let k2 = k.wrapping_sub(k1);
    p * pow2i(k1) * pow2i(k2)
}

/// `tanh x` for `f32`, branch-free, with absolute error at most `1.0e-7`
/// (measured: `7.9e-8`) and relative error at most `1.5e-7` (measured:
/// `1.42e-7`, at `x ≈ 0.628`) on the whole line.
///
/// For `|x| < 0.625` it is an odd polynomial of degree 11 (Cephes'
/// `tanhf`), which keeps full relative precision down to the smallest
/// subnormals; above it, `1 - 2 / (e^{2|x|} + 1)` with [`exp_f32`], with
/// the sign of `x`. Both are computed and one selected. `tanh(±0) = ±0`,
/// the result is `±1` exactly from `|x| ≈ 9.01` on (and for `±∞`), and
/// NaN gives NaN.
///
/// ```
/// use staticnet::fastmath::tanh_f32;
///
/// assert!((tanh_f32(1.0) - 0.761_594_2).abs() <= 1e-7);
/// assert!((tanh_f32(-0.1) + 0.099_667_996).abs() <= 1e-7);
/// assert_eq!(tanh_f32(0.0).to_bits(), 0.0_f32.to_bits());
/// assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0_f32).to_bits());
/// assert_eq!(tanh_f32(20.0), 1.0);
/// assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
/// assert!(tanh_f32(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let s = x * x;
    let small =
        ((((-5.704_988_7e-3 * s + 2.063_909e-2) * s - 5.373_971_6e-2) * s + 1.333_144_2e-1) * s
            - 3.333_328e-1)
            * s
            * x
            + x;
    let a = abs(x);
    let e = exp_f32(2.0 * a);
    let large = 1.0 - 2.0 / (e + 1.0);
    // the sign of `x` on both (the polynomial alone would give +0 for -0)
    copysign(if a < 0.625 { small } else { large }, x)
}

/// The logistic sigmoid `1 / (1 + e^-x)` for `f32`, branch-free, with
/// absolute error at most `1.0e-7` (measured: `8.9e-8`) and relative error
/// at most `2.0e-7` (measured: `1.78e-7`) down to `x ≈ -87.33`, where the
/// result becomes subnormal.
///
/// It is `e / (1 + e)` for `x < 0` and `1 / (1 + e)` otherwise, with
/// `e = e^{-|x|}` from [`exp_f32`] (never overflowing), as the sigmoid of
/// [`activation`](crate::activation) does. `sigmoid(-∞) = 0`,
/// `sigmoid(+∞) = 1`, `sigmoid(±0) = 0.5`, and NaN gives NaN.
///
/// ```
/// use staticnet::fastmath::sigmoid_f32;
///
/// assert_eq!(sigmoid_f32(0.0), 0.5);
/// assert!((sigmoid_f32(2.0) - 0.880_797_1).abs() <= 1e-7);
/// assert!((sigmoid_f32(-2.0) - 0.119_202_92).abs() <= 1e-7);
/// assert_eq!(sigmoid_f32(f32::INFINITY), 1.0);
/// assert_eq!(sigmoid_f32(f32::NEG_INFINITY), 0.0);
/// assert!(sigmoid_f32(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn sigmoid_f32(x: f32) -> f32 {
    let e = exp_f32(-abs(x));
    let num = if x < 0.0 { e } else { 1.0 };
    num / (1.0 + e)
}

/// The tanh approximation of GELU for `f32`,
/// `½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))`, the function of
/// [`Gelu`](crate::activation::Gelu) (and PyTorch's
/// `GELU(approximate="tanh")`), branch-free.
///
/// Like `Gelu` it is evaluated as `x σ(2u)` with
/// `2u = 2√(2/π) (x + 0.044715 x³)` and [`sigmoid_f32`], so negative `x`
/// keeps its relative precision. Against the `f64` evaluation of the same
/// formula the error is at most `2.0e-7 · max(1, |x|)` (measured:
/// `1.59e-7 · max(1, |x|)`). The relative error is larger only where the
/// result is tiny: for `x` below about `-3` the rounding of `2u` (a number
/// up to about 100) shows in `e^{2u}`. Large positive `x` (and `+∞`) give `x`; large
/// negative `x` give `-0.0`, and so does `-∞` (the limit, where the
/// formula itself would give `-∞ · 0 = NaN`); NaN gives NaN.
///
/// ```
/// use staticnet::fastmath::gelu_tanh_f32;
///
/// assert_eq!(gelu_tanh_f32(0.0), 0.0);
/// assert!((gelu_tanh_f32(1.0) - 0.841_192).abs() <= 2e-7);
/// assert!((gelu_tanh_f32(-1.0) + 0.158_808).abs() <= 2e-7);
/// assert_eq!(gelu_tanh_f32(100.0), 100.0);
/// assert_eq!(gelu_tanh_f32(-100.0), 0.0);
/// assert_eq!(gelu_tanh_f32(f32::NEG_INFINITY), 0.0);
/// assert!(gelu_tanh_f32(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn gelu_tanh_f32(x: f32) -> f32 {
    // 2 √(2/π) and the cubic coefficient of `Gelu`.
    const C: f32 = 1.595_769;
    const K: f32 = 0.044_715;
    let s = sigmoid_f32(C * (x + K * x * x * x));
    if s == 0.0 { -0.0 } else { x * s }
}

/// [`exp_f32`] of every element, in place.
///
/// ```
/// use staticnet::fastmath::exp_f32_slice;
///
/// let mut xs = [0.0_f32, 1.0, f32::NEG_INFINITY];
/// exp_f32_slice(&mut xs);
/// assert_eq!(xs[0], 1.0);
/// assert!((xs[1] - core::f32::consts::E).abs() < 1e-6);
/// assert_eq!(xs[2], 0.0);
/// ```
pub fn exp_f32_slice(xs: &mut [f32]) {
    for x in xs {
        *x = exp_f32(*x);
    }
}

/// [`tanh_f32`] of every element, in place.
///
/// ```
/// use staticnet::fastmath::tanh_f32_slice;
///
/// let mut xs = [-30.0_f32, 0.0, 30.0];
/// tanh_f32_slice(&mut xs);
/// assert_eq!(xs, [-1.0, 0.0, 1.0]);
/// ```
pub fn tanh_f32_slice(xs: &mut [f32]) {
    for x in xs {
        *x = tanh_f32(*x);
    }
}

/// [`sigmoid_f32`] of every element, in place.
///
/// ```
/// use staticnet::fastmath::sigmoid_f32_slice;
///
/// let mut xs = [-200.0_f32, 0.0, 200.0];
/// sigmoid_f32_slice(&mut xs);
/// assert_eq!(xs, [0.0, 0.5, 1.0]);
/// ```
pub fn sigmoid_f32_slice(xs: &mut [f32]) {
    for x in xs {
        *x = sigmoid_f32(*x);
    }
}

/// [`gelu_tanh_f32`] of every element, in place.
///
/// ```
/// use staticnet::fastmath::gelu_tanh_f32_slice;
///
/// let mut xs = [-50.0_f32, 0.0, 50.0];
/// gelu_tanh_f32_slice(&mut xs);
/// assert_eq!(xs, [0.0, 0.0, 50.0]);
/// ```
pub fn gelu_tanh_f32_slice(xs: &mut [f32]) {
    for x in xs {
        *x = gelu_tanh_f32(*x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points of a uniform grid of `n` over `[lo, hi]`.
    fn uniform(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f32> {
        (0..n).map(move |i| (lo + (hi - lo) * i as f64 / (n - 1) as f64) as f32)
    }

    /// About `n` `f32` bit patterns evenly spaced through `[-m, m]`, both
    /// signs: log-spaced in value, so down to the subnormals.
    fn bit_patterns(m: f32, n: u32) -> impl Iterator<Item = f32> {
        let top = m.to_bits();
        let stride = (2 * top / n).max(1) as usize;
        (0..=top)
            .step_by(stride)
            .flat_map(|b| [f32::from_bits(b), -f32::from_bits(b)])
    }

    /// Every grid point for the kernels on `[-20, 20]`: 2 million uniform,
    /// about 1 million bit patterns.
    fn grid() -> impl Iterator<Item = f32> {
        uniform(-20.0, 20.0, 2_000_000).chain(bit_patterns(20.0, 1_000_000))
    }

    fn sigmoid64(x: f64) -> f64 {
        if x >= 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            let e = x.exp();
            e / (1.0 + e)
        }
    }

    fn gelu64(x: f64) -> f64 {
        x * sigmoid64(2.0 * (2.0 / core::f64::consts::PI).sqrt() * (x + 0.044_715 * x * x * x))
    }

    /// Max absolute and relative errors of `f` against `g` over `points`,
    /// with the count of points.
    fn errors(
        points: impl Iterator<Item = f32>,
        f: impl Fn(f32) -> f32,
        g: impl Fn(f64) -> f64,
    ) -> (f64, f64, usize) {
        let (mut abs_max, mut rel_max, mut n) = (0.0_f64, 0.0_f64, 0);
        for x in points {
            let (y, r) = (f(x) as f64, g(x as f64));
            let e = (y - r).abs();
            abs_max = abs_max.max(e);
            if r != 0.0 {
                rel_max = rel_max.max(e / r.abs());
            }
            n += 1;
        }
        (abs_max, rel_max, n)
    }

    const EDGES: [f32; 12] = [
        0.0,
        -0.0,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        1e-45,
        -1e-45,
        1e10,
        -1e10,
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ];

    #[test]
    fn exp_accuracy() {
        // normal results: [-87.33, 88.72]
        let points = uniform(-87.33, 88.72, 2_000_000).chain(bit_patterns(20.0, 1_000_000));
        let (_, rel, n) = errors(points, exp_f32, f64::exp);
        eprintln!("exp_f32: max relative error {rel:.3e} over {n} points");
        assert!(rel <= 1.0e-7, "{rel:e}");
        // subnormal results, every f32 in [-104, -87.34]: within one step
        let tiny = f32::from_bits(1) as f64;
        let points = ((-87.34_f32).to_bits()..=(-104.0_f32).to_bits()).map(f32::from_bits);
        let (abs, _, n) = errors(points, exp_f32, f64::exp);
        eprintln!("exp_f32: max absolute error {abs:.3e} over {n} subnormal points");
        assert!(abs <= tiny, "{abs:e}");
    }

    #[test]
    fn exp_edges() {
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-0.0), 1.0);
        assert!(exp_f32(88.72).is_finite());
        assert_eq!(exp_f32(88.73), f32::INFINITY);
        assert_eq!(exp_f32(1e10), f32::INFINITY);
        assert_eq!(exp_f32(f32::MAX), f32::INFINITY);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert!(exp_f32(-103.0) > 0.0);
        assert_eq!(exp_f32(-104.0), 0.0);
        assert_eq!(exp_f32(-1e10), 0.0);
        assert_eq!(exp_f32(f32::MIN), 0.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(1e-45), 1.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert!(exp_f32(-f32::NAN).is_nan());
    }

    #[test]
    fn tanh_accuracy() {
        let (abs, rel, n) = errors(grid().chain(EDGES), tanh_f32, f64::tanh);
        eprintln!("tanh_f32: max absolute error {abs:.3e}, relative {rel:.3e} over {n} points");
        assert!(abs <= 1.0e-7, "{abs:e}");
        assert!(rel <= 1.5e-7, "{rel:e}");
    }

    #[test]
    fn tanh_edges() {
        assert_eq!(tanh_f32(0.0).to_bits(), 0.0_f32.to_bits());
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0_f32).to_bits());
        assert_eq!(tanh_f32(1e-45), 1e-45);
        assert_eq!(tanh_f32(-1e-45), -1e-45);
        for x in [9.1, 20.0, 1e10, f32::MAX, f32::INFINITY] {
            assert_eq!(tanh_f32(x), 1.0, "{x}");
            assert_eq!(tanh_f32(-x), -1.0, "{x}");
        }
        assert!(tanh_f32(f32::NAN).is_nan());
        assert!(tanh_f32(-f32::NAN).is_nan());
    }

    #[test]
    fn sigmoid_accuracy() {
        let (abs, rel, n) = errors(grid().chain(EDGES), sigmoid_f32, sigmoid64);
        eprintln!("sigmoid_f32: max absolute error {abs:.3e}, relative {rel:.3e} over {n} points");
        assert!(abs <= 1.0e-7, "{abs:e}");
        assert!(rel <= 2.0e-7, "{rel:e}");
        // the relative error down to the subnormal results
        let (_, rel, n) = errors(uniform(-87.33, -20.0, 500_000), sigmoid_f32, sigmoid64);
        eprintln!("sigmoid_f32: max relative error {rel:.3e} over {n} points in [-87.33, -20]");
        assert!(rel <= 2.0e-7, "{rel:e}");
    }

    #[test]
    fn sigmoid_edges() {
        assert_eq!(sigmoid_f32(0.0), 0.5);
        assert_eq!(sigmoid_f32(-0.0), 0.5);
        for x in [20.0, 1e10, f32::MAX, f32::INFINITY] {
            assert_eq!(sigmoid_f32(x), 1.0, "{x}");
        }
        for x in [-104.0, -1e10, f32::MIN, f32::NEG_INFINITY] {
            assert_eq!(sigmoid_f32(x), 0.0, "{x}");
        }
        assert!(sigmoid_f32(f32::NAN).is_nan());
        assert!(sigmoid_f32(-f32::NAN).is_nan());
    }

    #[test]
    fn gelu_accuracy() {
        let (mut worst, mut n) = (0.0_f64, 0);
        for x in grid().chain(EDGES[..10].iter().copied()) {
            let e = (gelu_tanh_f32(x) as f64 - gelu64(x as f64)).abs();
            worst = worst.max(e / (x.abs() as f64).max(1.0));
            n += 1;
        }
        eprintln!("gelu_tanh_f32: max error / max(1, |x|) {worst:.3e} over {n} points");
        assert!(worst <= 2.0e-7, "{worst:e}");
    }

    #[test]
    fn gelu_edges() {
        assert_eq!(gelu_tanh_f32(0.0), 0.0);
        for x in [20.0, 1e10, f32::MAX, f32::INFINITY] {
            assert_eq!(gelu_tanh_f32(x), x, "{x}");
        }
        for x in [-20.0, -1e10, f32::MIN, f32::NEG_INFINITY] {
            assert_eq!(gelu_tanh_f32(x), 0.0, "{x}");
        }
        assert!(gelu_tanh_f32(f32::NAN).is_nan());
        assert!(gelu_tanh_f32(-f32::NAN).is_nan());
    }

    #[test]
    fn slices_match_scalars() {
        let xs: Vec<f32> = uniform(-30.0, 30.0, 1001).chain(EDGES).collect();
        type Pair = (fn(&mut [f32]), fn(f32) -> f32);
        let kernels: [Pair; 4] = [
            (exp_f32_slice, exp_f32),
            (tanh_f32_slice, tanh_f32),
            (sigmoid_f32_slice, sigmoid_f32),
            (gelu_tanh_f32_slice, gelu_tanh_f32),
        ];
        for (slice, scalar) in kernels {
            let mut ys = xs.clone();
            slice(&mut ys);
            for (&x, &y) in xs.iter().zip(&ys) {
                assert_eq!(y.to_bits(), scalar(x).to_bits(), "{x}");
            }
        }
    }
}
