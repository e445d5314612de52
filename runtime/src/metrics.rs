//! Metrics: accuracy and the confusion matrix for classifiers, RMSE and R²
//! for regression.

use core::fmt;

use nalgebra::{Const, Dyn, OMatrix};

use crate::Scalar;

/// `x` as an `f64` (NaN for a scalar that has no `f64` value).
pub(crate) fn to_f64<T: Scalar>(x: T) -> f64 {
    x.to_subset().unwrap_or(f64::NAN)
}

/// The class a network's output predicts: the largest output, or for a
/// single output (a sigmoid), class 1 when it is above ½.
///
/// ```
/// use staticnet::metrics::predicted_class;
///
/// assert_eq!(predicted_class(&[0.1_f32, 0.7, 0.2]), 1);
/// assert_eq!(predicted_class(&[0.8_f64]), 1);
/// assert_eq!(predicted_class(&[0.3_f64]), 0);
/// ```
#[must_use]
pub fn predicted_class<T: Scalar>(output: &[T]) -> usize {
    if let [single] = output {
        return usize::from(to_f64(*single) > 0.5);
    }
    let mut best = 0;
    for (i, v) in output.iter().enumerate() {
        if *v > output[best] {
            best = i;
        }
    }
    best
}

/// Counts of (true class, predicted class) pairs.
///
/// ```
/// use staticnet::metrics::ConfusionMatrix;
///
/// let mut m = ConfusionMatrix::new(2);
/// m.add(0, 0);
/// m.add(1, 1);
/// m.add(1, 0);
/// assert_eq!(m.count(1, 0), 1);
/// assert!((m.accuracy() - 2.0 / 3.0).abs() < 1e-12);
/// println!("{m}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// An empty matrix for `classes` classes (at least 2: a single-output
    /// binary classifier has classes 0 and 1).
    ///
    /// ```
    /// let m = staticnet::metrics::ConfusionMatrix::new(3);
    /// assert_eq!(m.classes(), 3);
    /// assert_eq!(m.total(), 0);
    /// ```
    #[must_use]
    pub fn new(classes: usize) -> Self {
        let classes = classes.max(2);
        Self {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    /// The number of classes.
    ///
    /// ```
    /// assert_eq!(staticnet::metrics::ConfusionMatrix::new(4).classes(), 4);
    /// ```
    #[must_use]
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Counts one sample of class `truth` predicted as `predicted`. Classes
    /// out of range are ignored.
    ///
    /// ```
    /// let mut m = staticnet::metrics::ConfusionMatrix::new(2);
    /// m.add(1, 0);
    /// assert_eq!(m.count(1, 0), 1);
    /// ```
    pub fn add(&mut self, truth: usize, predicted: usize) {
        if truth < self.classes && predicted < self.classes {
            self.counts[truth * self.classes + predicted] += 1;
        }
    }

    /// How many samples of class `truth` were predicted as `predicted`.
    ///
    /// ```
    /// let m = staticnet::metrics::ConfusionMatrix::new(2);
    /// assert_eq!(m.count(0, 1), 0);
    /// ```
    #[must_use]
    pub fn count(&self, truth: usize, predicted: usize) -> usize {
        self.counts[truth * self.classes + predicted]
    }

    /// The number of samples counted.
    ///
    /// ```
    /// let mut m = staticnet::metrics::ConfusionMatrix::new(2);
    /// m.add(0, 1);
    /// m.add(0, 0);
    /// assert_eq!(m.total(), 2);
    /// ```
    #[must_use]
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// The fraction of samples on the diagonal (0 when empty).
    ///
    /// ```
    /// let mut m = staticnet::metrics::ConfusionMatrix::new(2);
    /// m.add(0, 0);
    /// m.add(1, 0);
    /// assert_eq!(m.accuracy(), 0.5);
    /// ```
    #[must_use]
    pub fn accuracy(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        let correct: usize = (0..self.classes).map(|c| self.count(c, c)).sum();
        correct as f64 / total as f64
    }
}

impl fmt::Display for ConfusionMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .counts
            .iter()
            .map(|c| c.to_string().len())
            .max()
            .unwrap_or(1)
            .max(self.classes.to_string().len())
            .max(2);
        writeln!(f, "true \\ predicted")?;
        write!(f, "{:>w$}", "", w = width + 1)?;
        for p in 0..self.classes {
            write!(f, " {p:>width$}")?;
        }
        for t in 0..self.classes {
            writeln!(f)?;
            write!(f, "{t:>width$}:")?;
            for p in 0..self.classes {
                write!(f, " {:>width$}", self.count(t, p))?;
            }
        }
        Ok(())
    }
}

