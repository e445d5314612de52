//! Learning-rate schedules: the learning rate as a function of the epoch,
//! or of how the loss has been going.
//!
//! A trainer asks [`Schedule::rate`] at the start of every epoch and tells
//! [`Schedule::observe`] the loss that ended it.
//!
//! ```
//! use staticnet::schedule::{InverseTimeDecay, Schedule, StepDecay};
//!
//! let mut step = StepDecay::new(0.1, 0.5, 10);
//! assert_eq!(step.rate(9), 0.1);
//! assert_eq!(step.rate(10), 0.05);
//!
//! // the 1/k decay of stochastic approximation
//! let mut decay = InverseTimeDecay::new(1.0, 1.0);
//! let rates: Vec<f64> = (0..4).map(|k| decay.rate(k)).collect();
//! assert_eq!(rates, [1.0, 1.0 / 2.0, 1.0 / 3.0, 1.0 / 4.0]);
//! ```

use core::f64::consts::PI;
use core::fmt;

/// A learning-rate schedule, asked once per epoch.
///
/// ```
/// use staticnet::schedule::{ExponentialDecay, Schedule};
///
/// fn first_rates(schedule: &mut dyn Schedule, epochs: usize) -> Vec<f64> {
///     (0..epochs).map(|epoch| schedule.rate(epoch)).collect()
/// }
/// assert_eq!(first_rates(&mut 0.01, 3), [0.01; 3]);
/// let rates = first_rates(&mut ExponentialDecay::new(1.0, 2.0_f64.ln()), 3);
/// assert!((rates[2] - 0.25).abs() < 1e-15);
/// ```
pub trait Schedule {
    /// The learning rate for `epoch` (counting from 0).
    ///
    /// ```
    /// use staticnet::schedule::{Schedule, StepDecay};
    ///
    /// // two steps of × 0.1 by epoch 12
    /// assert!((StepDecay::new(1.0, 0.1, 5).rate(12) - 0.01).abs() < 1e-15);
    /// ```
    fn rate(&mut self, epoch: usize) -> f64;

    /// Tells the schedule the loss that ended an epoch (the validation loss
    /// when there is one); only reduce-on-plateau uses it.
    ///
    /// ```
    /// use staticnet::schedule::{ReduceOnPlateau, Schedule};
    ///
    /// let mut plateau = ReduceOnPlateau::new(0.1, 0.5, 0, 0.0, 0.0);
    /// plateau.observe(1.0);
    /// plateau.observe(1.0); // no improvement, patience 0: halve
    /// assert_eq!(plateau.rate(2), 0.05);
    /// ```
    fn observe(&mut self, _loss: f64) {}

    /// What a checkpoint saves so that the schedule resumes exactly: empty
    /// (the default) for schedules that depend on the epoch alone.
    ///
    /// ```
    /// use staticnet::schedule::{ReduceOnPlateau, Schedule, StepDecay};
    ///
    /// assert!(StepDecay::new(1.0, 0.1, 5).state().is_empty());
    /// let mut plateau = ReduceOnPlateau::new(0.1, 0.5, 3, 0.0, 0.0);
    /// plateau.observe(2.0);
    /// assert_eq!(plateau.state(), [0.1, 2.0, 0.0]);
    /// ```
    fn state(&self) -> Vec<f64> {
        Vec::new()
    }

    /// Restores what [`state`](Self::state) returned.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`](crate::Error::Invalid) when the state does not
    /// belong to this kind of schedule; the schedule is unchanged then.
    ///
    /// ```
    /// use staticnet::schedule::{ReduceOnPlateau, Schedule};
    ///
    /// let mut plateau = ReduceOnPlateau::new(0.1, 0.5, 3, 0.0, 0.0);
    /// plateau.restore_state(&[0.05, 1.5, 2.0])?;
    /// assert_eq!((plateau.rate, plateau.best, plateau.bad_epochs), (0.05, 1.5, 2));
    /// assert!(plateau.restore_state(&[]).is_err());
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    fn restore_state(&mut self, state: &[f64]) -> crate::Result<()> {
        if state.is_empty() {
            Ok(())
        } else {
            Err(crate::Error::Invalid(format!(
                "this schedule keeps no state, but the checkpoint holds {state:?}"
            )))
        }
    }
}

