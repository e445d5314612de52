//! Between class indices and the vectors a network reads and writes.

use nalgebra::{Const, Dyn, OMatrix};

use crate::{Error, Result, Scalar};

/// One-hot targets for class labels: column `i` is all zeros except a one
/// in row `labels[i]`.
///
/// # Errors
///
/// [`Error::Invalid`] naming the sample and the label when a label is not
/// below the number of classes `C`.
///
/// ```
/// use staticnet::data::one_hot;
///
/// let targets = one_hot::<f32, 3>(&[2, 0])?;
/// assert_eq!(targets.column(0).as_slice(), &[0.0, 0.0, 1.0]);
/// assert_eq!(targets.column(1).as_slice(), &[1.0, 0.0, 0.0]);
///
/// let err = one_hot::<f32, 3>(&[0, 3]).unwrap_err();
/// assert_eq!(err.to_string(), "label 3 of sample 1 is out of range: expected a class index in 0..3");
/// # Ok::<(), staticnet::Error>(())
/// ```
pub fn one_hot<T: Scalar, const C: usize>(labels: &[usize]) -> Result<OMatrix<T, Const<C>, Dyn>> {
    check_labels(labels, C)?;
    let mut targets = OMatrix::<T, Const<C>, Dyn>::zeros(labels.len());
    for (i, &label) in labels.iter().enumerate() {
        targets[(label, i)] = T::one();
    }
    Ok(targets)
}

/// Checks that every label is below `classes`, naming the first that is not.
pub(crate) fn check_labels(labels: &[usize], classes: usize) -> Result<()> {
    match labels.iter().enumerate().find(|&(_, &l)| l >= classes) {
        Some((i, &label)) => Err(Error::Invalid(format!(
            "label {label} of sample {i} is out of range: expected a class index in 0..{classes}"
        ))),
        None => Ok(()),
    }
}

/// The index of the largest value: the class a network's output votes for.
///
/// Ties go to the first of the largest values and NaNs are skipped; an empty
/// slice, or one of only NaNs, gives 0.
///
/// ```
/// use nalgebra::SVector;
/// use staticnet::data::argmax;
///
/// assert_eq!(argmax(&[0.1_f32, 0.7, 0.2]), 1);
/// let output = SVector::<f64, 3>::new(0.5, 0.1, 0.5);
/// assert_eq!(argmax(output.as_slice()), 0);
/// ```
#[must_use]
pub fn argmax<T: Scalar>(values: &[T]) -> usize {
    let mut best: Option<(usize, T)> = None;
    for (i, &v) in values.iter().enumerate() {
        // Only NaN is not comparable with itself.
        if v.partial_cmp(&v).is_none() {
            continue;
        }
        match best {
            Some((_, b)) if v <= b => {}
            _ => best = Some((i, v)),
        }
    }
    best.map_or(0, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_sets_exactly_one_entry_per_column() {
        let t = one_hot::<f64, 4>(&[3, 1, 0, 3]).unwrap();
        assert_eq!(t.ncols(), 4);
        for (i, label) in [3, 1, 0, 3].into_iter().enumerate() {
            assert_eq!(t.column(i).sum(), 1.0);
            assert_eq!(t[(label, i)], 1.0);
        }
    }

    #[test]
    fn one_hot_of_nothing_is_empty() {
        assert_eq!(one_hot::<f32, 10>(&[]).unwrap().ncols(), 0);
    }

    #[test]
    fn one_hot_names_the_sample_and_label_out_of_range() {
        let msg = one_hot::<f32, 10>(&[1, 2, 10, 11]).unwrap_err().to_string();
        assert!(msg.contains("label 10 of sample 2"), "{msg}");
        assert!(msg.contains("0..10"), "{msg}");
    }

    #[test]
    fn argmax_picks_the_first_largest_and_skips_nan() {
        assert_eq!(argmax(&[1.0_f64, 3.0, 3.0, 2.0]), 1);
        assert_eq!(argmax(&[f64::NAN, -1.0, -2.0]), 1);
        assert_eq!(argmax(&[-5.0_f32]), 0);
        assert_eq!(argmax::<f32>(&[]), 0);
        assert_eq!(argmax(&[f32::NAN, f32::NAN]), 0);
        assert_eq!(argmax(&[0.0_f32, f32::INFINITY, 1.0]), 1);
    }
}
