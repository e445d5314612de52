//! Feature standardization: z = (x − mean) / std per feature.

use nalgebra::{Const, Dim, Matrix, SVector, Storage, StorageMut};

use crate::scalar::constant;
use crate::{Error, Result, Scalar};

/// The per-feature mean and standard deviation of a training set, which
/// [`transform`](Self::transform) uses to map every feature to
/// z = (x − mean) / std: mean 0 and standard deviation 1 on the data it was
/// fitted on.
///
/// Fit it on the training inputs only and apply the same transform to the
/// validation and test inputs (and to every input the trained network sees
/// later), so that no information from those sets leaks into training.
///
/// ```
/// use nalgebra::{Const, Dyn, OMatrix};
/// use staticnet::data::Standardizer;
///
/// let mut train = OMatrix::<f64, Const<2>, Dyn>::from_column_slice(&[1.0, 10.0, 3.0, 10.0]);
/// let mut test = OMatrix::<f64, Const<2>, Dyn>::from_column_slice(&[5.0, 7.0]);
///
/// let scaler = Standardizer::fit(&train)?;
/// assert_eq!((scaler.mean[0], scaler.std[0]), (2.0, 1.0));
/// // The second feature is constant in training: std 1, so it maps to 0.
/// assert_eq!((scaler.mean[1], scaler.std[1]), (10.0, 1.0));
///
/// scaler.transform(&mut train);
/// scaler.transform(&mut test);
/// assert_eq!(train.as_slice(), &[-1.0, 0.0, 1.0, 0.0]);
/// assert_eq!(test.as_slice(), &[3.0, -3.0]);
/// # Ok::<(), staticnet::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer<T: Scalar, const N: usize> {
    /// The mean of each feature.
    pub mean: SVector<T, N>,
    /// The (population) standard deviation of each feature; 1 for a feature
    /// that is constant in the data fitted on.
    pub std: SVector<T, N>,
}