/// A plain number is a constant schedule.
///
/// ```
/// use staticnet::schedule::Schedule;
///
/// let mut rate = 0.01;
/// assert_eq!(rate.rate(0), 0.01);
/// rate.observe(3.0);
/// assert_eq!(rate.rate(100), 0.01);
/// ```
impl Schedule for f64 {
    fn rate(&mut self, _epoch: usize) -> f64 {
        *self
    }
}

/// A boxed schedule is a schedule.
///
/// ```
/// use staticnet::schedule::{Constant, Schedule, StepDecay};
///
/// let mut schedules: Vec<Box<dyn Schedule>> =
///     vec![Box::new(Constant::new(0.1)), Box::new(StepDecay::new(0.1, 0.5, 1))];
/// let rates: Vec<f64> = schedules.iter_mut().map(|s| s.rate(1)).collect();
/// assert_eq!(rates, [0.1, 0.05]);
/// ```
impl<S: Schedule + ?Sized> Schedule for Box<S> {
    fn rate(&mut self, epoch: usize) -> f64 {
        (**self).rate(epoch)
    }

    fn observe(&mut self, loss: f64) {
        (**self).observe(loss);
    }

    fn state(&self) -> Vec<f64> {
        (**self).state()
    }

    fn restore_state(&mut self, state: &[f64]) -> crate::Result<()> {
        (**self).restore_state(state)
    }
}

/// A schedule borrowed mutably is a schedule (its state advances in place).
///
/// ```
/// use staticnet::schedule::{ReduceOnPlateau, Schedule};
///
/// fn observe_all(mut schedule: impl Schedule, losses: &[f64]) {
///     losses.iter().for_each(|loss| schedule.observe(*loss));
/// }
/// let mut plateau = ReduceOnPlateau::new(1.0, 0.1, 0, 0.0, 0.0);
/// observe_all(&mut plateau, &[2.0, 2.0]);
/// assert_eq!(plateau.rate, 0.1);
/// ```
impl<S: Schedule + ?Sized> Schedule for &mut S {
    fn rate(&mut self, epoch: usize) -> f64 {
        (**self).rate(epoch)
    }

    fn observe(&mut self, loss: f64) {
        (**self).observe(loss);
    }

    fn state(&self) -> Vec<f64> {
        (**self).state()
    }

    fn restore_state(&mut self, state: &[f64]) -> crate::Result<()> {
        (**self).restore_state(state)
    }
}

/// The same rate every epoch.
///
/// ```
/// use staticnet::schedule::{Constant, Schedule};
///
/// let mut constant = Constant::new(0.05);
/// assert_eq!(constant.rate(0), 0.05);
/// assert_eq!(constant.rate(1000), 0.05);
/// assert_eq!(constant.to_string(), "constant(0.05)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Constant {
    /// The learning rate.
    pub rate: f64,
}

impl Constant {
    /// The constant schedule `rate`.
    ///
    /// ```
    /// assert_eq!(staticnet::schedule::Constant::new(0.1).rate, 0.1);
    /// ```
    #[must_use]
    pub const fn new(rate: f64) -> Self {
        Self { rate }
    }
}

impl Schedule for Constant {
    fn rate(&mut self, _epoch: usize) -> f64 {
        self.rate
    }
}

impl fmt::Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "constant({})", self.rate)
    }
}

/// `initial · factor^⌊epoch / every⌋`: the rate is multiplied by `factor`
/// every `every` epochs.
///
/// ```
/// use staticnet::schedule::{Schedule, StepDecay};
///
/// let mut step = StepDecay::new(0.1, 0.5, 10);
/// assert_eq!(step.rate(0), 0.1);
/// assert_eq!(step.rate(19), 0.05);
/// assert_eq!(step.rate(20), 0.025);
/// assert_eq!(step.to_string(), "step_decay(0.1, every 10, × 0.5)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct StepDecay {
    /// The rate of the first `every` epochs.
    pub initial: f64,
    /// What the rate is multiplied by at each step.
    pub factor: f64,
    /// The number of epochs between steps (at least 1).
    pub every: usize,
}

