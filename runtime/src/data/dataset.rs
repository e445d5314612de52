//! A data set of inputs and targets, one sample per column, and its splits.

use std::collections::BTreeMap;

use nalgebra::{Const, Dyn, OMatrix, SVector};
use rand::seq::SliceRandom;

use super::encode::{check_labels, one_hot};
use crate::init::seeded_rng;
use crate::{Error, Result, Scalar};

/// The inputs and targets of a data set, one sample per column (the layout
/// of `forward_batch`), with the class index of every sample when it is a
/// classification set.
///
/// `F` is the number of features and `O` the number of outputs: for a
/// classification set with `O ≥ 2` classes the targets are one-hot columns,
/// for `O == 1` they are the binary labels 0 and 1 (for a sigmoid output).
///
/// Splits are seeded: the same seed gives the same split on every run and
/// every machine.
///
/// ```
/// use nalgebra::{Const, Dyn, OMatrix};
/// use staticnet::data::Dataset;
///
/// let xor = OMatrix::<f32, Const<2>, Dyn>::from_column_slice(&[0., 0., 0., 1., 1., 0., 1., 1.]);
/// let data = Dataset::<f32, 2, 2>::classification(xor, vec![0, 1, 1, 0])?;
/// assert_eq!(data.len(), 4);
/// assert_eq!(data.targets.column(1).as_slice(), &[0.0, 1.0]);
///
/// let (x, y) = data.sample(2);
/// assert_eq!((x[0], x[1], y[1]), (1.0, 0.0, 1.0));
/// # Ok::<(), staticnet::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<T: Scalar, const F: usize, const O: usize> {
    /// The inputs, one sample per column.
    pub inputs: OMatrix<T, Const<F>, Dyn>,
    /// The targets, one sample per column.
    pub targets: OMatrix<T, Const<O>, Dyn>,
    /// The class index of every sample of a classification set; `None` for
    /// a regression set.
    pub labels: Option<Vec<usize>>,
}

impl<T: Scalar, const F: usize, const O: usize> Dataset<T, F, O> {
    /// A data set of `inputs` and `targets` (a regression set: no labels).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when the two have different numbers of columns.
    ///
    /// ```
    /// use nalgebra::{Const, Dyn, OMatrix};
    /// use staticnet::data::Dataset;
    ///
    /// let x = OMatrix::<f64, Const<1>, Dyn>::from_column_slice(&[1.0, 2.0, 3.0]);
    /// let y = x.map(|v| 2.0 * v + 1.0);
    /// let data = Dataset::new(x, y)?;
    /// assert_eq!(data.len(), 3);
    /// assert!(data.labels.is_none());
    ///
    /// let short = OMatrix::<f64, Const<1>, Dyn>::zeros(2);
    /// assert!(Dataset::new(data.inputs.clone(), short).is_err());
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    pub fn new(
        inputs: OMatrix<T, Const<F>, Dyn>,
        targets: OMatrix<T, Const<O>, Dyn>,
    ) -> Result<Self> {
        let data = Self {
            inputs,
            targets,
            labels: None,
        };
        data.check()?;
        Ok(data)
    }

    /// A classification set: the targets are built from the class `labels`,
    /// one-hot when `O ≥ 2` and the labels 0 and 1 themselves when `O == 1`.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when there are not as many labels as samples, or
    /// when a label is not a class index (below `O`, or below 2 when
    /// `O == 1`), naming the sample and the label.
    ///
    /// ```
    /// use nalgebra::{Const, Dyn, OMatrix};
    /// use staticnet::data::Dataset;
    ///
    /// let x = OMatrix::<f32, Const<1>, Dyn>::from_column_slice(&[-2.0, -1.0, 1.0, 2.0]);
    /// let binary = Dataset::<f32, 1, 1>::classification(x.clone(), vec![0, 0, 1, 1])?;
    /// assert_eq!(binary.targets.as_slice(), &[0.0, 0.0, 1.0, 1.0]);
    ///
    /// let err = Dataset::<f32, 1, 1>::classification(x, vec![0, 0, 2, 1]).unwrap_err();
    /// assert!(err.to_string().contains("label 2 of sample 2"));
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    pub fn classification(inputs: OMatrix<T, Const<F>, Dyn>, labels: Vec<usize>) -> Result<Self> {
        if labels.len() != inputs.ncols() {
            return Err(Error::Invalid(format!(
                "a classification set needs one label per sample: {} samples, {} labels",
                inputs.ncols(),
                labels.len()
            )));
        }
        let targets = if O == 1 {
            check_labels(&labels, 2)?;
            OMatrix::<T, Const<O>, Dyn>::from_iterator(
                labels.len(),
                labels
                    .iter()
                    .map(|&l| if l == 1 { T::one() } else { T::zero() }),
            )
        } else {
            one_hot::<T, O>(&labels)?
        };
        Ok(Self {
            inputs,
            targets,
            labels: Some(labels),
        })
    }