/// Root mean squared error over every output of every sample.
///
/// ```
/// use nalgebra::{Const, Dyn, OMatrix};
/// use staticnet::metrics::rmse;
///
/// let p = OMatrix::<f64, Const<1>, Dyn>::from_row_slice(&[1.0, 2.0]);
/// let y = OMatrix::<f64, Const<1>, Dyn>::from_row_slice(&[1.0, 4.0]);
/// assert!((rmse(&p, &y) - 2.0_f64.sqrt()).abs() < 1e-12);
/// ```
#[must_use]
pub fn rmse<T: Scalar, const N: usize>(
    predictions: &OMatrix<T, Const<N>, Dyn>,
    targets: &OMatrix<T, Const<N>, Dyn>,
) -> f64 {
    let n = predictions.len().min(targets.len());
    if n == 0 {
        return 0.0;
    }
    let sum: f64 = predictions
        .iter()
        .zip(targets.iter())
        .map(|(p, y)| (to_f64(*p) - to_f64(*y)).powi(2))
        .sum();
    (sum / n as f64).sqrt()
}

/// The coefficient of determination `R² = 1 − SS_res / SS_tot`, over every
/// output (targets pooled per output row).
///
/// ```
/// use nalgebra::{Const, Dyn, OMatrix};
/// use staticnet::metrics::r_squared;
///
/// let y = OMatrix::<f64, Const<1>, Dyn>::from_row_slice(&[1.0, 2.0, 3.0]);
/// assert_eq!(r_squared(&y, &y), 1.0);
/// let mean = OMatrix::<f64, Const<1>, Dyn>::from_row_slice(&[2.0, 2.0, 2.0]);
/// assert_eq!(r_squared(&mean, &y), 0.0);
/// ```
#[must_use]
pub fn r_squared<T: Scalar, const N: usize>(
    predictions: &OMatrix<T, Const<N>, Dyn>,
    targets: &OMatrix<T, Const<N>, Dyn>,
) -> f64 {
    let (mut residual, mut total) = (0.0, 0.0);
    for row in 0..N {
        let y: Vec<f64> = targets.row(row).iter().map(|v| to_f64(*v)).collect();
        if y.is_empty() {
            continue;
        }
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        for (p, y) in predictions.row(row).iter().zip(&y) {
            residual += (to_f64(*p) - y).powi(2);
            total += (y - mean).powi(2);
        }
    }
    if total == 0.0 {
        return if residual == 0.0 { 1.0 } else { 0.0 };
    }
    1.0 - residual / total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_matrix_counts_and_prints() {
        let mut m = ConfusionMatrix::new(3);
        for (t, p) in [(0, 0), (0, 0), (1, 2), (2, 2), (1, 1)] {
            m.add(t, p);
        }
        assert_eq!(m.total(), 5);
        assert!((m.accuracy() - 0.8).abs() < 1e-12);
        let text = m.to_string();
        assert!(text.contains(" 1:  0  1  1"), "{text}");
    }

    #[test]
    fn rmse_and_r_squared_by_hand() {
        let p = OMatrix::<f64, Const<2>, Dyn>::from_column_slice(&[1.0, 0.0, 2.0, 1.0, 3.0, 5.0]);
        let y = OMatrix::<f64, Const<2>, Dyn>::from_column_slice(&[1.0, 1.0, 3.0, 1.0, 3.0, 1.0]);
        // squared errors: 0, 1, 1, 0, 0, 16 → mean 3
        assert!((rmse(&p, &y) - 3.0_f64.sqrt()).abs() < 1e-12);
        // row 0: y = 1, 3, 3 (mean 7/3): SS_tot = 16/9 + 4/9 + 4/9 = 24/9, SS_res = 1
        // row 1: y = 1, 1, 1: SS_tot = 0, SS_res = 1 + 0 + 16
        let expected = 1.0 - (1.0 + 17.0) / (24.0 / 9.0);
        assert!((r_squared(&p, &y) - expected).abs() < 1e-12);
    }
}