impl StepDecay {
    /// A rate of `initial` multiplied by `factor` every `every` epochs.
    ///
    /// ```
    /// let step = staticnet::schedule::StepDecay::new(0.1, 0.5, 10);
    /// assert_eq!((step.initial, step.factor, step.every), (0.1, 0.5, 10));
    /// ```
    ///
    /// # Panics
    ///
    /// If `every` is 0.
    #[must_use]
    pub const fn new(initial: f64, factor: f64, every: usize) -> Self {
        assert!(every > 0, "a step decay needs `every` of at least 1");
        Self {
            initial,
            factor,
            every,
        }
    }
}

impl Schedule for StepDecay {
    /// # Panics
    ///
    /// If `every` is 0.
    fn rate(&mut self, epoch: usize) -> f64 {
        assert!(self.every > 0, "a step decay needs `every` of at least 1");
        let steps = epoch / self.every;
        // exact repeated multiplication for any step count that fits in i32
        i32::try_from(steps).map_or_else(
            |_| self.initial * self.factor.powf(steps as f64),
            |steps| self.initial * self.factor.powi(steps),
        )
    }
}

impl fmt::Display for StepDecay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step_decay({}, every {}, × {})",
            self.initial, self.every, self.factor
        )
    }
}

/// `initial · e^(−rate · epoch)`: the rate shrinks by the factor `e^(−rate)`
/// every epoch.
///
/// ```
/// use staticnet::schedule::{ExponentialDecay, Schedule};
///
/// let mut decay = ExponentialDecay::new(0.1, 0.5);
/// assert_eq!(decay.rate(0), 0.1);
/// assert!((decay.rate(2) - 0.1 / std::f64::consts::E).abs() < 1e-15);
/// assert_eq!(decay.to_string(), "exponential_decay(0.1, rate 0.5)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ExponentialDecay {
    /// The rate of epoch 0.
    pub initial: f64,
    /// The decay rate per epoch (the exponent's coefficient).
    pub rate: f64,
}

impl ExponentialDecay {
    /// The schedule `initial · e^(−rate · epoch)`.
    ///
    /// ```
    /// let decay = staticnet::schedule::ExponentialDecay::new(0.1, 0.01);
    /// assert_eq!((decay.initial, decay.rate), (0.1, 0.01));
    /// ```
    #[must_use]
    pub const fn new(initial: f64, rate: f64) -> Self {
        Self { initial, rate }
    }
}

impl Schedule for ExponentialDecay {
    fn rate(&mut self, epoch: usize) -> f64 {
        self.initial * (-self.rate * epoch as f64).exp()
    }
}

impl fmt::Display for ExponentialDecay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exponential_decay({}, rate {})", self.initial, self.rate)
    }
}

/// `initial / (1 + decay · epoch)`: the `1/k` decay under which stochastic
/// gradient descent converges (the rates sum to infinity, their squares do
/// not).
///
/// ```
/// use staticnet::schedule::{InverseTimeDecay, Schedule};
///
/// let mut decay = InverseTimeDecay::new(0.1, 0.5);
/// assert_eq!(decay.rate(0), 0.1);
/// assert_eq!(decay.rate(2), 0.05);
/// assert_eq!(decay.to_string(), "inverse_time_decay(0.1, decay 0.5)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct InverseTimeDecay {
    /// The rate of epoch 0.
    pub initial: f64,
    /// How fast the denominator grows per epoch.
    pub decay: f64,
}

impl InverseTimeDecay {
    /// The schedule `initial / (1 + decay · epoch)`.
    ///
    /// ```
    /// let decay = staticnet::schedule::InverseTimeDecay::new(0.1, 1.0);
    /// assert_eq!((decay.initial, decay.decay), (0.1, 1.0));
    /// ```
    #[must_use]
    pub const fn new(initial: f64, decay: f64) -> Self {
        Self { initial, decay }
    }
}