impl<T: Scalar, const N: usize> Standardizer<T, N> {
    /// Computes the mean and population standard deviation (dividing by the
    /// number of samples) of each feature of `x`, one sample per column.
    ///
    /// A feature with zero variance gets standard deviation 1 (and its value
    /// as the mean), so it maps to exactly 0 instead of dividing by zero.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when `x` has no samples, or when a value is NaN or
    /// infinite (naming its feature and sample).
    ///
    /// ```
    /// use nalgebra::{Const, Dyn, OMatrix};
    /// use staticnet::data::Standardizer;
    ///
    /// let x = OMatrix::<f32, Const<1>, Dyn>::from_column_slice(&[2.0, 4.0, 6.0, 8.0]);
    /// let s = Standardizer::fit(&x)?;
    /// assert_eq!(s.mean[0], 5.0);
    /// assert_eq!(s.std[0], 5.0_f32.sqrt());
    ///
    /// let empty = OMatrix::<f32, Const<1>, Dyn>::zeros(0);
    /// assert!(Standardizer::fit(&empty).is_err());
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    pub fn fit<C: Dim, S: Storage<T, Const<N>, C>>(x: &Matrix<T, Const<N>, C, S>) -> Result<Self> {
        let n = x.ncols();
        if n == 0 {
            return Err(Error::Invalid(
                "cannot fit a standardizer on no samples: the matrix has 0 columns".into(),
            ));
        }
        for (i, v) in x.iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::Invalid(format!(
                    "cannot fit a standardizer: feature {} of sample {} is {v}, \
                     expected a finite number",
                    i % N,
                    i / N
                )));
            }
        }
        let count: T = constant(n as f64);
        let mut mean = SVector::<T, N>::zeros();
        let mut std = SVector::<T, N>::zeros();
        for r in 0..N {
            let row = x.row(r);
            let first = row[0];
            if row.iter().all(|&v| v == first) {
                mean[r] = first;
                std[r] = T::one();
                continue;
            }
            let m = row.iter().fold(T::zero(), |acc, &v| acc + v) / count;
            let var = row
                .iter()
                .fold(T::zero(), |acc, &v| acc + (v - m) * (v - m))
                / count;
            let s = var.sqrt();
            mean[r] = m;
            std[r] = if s > T::zero() && s.is_finite() {
                s
            } else {
                T::one()
            };
        }
        Ok(Self { mean, std })
    }

    /// Maps every column of `x` (one sample per column) to
    /// z = (x − mean) / std in place. Works on a batch (`OMatrix<T, N, Dyn>`)
    /// and on a single sample (`SVector<T, N>`) alike.
    ///
    /// ```
    /// use nalgebra::{SVector, Vector2};
    /// use staticnet::data::Standardizer;
    ///
    /// let s = Standardizer { mean: Vector2::new(1.0, -1.0), std: Vector2::new(2.0, 0.5) };
    /// let mut x = SVector::<f64, 2>::new(5.0, 0.0);
    /// s.transform(&mut x);
    /// assert_eq!(x, Vector2::new(2.0, 2.0));
    /// ```
    pub fn transform<C: Dim, S: StorageMut<T, Const<N>, C>>(
        &self,
        x: &mut Matrix<T, Const<N>, C, S>,
    ) {
        for mut column in x.column_iter_mut() {
            for r in 0..N {
                column[r] = (column[r] - self.mean[r]) / self.std[r];
            }
        }
    }

    /// Undoes [`transform`](Self::transform): x = z · std + mean for every
    /// column, for example to report a standardized regression output in the
    /// original units.
    ///
    /// ```
    /// use nalgebra::{Const, Dyn, OMatrix};
    /// use staticnet::data::Standardizer;
    ///
    /// let original = OMatrix::<f64, Const<2>, Dyn>::from_column_slice(&[1.0, 8.0, 2.0, 4.0, 6.0, 0.0]);
    /// let s = Standardizer::fit(&original)?;
    /// let mut x = original.clone();
    /// s.transform(&mut x);
    /// s.inverse_transform(&mut x);
    /// assert!((x - original).amax() < 1e-12);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    pub fn inverse_transform<C: Dim, S: StorageMut<T, Const<N>, C>>(
        &self,
        x: &mut Matrix<T, Const<N>, C, S>,
    ) {
        for mut column in x.column_iter_mut() {
            for r in 0..N {
                column[r] = column[r] * self.std[r] + self.mean[r];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Dyn, OMatrix};

    fn matrix<const N: usize>(values: &[f64]) -> OMatrix<f64, Const<N>, Dyn> {
        OMatrix::<f64, Const<N>, Dyn>::from_column_slice(values)
    }

    #[test]
    fn fitted_data_gets_mean_zero_and_std_one() {
        let mut x = matrix::<3>(&[
            1.0, 100.0, -3.0, 2.0, 250.0, -1.0, 4.0, 175.0, 0.5, 8.0, 90.0, 7.0, 3.0, 120.0, 2.0,
        ]);
        let s = Standardizer::fit(&x).unwrap();
        s.transform(&mut x);
        for r in 0..3 {
            let row = x.row(r);
            let mean = row.mean();
            let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 5.0;
            assert!(mean.abs() < 1e-12, "feature {r}: mean {mean}");
            assert!((var - 1.0).abs() < 1e-12, "feature {r}: variance {var}");
        }
    }

    #[test]
    fn constant_features_map_to_exactly_zero() {
        // 0.1 summed ten times is not exactly 1, so a naive mean is off.
        let mut x = matrix::<1>(&[0.1; 10]);
        let s = Standardizer::fit(&x).unwrap();
        assert_eq!((s.mean[0], s.std[0]), (0.1, 1.0));
        s.transform(&mut x);
        assert!(x.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn a_single_sample_is_constant() {
        let s = Standardizer::fit(&matrix::<2>(&[3.0, -4.0])).unwrap();
        assert_eq!(s.std, SVector::<f64, 2>::new(1.0, 1.0));
    }

    #[test]
    fn inverse_undoes_transform_in_f32() {
        let original =
            OMatrix::<f32, Const<2>, Dyn>::from_column_slice(&[1.5, -2.0, 3.0, 8.0, -0.5, 4.0]);
        let s = Standardizer::fit(&original).unwrap();
        let mut x = original.clone();
        s.transform(&mut x);
        assert!(x.iter().all(|v| v.abs() < 2.0));
        s.inverse_transform(&mut x);
        assert!((x - original).amax() < 1e-5);
    }

    #[test]
    fn empty_and_non_finite_inputs_are_errors() {
        let msg = Standardizer::fit(&matrix::<2>(&[]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("0 columns"), "{msg}");
        let msg = Standardizer::fit(&matrix::<2>(&[1.0, 2.0, 3.0, f64::NAN]))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("feature 1 of sample 1 is NaN"), "{msg}");
    }

    #[test]
    fn applies_to_views_and_single_samples() {
        let s = Standardizer::fit(&matrix::<1>(&[0.0, 2.0])).unwrap();
        let mut x = matrix::<1>(&[0.0, 2.0, 4.0]);
        s.transform(&mut x.columns_mut(1, 2));
        assert_eq!(x.as_slice(), &[0.0, 1.0, 3.0]);
    }
}