    /// The number of samples.
    ///
    /// ```
    /// use nalgebra::{Matrix1xX, Matrix3xX};
    /// use staticnet::data::Dataset;
    ///
    /// let data = Dataset::<f32, 3, 1>::new(Matrix3xX::zeros(5), Matrix1xX::zeros(5))?;
    /// assert_eq!(data.len(), 5);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.inputs.ncols()
    }

    /// Whether there are no samples.
    ///
    /// ```
    /// use nalgebra::{Matrix1xX, Matrix3xX};
    /// use staticnet::data::Dataset;
    ///
    /// let data = Dataset::<f32, 3, 1>::new(Matrix3xX::zeros(0), Matrix1xX::zeros(0))?;
    /// assert!(data.is_empty());
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of samples of every class, for a classification set:
    /// entry `c` counts the samples labelled `c`. There are `O` entries (2
    /// when `O == 1`); a label that is not below that (set by hand) is not
    /// counted.
    ///
    /// ```
    /// use nalgebra::Matrix2xX;
    /// use staticnet::data::Dataset;
    ///
    /// let data = Dataset::<f64, 2, 3>::classification(Matrix2xX::zeros(4), vec![2, 0, 2, 2])?;
    /// assert_eq!(data.class_counts(), Some(vec![1, 0, 3]));
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn class_counts(&self) -> Option<Vec<usize>> {
        let labels = self.labels.as_ref()?;
        let mut counts = vec![0; O.max(2)];
        for &label in labels {
            if let Some(count) = counts.get_mut(label) {
                *count += 1;
            }
        }
        Some(counts)
    }

    /// The input and target of sample `i`.
    ///
    /// # Panics
    ///
    /// When `i` is not below [`len`](Self::len), as indexing does.
    ///
    /// ```
    /// use nalgebra::{Const, Dyn, OMatrix};
    /// use staticnet::data::Dataset;
    ///
    /// let x = OMatrix::<f64, Const<2>, Dyn>::from_column_slice(&[1.0, 2.0, 3.0, 4.0]);
    /// let data = Dataset::<f64, 2, 2>::classification(x, vec![1, 0])?;
    /// let (input, target) = data.sample(1);
    /// assert_eq!(input.as_slice(), &[3.0, 4.0]);
    /// assert_eq!(target.as_slice(), &[1.0, 0.0]);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn sample(&self, i: usize) -> (SVector<T, F>, SVector<T, O>) {
        self.check_index(i);
        (
            self.inputs.column(i).into_owned(),
            self.targets.column(i).into_owned(),
        )
    }

    /// The inputs and targets of the samples at `indices`, in that order, as
    /// a batch (one sample per column).
    ///
    /// # Panics
    ///
    /// When an index is not below [`len`](Self::len), as indexing does.
    ///
    /// ```
    /// use nalgebra::{Const, Dyn, OMatrix};
    /// use staticnet::data::Dataset;
    ///
    /// let x = OMatrix::<f32, Const<1>, Dyn>::from_column_slice(&[10.0, 11.0, 12.0, 13.0]);
    /// let data = Dataset::new(x.clone(), x)?;
    /// let (inputs, targets) = data.batch(&[3, 0]);
    /// assert_eq!(inputs.as_slice(), &[13.0, 10.0]);
    /// assert_eq!(targets.ncols(), 2);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn batch(
        &self,
        indices: &[usize],
    ) -> (OMatrix<T, Const<F>, Dyn>, OMatrix<T, Const<O>, Dyn>) {
        for &i in indices {
            self.check_index(i);
        }
        (
            self.inputs.select_columns(indices),
            self.targets.select_columns(indices),
        )
    }

    /// A data set of the samples at `indices`, in that order, with their
    /// labels.
    ///
    /// # Panics
    ///
    /// When an index is not below [`len`](Self::len), or when `labels` was
    /// set by hand to fewer labels than samples.
    ///
    /// ```
    /// use nalgebra::{Const, Dyn, OMatrix};
    /// use staticnet::data::Dataset;
    ///
    /// let x = OMatrix::<f32, Const<1>, Dyn>::from_column_slice(&[0.0, 1.0, 2.0]);
    /// let data = Dataset::<f32, 1, 3>::classification(x, vec![0, 1, 2])?;
    /// let part = data.subset(&[2, 1]);
    /// assert_eq!(part.labels, Some(vec![2, 1]));
    /// assert_eq!(part.inputs.as_slice(), &[2.0, 1.0]);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn subset(&self, indices: &[usize]) -> Self {
        let (inputs, targets) = self.batch(indices);
        let labels = self
            .labels
            .as_ref()
            .map(|labels| indices.iter().map(|&i| labels[i]).collect());
        Self {
            inputs,
            targets,
            labels,
        }
    }

    /// Shuffles the samples with [`seeded_rng`]`(seed)` and splits them in
    /// two: the first part gets round(`fraction` · n) of them, the second
    /// the rest. Both parts keep the shuffled order.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when `fraction` is not strictly between 0 and 1,
    /// when a part would be empty, or when `targets` or `labels` were set by
    /// hand to a different number of samples than `inputs`.
    ///
    /// ```
    /// use nalgebra::{Const, Dyn, OMatrix};
    /// use staticnet::data::Dataset;
    ///
    /// let x = OMatrix::<f64, Const<1>, Dyn>::from_iterator(10, (0..10).map(f64::from));
    /// let data = Dataset::new(x.clone(), x)?;
    /// let (train, test) = data.split(0.8, 7)?;
    /// assert_eq!((train.len(), test.len()), (8, 2));
    /// assert_eq!(data.split(0.8, 7)?.1, test); // the same seed, the same split
    /// assert!(data.split(1.0, 7).is_err());
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    pub fn split(&self, fraction: f64, seed: u64) -> Result<(Self, Self)> {
        let parts = self.partition(&[fraction], seed, false, &["first", "second"])?;
        Ok((self.subset(&parts[0]), self.subset(&parts[1])))
    }

    /// Like [`split`](Self::split), but class by class: the first part gets
    /// round(`fraction` · `n_c`) of the `n_c` samples of each class `c`, so both
    /// parts keep the class balance. Each part is shuffled again so that
    /// its classes are interleaved.
    ///
    /// # Errors
    ///
    /// As [`split`](Self::split), and [`Error::Invalid`] when the data set
    /// has no labels.
    ///
    /// ```
    /// use nalgebra::Matrix2xX;
    /// use staticnet::data::Dataset;
    ///
    /// // 8 samples of class 0 and 4 of class 1.
    /// let labels = vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
    /// let data = Dataset::<f32, 2, 2>::classification(Matrix2xX::zeros(12), labels)?;
    /// let (train, test) = data.stratified_split(0.75, 1)?;
    /// assert_eq!(train.class_counts(), Some(vec![6, 3]));
    /// assert_eq!(test.class_counts(), Some(vec![2, 1]));
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    pub fn stratified_split(&self, fraction: f64, seed: u64) -> Result<(Self, Self)> {
        let parts = self.partition(&[fraction], seed, true, &["first", "second"])?;
        Ok((self.subset(&parts[0]), self.subset(&parts[1])))
    }

    /// Splits into training, validation and test sets: round(`valid_fraction`
    /// · n) samples for validation, round(`test_fraction` · n) for test and
    /// the rest for training, shuffled with [`seeded_rng`]`(seed)`; class by
    /// class (as [`stratified_split`](Self::stratified_split)) when
    /// `stratified` is true.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when a fraction is not strictly between 0 and 1,
    /// when the two add up to 1 or more, when any of the three sets would be
    /// empty, or when `stratified` is true and the data set has no labels.
    ///
    /// ```
    /// use nalgebra::Matrix4xX;
    /// use staticnet::data::Dataset;
    ///
    /// let labels: Vec<usize> = (0..100).map(|i| i % 2).collect();
    /// let data = Dataset::<f32, 4, 2>::classification(Matrix4xX::zeros(100), labels)?;
    /// let (train, valid, test) = data.split3(0.2, 0.1, 3, true)?;
    /// assert_eq!((train.len(), valid.len(), test.len()), (70, 20, 10));
    /// assert_eq!(test.class_counts(), Some(vec![5, 5]));
    /// assert!(data.split3(0.5, 0.5, 3, false).is_err());
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    pub fn split3(
        &self,
        valid_fraction: f64,
        test_fraction: f64,
        seed: u64,
        stratified: bool,
    ) -> Result<(Self, Self, Self)> {
        let parts = self.partition(
            &[valid_fraction, test_fraction],
            seed,
            stratified,
            &["validation", "test", "training"],
        )?;
        Ok((
            self.subset(&parts[2]),
            self.subset(&parts[0]),
            self.subset(&parts[1]),
        ))
    }

    /// Checks that targets and labels describe as many samples as inputs.
    fn check(&self) -> Result<()> {
        let n = self.len();
        if self.targets.ncols() != n {
            return Err(Error::Invalid(format!(
                "inputs and targets must have one column per sample: {n} input columns, {} \
                 target columns",
                self.targets.ncols()
            )));
        }
        if let Some(labels) = &self.labels
            && labels.len() != n
        {
            return Err(Error::Invalid(format!(
                "a classification set needs one label per sample: {n} samples, {} labels",
                labels.len()
            )));
        }
        Ok(())
    }

    fn check_index(&self, i: usize) {
        assert!(
            i < self.len(),
            "sample {i} is out of range for a data set of {} samples",
            self.len()
        );
    }

    /// Shuffled sample indices in `fractions.len() + 1` parts: part k gets
    /// round(fractions[k] · n) (of each class when `stratified`), the last
    /// part the rest. `names` names the parts in error messages.
    fn partition(
        &self,
        fractions: &[f64],
        seed: u64,
        stratified: bool,
        names: &[&str],
    ) -> Result<Vec<Vec<usize>>> {
        debug_assert_eq!(names.len(), fractions.len() + 1);
        for (&f, name) in fractions.iter().zip(names) {
            if !(f > 0.0 && f < 1.0) {
                return Err(Error::Invalid(format!(
                    "the {name} fraction of a split must be strictly between 0 and 1, found {f}"
                )));
            }
        }
        let total: f64 = fractions.iter().sum();
        if total >= 1.0 {
            return Err(Error::Invalid(format!(
                "the split fractions {fractions:?} add up to {total}, leaving nothing for the {} \
                 part",
                names[fractions.len()]
            )));
        }
        self.check()?;
        let n = self.len();
        let groups: Vec<Vec<usize>> = if stratified {
            let Some(labels) = &self.labels else {
                return Err(Error::Invalid(
                    "a stratified split needs class labels, and this data set has none (build \
                     it with Dataset::classification)"
                        .into(),
                ));
            };
            let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (i, &label) in labels.iter().enumerate() {
                by_class.entry(label).or_default().push(i);
            }
            by_class.into_values().collect()
        } else {
            vec![(0..n).collect()]
        };

        let mut rng = seeded_rng(seed);
        let mut parts = vec![Vec::new(); fractions.len() + 1];
        for mut group in groups {
            group.shuffle(&mut rng);
            let m = group.len();
            let mut start = 0;
            for (part, &f) in parts.iter_mut().zip(fractions) {
                let count = ((f * m as f64).round() as usize).min(m - start);
                part.extend_from_slice(&group[start..start + count]);
                start += count;
            }
            parts[fractions.len()].extend_from_slice(&group[start..]);
        }
        if stratified {
            for part in &mut parts {
                part.shuffle(&mut rng);
            }
        }
        for (part, name) in parts.iter().zip(names) {
            if part.is_empty() {
                let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
                return Err(Error::Invalid(format!(
                    "splitting {n} samples with the fractions {fractions:?} leaves the {name} \
                     part empty (part sizes {sizes:?})"
                )));
            }
        }
        Ok(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Matrix1xX, Matrix2xX, Matrix3xX};

    fn numbered(n: usize, classes: usize) -> Dataset<f64, 1, 3> {
        let x = OMatrix::<f64, Const<1>, Dyn>::from_iterator(n, (0..n).map(|i| i as f64));
        Dataset::classification(x, (0..n).map(|i| i % classes).collect()).unwrap()
    }

    fn ids(d: &Dataset<f64, 1, 3>) -> Vec<usize> {
        d.inputs.iter().map(|&v| v as usize).collect()
    }

    #[test]
    fn new_requires_matching_columns() {
        let msg = Dataset::<f32, 2, 1>::new(Matrix2xX::zeros(3), Matrix1xX::zeros(4))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("3 input columns, 4 target columns"), "{msg}");
    }

    #[test]
    fn classification_checks_labels() {
        let msg = Dataset::<f32, 2, 3>::classification(Matrix2xX::zeros(3), vec![0, 1])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("3 samples, 2 labels"), "{msg}");
        let msg = Dataset::<f32, 2, 3>::classification(Matrix2xX::zeros(3), vec![0, 7, 1])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("label 7 of sample 1"), "{msg}");
        assert!(msg.contains("0..3"), "{msg}");
        let msg = Dataset::<f32, 2, 1>::classification(Matrix2xX::zeros(2), vec![1, 2])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("label 2 of sample 1"), "{msg}");
        assert!(msg.contains("0..2"), "{msg}");
    }

    #[test]
    fn one_hot_targets_for_several_classes() {
        let d = numbered(4, 3);
        assert_eq!(d.targets.column(2).as_slice(), &[0.0, 0.0, 1.0]);
        assert_eq!(d.targets.column(3).as_slice(), &[1.0, 0.0, 0.0]);
        assert_eq!(d.class_counts(), Some(vec![2, 1, 1]));
    }

    #[test]
    fn split_is_a_seeded_permutation() {
        let d = numbered(20, 3);
        let (a, b) = d.split(0.25, 11).unwrap();
        assert_eq!((a.len(), b.len()), (5, 15));
        let mut all: Vec<usize> = ids(&a).into_iter().chain(ids(&b)).collect();
        assert_ne!(all, (0..20).collect::<Vec<_>>(), "not shuffled");
        all.sort_unstable();
        assert_eq!(all, (0..20).collect::<Vec<_>>());
        // Labels and targets travel with their inputs.
        for part in [&a, &b] {
            let labels = part.labels.as_ref().unwrap();
            for (i, &id) in ids(part).iter().enumerate() {
                assert_eq!(labels[i], id % 3);
                assert_eq!(part.targets[(id % 3, i)], 1.0);
            }
        }
        let (a2, b2) = d.split(0.25, 11).unwrap();
        assert_eq!((ids(&a2), ids(&b2)), (ids(&a), ids(&b)));
        let (a3, _) = d.split(0.25, 12).unwrap();
        assert_ne!(ids(&a3), ids(&a));
    }

    #[test]
    fn split_rejects_bad_fractions_and_empty_parts() {
        let d = numbered(10, 3);
        for f in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
            let msg = d.split(f, 0).unwrap_err().to_string();
            assert!(msg.contains("strictly between 0 and 1"), "{msg}");
        }
        let msg = d.split(0.01, 0).unwrap_err().to_string();
        assert!(msg.contains("leaves the first part empty"), "{msg}");
        let msg = d.split(0.99, 0).unwrap_err().to_string();
        assert!(msg.contains("leaves the second part empty"), "{msg}");
        let empty = numbered(0, 3);
        assert!(empty.split(0.5, 0).is_err());
    }

    #[test]
    fn stratified_split_keeps_the_class_balance() {
        let d = numbered(30, 3);
        let (a, b) = d.stratified_split(0.6, 5).unwrap();
        assert_eq!(a.class_counts(), Some(vec![6, 6, 6]));
        assert_eq!(b.class_counts(), Some(vec![4, 4, 4]));
        // Interleaved, not sorted by class.
        let la = a.labels.clone().unwrap();
        assert!(la.windows(2).any(|w| w[0] > w[1]), "{la:?}");
        let (a2, _) = d.stratified_split(0.6, 5).unwrap();
        assert_eq!(ids(&a2), ids(&a));
    }

    #[test]
    fn stratified_split_needs_labels() {
        let d = Dataset::<f32, 1, 1>::new(Matrix1xX::zeros(4), Matrix1xX::zeros(4)).unwrap();
        let msg = d.stratified_split(0.5, 0).unwrap_err().to_string();
        assert!(msg.contains("needs class labels"), "{msg}");
        let msg = d.split3(0.25, 0.25, 0, true).unwrap_err().to_string();
        assert!(msg.contains("needs class labels"), "{msg}");
        assert!(d.split3(0.25, 0.25, 0, false).is_ok());
    }

    #[test]
    fn split3_partitions_everything() {
        let d = numbered(60, 3);
        for stratified in [false, true] {
            let (train, valid, test) = d.split3(0.2, 0.1, 9, stratified).unwrap();
            assert_eq!((train.len(), valid.len(), test.len()), (42, 12, 6));
            let mut all: Vec<usize> = [&train, &valid, &test].into_iter().flat_map(ids).collect();
            all.sort_unstable();
            assert_eq!(all, (0..60).collect::<Vec<_>>());
            if stratified {
                assert_eq!(valid.class_counts(), Some(vec![4, 4, 4]));
                assert_eq!(test.class_counts(), Some(vec![2, 2, 2]));
            }
        }
        let msg = d.split3(0.6, 0.4, 0, false).unwrap_err().to_string();
        assert!(
            msg.contains("leaving nothing for the training part"),
            "{msg}"
        );
        let msg = d.split3(0.5, 0.0, 0, false).unwrap_err().to_string();
        assert!(msg.contains("test fraction"), "{msg}");
        let msg = numbered(3, 3)
            .split3(0.1, 0.3, 0, false)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("leaves the validation part empty"), "{msg}");
    }

    #[test]
    fn hand_edited_inconsistencies_are_errors_not_panics() {
        let mut d = numbered(6, 3);
        d.labels = Some(vec![0, 1]);
        let msg = d.split(0.5, 0).unwrap_err().to_string();
        assert!(msg.contains("6 samples, 2 labels"), "{msg}");
        let mut d = numbered(6, 3);
        d.targets = Matrix3xX::zeros(5);
        assert!(d.split(0.5, 0).is_err());
        let mut d = numbered(3, 3);
        d.labels = Some(vec![0, usize::MAX, 1]);
        assert_eq!(d.class_counts(), Some(vec![1, 1, 0]));
    }

    #[test]
    fn batch_and_subset_gather_in_order() {
        let d = numbered(5, 3);
        let (x, y) = d.batch(&[4, 4, 0]);
        assert_eq!(x.as_slice(), &[4.0, 4.0, 0.0]);
        assert_eq!(y.column(0).as_slice(), &[0.0, 1.0, 0.0]);
        let s = d.subset(&[]);
        assert!(s.is_empty());
        assert_eq!(s.labels, Some(vec![]));
    }

    #[test]
    #[should_panic(expected = "sample 5 is out of range for a data set of 5 samples")]
    fn sample_out_of_range_panics_clearly() {
        let _ = numbered(5, 3).sample(5);
    }
}