impl Schedule for InverseTimeDecay {
    fn rate(&mut self, epoch: usize) -> f64 {
        self.initial / (1.0 + self.decay * epoch as f64)
    }
}

impl fmt::Display for InverseTimeDecay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "inverse_time_decay({}, decay {})",
            self.initial, self.decay
        )
    }
}

/// `initial / √(1 + decay · epoch)`: the `1/√k` decay.
///
/// ```
/// use staticnet::schedule::{InverseSqrtDecay, Schedule};
///
/// let mut decay = InverseSqrtDecay::new(0.1, 1.0);
/// assert_eq!(decay.rate(0), 0.1);
/// assert_eq!(decay.rate(3), 0.05);
/// assert_eq!(decay.to_string(), "inverse_sqrt_decay(0.1, decay 1)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct InverseSqrtDecay {
    /// The rate of epoch 0.
    pub initial: f64,
    /// How fast the term under the square root grows per epoch.
    pub decay: f64,
}

impl InverseSqrtDecay {
    /// The schedule `initial / √(1 + decay · epoch)`.
    ///
    /// ```
    /// let decay = staticnet::schedule::InverseSqrtDecay::new(0.1, 1.0);
    /// assert_eq!((decay.initial, decay.decay), (0.1, 1.0));
    /// ```
    #[must_use]
    pub const fn new(initial: f64, decay: f64) -> Self {
        Self { initial, decay }
    }
}

impl Schedule for InverseSqrtDecay {
    fn rate(&mut self, epoch: usize) -> f64 {
        self.initial / (1.0 + self.decay * epoch as f64).sqrt()
    }
}

impl fmt::Display for InverseSqrtDecay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "inverse_sqrt_decay({}, decay {})",
            self.initial, self.decay
        )
    }
}

/// A linear warm-up to `initial`, then a cosine decay to `minimum`.
///
/// - epochs `0 ≤ e < warmup`: `initial · (e + 1) / warmup`, reaching
///   `initial` at epoch `warmup − 1`;
/// - epochs `warmup ≤ e ≤ total`:
///   `minimum + ½ (initial − minimum) (1 + cos(π (e − warmup) / (total − warmup)))`,
///   from `initial` at epoch `warmup` down to `minimum` at epoch `total`;
/// - after `total`: `minimum`.
///
/// ```
/// use staticnet::schedule::{CosineWithWarmup, Schedule};
///
/// let mut cosine = CosineWithWarmup::new(0.1, 0.0, 2, 12);
/// assert_eq!(cosine.rate(0), 0.05);
/// assert_eq!(cosine.rate(1), 0.1);
/// assert_eq!(cosine.rate(2), 0.1);
/// assert!((cosine.rate(7) - 0.05).abs() < 1e-15); // halfway down
/// assert_eq!(cosine.rate(12), 0.0);
/// assert_eq!(cosine.rate(50), 0.0);
/// assert_eq!(cosine.to_string(), "cosine(0.1 → 0, warmup 2, total 12)");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CosineWithWarmup {
    /// The peak rate, reached at the end of the warm-up.
    pub initial: f64,
    /// The final rate, reached at epoch `total`.
    pub minimum: f64,
    /// The number of warm-up epochs (0 for none).
    pub warmup: usize,
    /// The epoch at which the cosine reaches `minimum` (at least `warmup`).
    pub total: usize,
}

impl CosineWithWarmup {
    /// `warmup` epochs rising linearly to `initial`, then a cosine down to
    /// `minimum` at epoch `total`.
    ///
    /// ```
    /// let cosine = staticnet::schedule::CosineWithWarmup::new(0.1, 0.001, 5, 100);
    /// assert_eq!((cosine.warmup, cosine.total), (5, 100));
    /// ```
    ///
    /// # Panics
    ///
    /// If `warmup > total`.
    #[must_use]
    pub const fn new(initial: f64, minimum: f64, warmup: usize, total: usize) -> Self {
        assert!(
            warmup <= total,
            "a cosine schedule's warm-up cannot outlast its total"
        );
        Self {
            initial,
            minimum,
            warmup,
            total,
        }
    }
}

impl Schedule for CosineWithWarmup {
    fn rate(&mut self, epoch: usize) -> f64 {
        if epoch < self.warmup {
            self.initial * (epoch + 1) as f64 / self.warmup as f64
        } else if epoch >= self.total {
            // also covers `warmup == total`, where the cosine has no length
            self.minimum
        } else {
            let progress = (epoch - self.warmup) as f64 / (self.total - self.warmup) as f64;
            self.minimum + 0.5 * (self.initial - self.minimum) * (1.0 + (PI * progress).cos())
        }
    }
}

impl fmt::Display for CosineWithWarmup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cosine({} → {}, warmup {}, total {})",
            self.initial, self.minimum, self.warmup, self.total
        )
    }
}

/// Multiplies the rate by `factor` when the observed loss has not improved
/// for more than `patience` epochs in a row (as PyTorch's
/// `ReduceLROnPlateau` in its default relative mode, without cooldown).
///
/// A loss improves when it is below `best · (1 − threshold)` (for a negative
/// best, `best · (1 + threshold)`: always a relative improvement of
/// `threshold`). An improvement records the new best and clears the count of
/// bad epochs; anything else, NaN included, is a bad epoch, and the
/// `patience + 1`-th bad epoch in a row sets
/// `rate = max(rate · factor, minimum)` and clears the count.
///
/// ```
/// use staticnet::schedule::{ReduceOnPlateau, Schedule};
///
/// let mut plateau = ReduceOnPlateau::new(0.1, 0.5, 1, 1e-4, 0.01);
/// for loss in [1.0, 0.5, 0.5, 0.5] {
///     plateau.observe(loss);
/// }
/// assert_eq!(plateau.rate(4), 0.05); // two epochs without improvement
/// for _ in 0..6 {
///     plateau.observe(0.5);
/// }
/// assert_eq!(plateau.rate(10), 0.01); // 0.05 → 0.025 → 0.0125 → 0.01
/// assert_eq!(plateau.best, 0.5);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceOnPlateau {
    /// The current learning rate.
    pub rate: f64,
    /// What the rate is multiplied by on a plateau, in `(0, 1)`.
    pub factor: f64,
    /// The number of bad epochs in a row tolerated before reducing.
    pub patience: usize,
    /// The relative improvement a loss needs over the best to count as
    /// better, in `[0, 1)` (for example `1e-4`).
    pub threshold: f64,
    /// The rate is never reduced below this.
    pub minimum: f64,
    /// The best loss observed so far (`+∞` before the first).
    pub best: f64,
    /// The number of epochs since the last improvement or reduction.
    pub bad_epochs: usize,
}

impl ReduceOnPlateau {
    /// Starts at `rate`, multiplies it by `factor` after more than `patience`
    /// epochs without a relative improvement of `threshold`, never going
    /// below `minimum`.
    ///
    /// ```
    /// let plateau = staticnet::schedule::ReduceOnPlateau::new(0.1, 0.5, 10, 1e-4, 1e-6);
    /// assert_eq!(plateau.best, f64::INFINITY);
    /// assert_eq!(plateau.bad_epochs, 0);
    /// ```
    ///
    /// # Panics
    ///
    /// If `factor` is not in `(0, 1)` or `threshold` not in `[0, 1)`.
    #[must_use]
    pub const fn new(
        rate: f64,
        factor: f64,
        patience: usize,
        threshold: f64,
        minimum: f64,
    ) -> Self {
        assert!(
            factor > 0.0 && factor < 1.0,
            "reduce-on-plateau needs a factor in (0, 1)"
        );
        assert!(
            threshold >= 0.0 && threshold < 1.0,
            "reduce-on-plateau needs a threshold in [0, 1)"
        );
        Self {
            rate,
            factor,
            patience,
            threshold,
            minimum,
            best: f64::INFINITY,
            bad_epochs: 0,
        }
    }

    /// Whether `loss` improves on the best loss by the relative threshold.
    ///
    /// ```
    /// let plateau = staticnet::schedule::ReduceOnPlateau {
    ///     best: 2.0,
    ///     ..staticnet::schedule::ReduceOnPlateau::new(0.1, 0.5, 0, 0.25, 0.0)
    /// };
    /// assert!(plateau.improves(1.4));
    /// assert!(!plateau.improves(1.5)); // needs below 2 · (1 − 0.25)
    /// assert!(!plateau.improves(f64::NAN));
    /// ```
    #[must_use]
    pub fn improves(&self, loss: f64) -> bool {
        let needed = if self.best >= 0.0 {
            self.best * (1.0 - self.threshold)
        } else {
            self.best * (1.0 + self.threshold)
        };
        loss < needed
    }
}

impl Schedule for ReduceOnPlateau {
    fn rate(&mut self, _epoch: usize) -> f64 {
        self.rate
    }

    #[allow(clippy::cast_precision_loss)] // a count of epochs
    fn state(&self) -> Vec<f64> {
        vec![self.rate, self.best, self.bad_epochs as f64]
    }

    fn restore_state(&mut self, state: &[f64]) -> crate::Result<()> {
        match *state {
            [rate, best, bad] if bad >= 0.0 && bad.fract() == 0.0 && bad < 1e15 => {
                self.rate = rate;
                self.best = best;
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                {
                    self.bad_epochs = bad as usize;
                }
                Ok(())
            }
            _ => Err(crate::Error::Invalid(format!(
                "reduce-on-plateau keeps [rate, best, bad epochs], the checkpoint holds {state:?}"
            ))),
        }
    }

    fn observe(&mut self, loss: f64) {
        if self.improves(loss) {
            self.best = loss;
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
            if self.bad_epochs > self.patience {
                self.rate = (self.rate * self.factor).max(self.minimum);
                self.bad_epochs = 0;
            }
        }
    }
}

impl fmt::Display for ReduceOnPlateau {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "reduce_on_plateau({}, × {} after {} epochs without improvement, threshold {}, minimum {})",
            self.rate, self.factor, self.patience, self.threshold, self.minimum
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: f64 = 1e-12;

    fn assert_rates(schedule: &mut dyn Schedule, expected: &[(usize, f64)]) {
        for &(epoch, rate) in expected {
            let got = schedule.rate(epoch);
            assert!(
                (got - rate).abs() <= TOLERANCE,
                "epoch {epoch}: {got}, expected {rate}"
            );
        }
    }

    #[test]
    fn constant_and_plain_numbers() {
        assert_rates(
            &mut Constant::new(0.3),
            &[(0, 0.3), (7, 0.3), (1_000_000, 0.3)],
        );
        assert_rates(&mut 0.3, &[(0, 0.3), (7, 0.3)]);
        let mut c = Constant::new(0.3);
        c.observe(1.0);
        assert_eq!(c, Constant::new(0.3));
    }

    #[test]
    fn step_decay() {
        assert_rates(
            &mut StepDecay::new(0.1, 0.5, 10),
            &[
                (0, 0.1),
                (9, 0.1),
                (10, 0.05),
                (19, 0.05),
                (20, 0.025),
                (35, 0.0125),
            ],
        );
        assert_rates(
            &mut StepDecay::new(2.0, 0.1, 1),
            &[(0, 2.0), (1, 0.2), (2, 0.02), (3, 0.002)],
        );
        // far beyond i32 steps the rate underflows to 0 rather than panicking
        assert_eq!(StepDecay::new(1.0, 0.5, 1).rate(usize::MAX), 0.0);
    }

    #[test]
    #[should_panic(expected = "at least 1")]
    fn step_decay_every_zero_panics() {
        let _ = StepDecay::new(0.1, 0.5, 0);
    }

    #[test]
    fn exponential_decay() {
        // e^(−1) and e^(−2.5) to 17 digits
        assert_rates(
            &mut ExponentialDecay::new(2.0, 0.1),
            &[
                (0, 2.0),
                (10, 2.0 * 0.367_879_441_171_442_33),
                (25, 2.0 * 0.082_084_998_623_898_8),
            ],
        );
        // halving per epoch
        assert_rates(
            &mut ExponentialDecay::new(1.0, 2.0_f64.ln()),
            &[(1, 0.5), (3, 0.125), (10, 1.0 / 1024.0)],
        );
    }

    #[test]
    fn inverse_time_decay() {
        assert_rates(
            &mut InverseTimeDecay::new(0.6, 0.5),
            &[(0, 0.6), (1, 0.4), (2, 0.3), (4, 0.2), (10, 0.1)],
        );
    }

    #[test]
    fn inverse_sqrt_decay() {
        assert_rates(
            &mut InverseSqrtDecay::new(0.6, 0.5),
            &[(0, 0.6), (6, 0.3), (16, 0.2), (2, 0.6 / 2.0_f64.sqrt())],
        );
    }

    #[test]
    fn cosine_with_warmup() {
        let mut cosine = CosineWithWarmup::new(1.0, 0.1, 4, 14);
        assert_rates(
            &mut cosine,
            &[
                // warm-up: (e + 1) / 4
                (0, 0.25),
                (1, 0.5),
                (2, 0.75),
                (3, 1.0),
                // the cosine starts at the peak
                (4, 1.0),
                // 0.1 + 0.45 (1 + cos(0.2π)), cos(0.2π) = (1 + √5) / 4
                (6, 0.1 + 0.45 * (1.0 + (1.0 + 5.0_f64.sqrt()) / 4.0)),
                // halfway: cos(π/2) = 0
                (9, 0.55),
                // 0.1 + 0.45 (1 + cos(0.8π)), cos(0.8π) = −(1 + √5) / 4
                (12, 0.1 + 0.45 * (1.0 - (1.0 + 5.0_f64.sqrt()) / 4.0)),
                // cos(0.9π) = −cos(0.1π) = −√(10 + 2√5) / 4
                (
                    13,
                    0.1 + 0.45 * (1.0 - (10.0 + 2.0 * 5.0_f64.sqrt()).sqrt() / 4.0),
                ),
                (14, 0.1),
                (15, 0.1),
                (1000, 0.1),
            ],
        );
        // the rate never leaves [minimum, initial] and decreases after the peak
        let rates: Vec<f64> = (0..20).map(|e| cosine.rate(e)).collect();
        assert!(rates.iter().all(|r| (0.1..=1.0).contains(r)));
        assert!(rates[3..].windows(2).all(|w| w[1] <= w[0]));
    }

    #[test]
    fn cosine_without_warmup_or_length() {
        assert_rates(
            &mut CosineWithWarmup::new(1.0, 0.0, 0, 2),
            &[(0, 1.0), (1, 0.5), (2, 0.0), (3, 0.0)],
        );
        // warmup == total: warm up, then the minimum at once (no 0 / 0)
        assert_rates(
            &mut CosineWithWarmup::new(1.0, 0.2, 2, 2),
            &[(0, 0.5), (1, 1.0), (2, 0.2), (3, 0.2)],
        );
    }

    #[test]
    #[should_panic(expected = "warm-up cannot outlast")]
    fn cosine_warmup_beyond_total_panics() {
        let _ = CosineWithWarmup::new(1.0, 0.0, 5, 4);
    }

    /// Observes each loss and returns the rate asked for the next epoch.
    fn run(plateau: &mut ReduceOnPlateau, losses: &[f64]) -> Vec<f64> {
        losses
            .iter()
            .enumerate()
            .map(|(epoch, loss)| {
                plateau.observe(*loss);
                plateau.rate(epoch + 1)
            })
            .collect()
    }

    #[test]
    fn reduce_on_plateau_sequence() {
        let mut plateau = ReduceOnPlateau::new(1.0, 0.5, 2, 0.1, 0.2);
        assert_eq!(plateau.rate(0), 1.0);
        let rates = run(
            &mut plateau,
            &[
                10.0, // best 10
                9.5,  // not below 9: bad 1
                9.2,  // bad 2
                9.1,  // bad 3 > patience: 0.5
                8.0,  // below 9: best 8
                8.0, 8.0, 8.0, // third bad: 0.25
                8.0, 8.0, 8.0, // 0.125, raised to the minimum 0.2
                8.0, 8.0, 8.0, // stays at the minimum
                7.0, // best 7
            ],
        );
        assert_eq!(
            rates,
            [
                1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2, 0.2
            ]
        );
        assert_eq!(plateau.best, 7.0);
        assert_eq!(plateau.bad_epochs, 0);
    }

    #[test]
    fn reduce_on_plateau_patience_zero_and_improvements_reset() {
        let mut plateau = ReduceOnPlateau::new(1.0, 0.1, 0, 0.0, 0.0);
        // every non-improving epoch reduces; strict improvements do not
        let rates = run(&mut plateau, &[5.0, 4.0, 4.0, 3.0, 3.0, 3.0]);
        let expected = [1.0, 1.0, 0.1, 0.1, 0.01, 0.001];
        for (got, want) in rates.iter().zip(expected) {
            assert!((got - want).abs() <= TOLERANCE, "{rates:?}");
        }
        // with patience 3 an improvement in between restarts the count
        let mut plateau = ReduceOnPlateau::new(1.0, 0.5, 3, 0.0, 0.0);
        let rates = run(&mut plateau, &[5.0, 6.0, 6.0, 6.0, 4.0, 6.0, 6.0, 6.0, 6.0]);
        assert_eq!(rates, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5]);
    }

    #[test]
    fn reduce_on_plateau_threshold_is_strict_and_relative() {
        let mut plateau = ReduceOnPlateau::new(1.0, 0.5, 5, 0.5, 0.0);
        plateau.observe(10.0);
        plateau.observe(5.0); // exactly 10 · (1 − 0.5): not an improvement
        assert_eq!((plateau.best, plateau.bad_epochs), (10.0, 1));
        plateau.observe(4.999);
        assert_eq!((plateau.best, plateau.bad_epochs), (4.999, 0));
        plateau.observe(f64::NAN);
        assert_eq!((plateau.best, plateau.bad_epochs), (4.999, 1));
        // negative losses: an improvement is still a decrease
        let mut plateau = ReduceOnPlateau::new(1.0, 0.5, 5, 0.1, 0.0);
        plateau.observe(-10.0);
        plateau.observe(-9.5);
        assert_eq!((plateau.best, plateau.bad_epochs), (-10.0, 1));
        plateau.observe(-10.5); // not below −11
        assert_eq!((plateau.best, plateau.bad_epochs), (-10.0, 2));
        plateau.observe(-11.5);
        assert_eq!((plateau.best, plateau.bad_epochs), (-11.5, 0));
    }

    #[test]
    #[should_panic(expected = "factor in (0, 1)")]
    fn reduce_on_plateau_factor_one_panics() {
        let _ = ReduceOnPlateau::new(1.0, 1.0, 3, 0.0, 0.0);
    }

    #[test]
    fn displays() {
        assert_eq!(Constant::new(0.1).to_string(), "constant(0.1)");
        assert_eq!(
            StepDecay::new(0.1, 0.5, 10).to_string(),
            "step_decay(0.1, every 10, × 0.5)"
        );
        assert_eq!(
            ExponentialDecay::new(0.1, 0.05).to_string(),
            "exponential_decay(0.1, rate 0.05)"
        );
        assert_eq!(
            InverseTimeDecay::new(0.1, 0.5).to_string(),
            "inverse_time_decay(0.1, decay 0.5)"
        );
        assert_eq!(
            InverseSqrtDecay::new(0.1, 0.5).to_string(),
            "inverse_sqrt_decay(0.1, decay 0.5)"
        );
        assert_eq!(
            CosineWithWarmup::new(0.1, 0.001, 5, 100).to_string(),
            "cosine(0.1 → 0.001, warmup 5, total 100)"
        );
        assert_eq!(
            ReduceOnPlateau::new(0.1, 0.5, 10, 0.0001, 0.000001).to_string(),
            "reduce_on_plateau(0.1, × 0.5 after 10 epochs without improvement, threshold 0.0001, minimum 0.000001)"
        );
    }
}
