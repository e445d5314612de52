//! Loaders for small public data sets, as the scikit-learn 1.9.1 wheel
//! carries them (the project keeps copies in its `data/` folder, with their
//! attribution and checksums in `data/README.md`).
//!
//! Each loader takes the file's path, reads it plain or gzip-compressed
//! (whatever its name), and checks the number of samples and features and
//! every class label: a file that is not the data set it claims to be is
//! an [`Error`], never a quietly wrong data set. Nothing is scaled: fit a
//! [`Standardizer`](super::Standardizer) on the training part.
//!
//! ```
//! use staticnet::data::{Standardizer, sets};
//!
//! let iris = sets::iris::<f32>(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/iris.csv"))?;
//! let (mut train, mut test) = iris.stratified_split(0.8, 42)?;
//! let scaler = Standardizer::fit(&train.inputs)?;
//! scaler.transform(&mut train.inputs);
//! scaler.transform(&mut test.inputs);
//! assert_eq!(test.class_counts(), Some(vec![10, 10, 10]));
//! # Ok::<(), staticnet::Error>(())
//! ```

use std::io::Read;
use std::path::Path;

use super::gz::{open, read_error};
use super::{CsvOptions, Dataset, LabelColumn, class_labels, read_csv, read_csv_from};
use crate::{Error, Result, Scalar};

/// The UCI optical recognition of handwritten digits (as in scikit-learn's
/// `load_digits`): 1797 images of 8 × 8 pixels, row-major, with values
/// 0..=16, and their digits 0 to 9 (174 to 183 of each).
///
/// The file (`digits.csv.gz`) has no header and 65 columns: the 64 pixels,
/// then the label.
///
/// # Errors
///
/// The errors of [`read_csv`] and [`class_labels`], and [`Error::Format`]
/// when the file does not hold 1797 samples.
///
/// ```
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits.csv.gz");
/// let digits = staticnet::data::sets::digits::<f32>(path)?;
/// assert_eq!(digits.len(), 1797);
/// assert!(digits.inputs.iter().all(|&p| (0.0..=16.0).contains(&p)));
/// # Ok::<(), staticnet::Error>(())
/// ```
pub fn digits<T: Scalar>(path: impl AsRef<Path>) -> Result<Dataset<T, 64, 10>> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let (inputs, raw) = read_csv::<T, 64>(path, &CsvOptions::default())?;
    check_count(&name, "digits", 1797, inputs.ncols())?;
    Dataset::classification(inputs, class_labels(&raw, 10, &name)?)
}

/// Fisher's iris (UCI): 150 flowers, 4 measurements in cm (sepal length
/// and width, petal length and width), 3 species: 0 setosa, 1 versicolor,
/// 2 virginica, 50 of each.
///
/// The file (`iris.csv`) starts with the row `150,4,setosa,versicolor,
/// virginica`, then one row per flower with the label last.
///
/// # Errors
///
/// The errors of [`read_csv`] and [`class_labels`], [`Error::Parse`] when
/// the first row is not that header, and [`Error::Format`] when the file
/// does not hold as many samples as the header says.
///
/// ```
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/iris.csv");
/// let iris = staticnet::data::sets::iris::<f64>(path)?;
/// assert_eq!(iris.class_counts(), Some(vec![50, 50, 50]));
/// assert_eq!(iris.sample(0).0.as_slice(), &[5.1, 3.5, 1.4, 0.2]);
/// # Ok::<(), staticnet::Error>(())
/// ```
pub fn iris<T: Scalar>(path: impl AsRef<Path>) -> Result<Dataset<T, 4, 3>> {
    with_header(path.as_ref(), "iris", 150, 3)
}

/// The UCI wine recognition data: 178 wines, 13 chemical measurements
/// (alcohol, malic acid, …, proline, on very different scales), 3
/// cultivars: 59, 71 and 48 wines.
///
/// The file (`wine_data.csv`) starts with the row
/// `178,13,class_0,class_1,class_2`, then one row per wine, label last.
///
/// # Errors
///
/// As [`iris`].
///
/// ```
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/wine_data.csv");
/// let wine = staticnet::data::sets::wine::<f32>(path)?;
/// assert_eq!(wine.class_counts(), Some(vec![59, 71, 48]));
/// # Ok::<(), staticnet::Error>(())
/// ```
pub fn wine<T: Scalar>(path: impl AsRef<Path>) -> Result<Dataset<T, 13, 3>> {
    with_header(path.as_ref(), "wine", 178, 3)
}

/// The Breast Cancer Wisconsin (diagnostic) data: 569 tumours, 30 features
/// of their cell nuclei, and a binary label for a sigmoid output: 0
/// malignant (212), 1 benign (357).
///
/// The file (`breast_cancer.csv`) starts with the row
/// `569,30,malignant,benign`, then one row per tumour, label last.
///
/// # Errors
///
/// As [`iris`].
///
/// ```
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/breast_cancer.csv");
/// let cancer = staticnet::data::sets::breast_cancer::<f64>(path)?;
/// assert_eq!(cancer.class_counts(), Some(vec![212, 357]));
/// assert_eq!(cancer.targets.sum(), 357.0);
/// # Ok::<(), staticnet::Error>(())
/// ```
pub fn breast_cancer<T: Scalar>(path: impl AsRef<Path>) -> Result<Dataset<T, 30, 1>> {
    with_header(path.as_ref(), "breast cancer", 569, 2)
}

/// The diabetes data of Efron et al. (2004), raw (not scaled): 442
/// patients, 10 baseline variables (age, sex, body mass index, blood
/// pressure and six blood serum measurements) and, as the target, a
/// measure of disease progression one year later (25 to 346, mean 152.13).
///
/// Both files are space-separated without a header: `data_path`
/// (`diabetes_data_raw.csv.gz`) with 10 columns, `target_path`
/// (`diabetes_target.csv.gz`) with one.
///
/// # Errors
///
/// The errors of [`read_csv`], and [`Error::Format`] when a file does not
/// hold 442 samples.
///
/// ```
/// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/");
/// let diabetes = staticnet::data::sets::diabetes::<f64>(
///     format!("{dir}diabetes_data_raw.csv.gz"),
///     format!("{dir}diabetes_target.csv.gz"),
/// )?;
/// assert_eq!(diabetes.len(), 442);
/// assert!((diabetes.targets.mean() - 152.13).abs() < 0.01);
/// # Ok::<(), staticnet::Error>(())
/// ```
pub fn diabetes<T: Scalar>(
    data_path: impl AsRef<Path>,
    target_path: impl AsRef<Path>,
) -> Result<Dataset<T, 10, 1>> {
    let options = CsvOptions {
        delimiter: b' ',
        skip_rows: 0,
        label: LabelColumn::None,
    };
    let (inputs, _) = read_csv::<T, 10>(data_path.as_ref(), &options)?;
    let data_name = data_path.as_ref().display().to_string();
    check_count(&data_name, "diabetes", 442, inputs.ncols())?;
    let (targets, _) = read_csv::<T, 1>(target_path.as_ref(), &options)?;
    let target_name = target_path.as_ref().display().to_string();
    check_count(&target_name, "diabetes", 442, targets.ncols())?;
    Dataset::new(inputs, targets)
}

fn check_count(name: &str, set: &str, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::Format {
            file: name.to_owned(),
            message: format!(
                "expected the {expected} samples of the {set} data set, found {found}"
            ),
        })
    }
}

/// Reads a scikit-learn CSV whose first row is
/// `samples,features,class names…`, checking it against what the data set
/// should be and the rows against it.
fn with_header<T: Scalar, const F: usize, const O: usize>(
    path: &Path,
    set: &str,
    samples: usize,
    classes: usize,
) -> Result<Dataset<T, F, O>> {
    let name = path.display().to_string();
    let mut bytes = Vec::new();
    open(path)?
        .read_to_end(&mut bytes)
        .map_err(|e| read_error(&name, e))?;
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let header = String::from_utf8_lossy(first);
    let fields: Vec<&str> = header
        .trim_end_matches('\r')
        .split(',')
        .map(str::trim)
        .collect();
    let header_error = |column: usize, message: String| Error::Parse {
        file: name.clone(),
        line: 1,
        column,
        message: format!("{message} in the header of the {set} data set"),
    };
    let promised = |column: usize, what: &str, expected: usize| {
        let found = fields.get(column - 1).copied().unwrap_or_default();
        if found.parse::<usize>().ok() == Some(expected) {
            Ok(())
        } else {
            Err(header_error(
                column,
                format!("expected {expected} (the number of {what}), found `{found}`"),
            ))
        }
    };
    promised(1, "samples", samples)?;
    promised(2, "features", F)?;
    let names = fields.len() - 2;
    if names != classes {
        return Err(header_error(
            fields.len().min(classes + 2) + 1,
            format!("expected {classes} class names, found {names}"),
        ));
    }
    let options = CsvOptions {
        skip_rows: 1,
        ..CsvOptions::default()
    };
    let (inputs, raw) = read_csv_from::<T, F>(&bytes[..], &name, &options)?;
    if inputs.ncols() != samples {
        return Err(Error::Format {
            file: name,
            message: format!(
                "expected {samples} samples as the header says, found {}",
                inputs.ncols()
            ),
        });
    }
    Dataset::classification(inputs, class_labels(&raw, classes, &name)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::testing::{TempDir, gzip};

    fn data(file: &str) -> String {
        format!("{}/../data/{file}", env!("CARGO_MANIFEST_DIR"))
    }

    fn counts<const F: usize, const O: usize>(d: &Dataset<f64, F, O>) -> Vec<usize> {
        d.class_counts().unwrap()
    }

    #[test]
    fn digits_has_1797_images_of_every_digit() {
        let d = digits::<f64>(data("digits.csv.gz")).unwrap();
        assert_eq!(d.len(), 1797);
        let c = counts(&d);
        assert_eq!(c.len(), 10);
        assert!(c.iter().all(|n| (174..=183).contains(n)), "{c:?}");
        assert_eq!(c.iter().sum::<usize>(), 1797);
        assert_eq!(d.inputs.max(), 16.0);
        assert_eq!(d.inputs.min(), 0.0);
        // The first image is a 0, the second a 1.
        assert_eq!(d.labels.as_ref().unwrap()[..2], [0, 1]);
        assert_eq!(
            d.inputs.column(0).as_slice()[..6],
            [0.0, 0.0, 5.0, 13.0, 9.0, 1.0]
        );
    }

    #[test]
    fn iris_is_balanced() {
        let d = iris::<f64>(data("iris.csv")).unwrap();
        assert_eq!(counts(&d), [50, 50, 50]);
        let (x, y) = d.sample(149);
        assert_eq!(x.as_slice(), &[5.9, 3.0, 5.1, 1.8]);
        assert_eq!(y.as_slice(), &[0.0, 0.0, 1.0]);
    }

    #[test]
    fn wine_has_59_71_48() {
        let d = wine::<f64>(data("wine_data.csv")).unwrap();
        assert_eq!(counts(&d), [59, 71, 48]);
        assert_eq!(d.inputs[(0, 0)], 14.23);
        assert_eq!(d.inputs[(12, 0)], 1065.0);
    }

    #[test]
    fn breast_cancer_is_binary() {
        let d = breast_cancer::<f64>(data("breast_cancer.csv")).unwrap();
        assert_eq!(d.len(), 569);
        assert_eq!(counts(&d), [212, 357]);
        assert_eq!(d.targets.sum(), 357.0);
        assert!(d.targets.iter().all(|&t| t == 0.0 || t == 1.0));
        assert_eq!(d.inputs[(0, 0)], 17.99);
    }

    #[test]
    fn diabetes_targets_average_152_13() {
        let d = diabetes::<f64>(
            data("diabetes_data_raw.csv.gz"),
            data("diabetes_target.csv.gz"),
        )
        .unwrap();
        assert_eq!(d.len(), 442);
        assert!(d.labels.is_none());
        assert!(
            (d.targets.mean() - 152.13).abs() < 0.005,
            "{}",
            d.targets.mean()
        );
        assert_eq!((d.targets.min(), d.targets.max()), (25.0, 346.0));
        assert_eq!(d.inputs.column(0).as_slice()[..3], [59.0, 2.0, 32.1]);
    }

    #[test]
    fn loads_in_f32_too() {
        let d = wine::<f32>(data("wine_data.csv")).unwrap();
        assert_eq!(d.inputs[(0, 0)], 14.23_f32);
    }

    #[test]
    fn a_wrong_header_is_named() {
        let dir = TempDir::new("sets-header");
        let cases = [
            (
                "151,4,a,b,c\n",
                "line 1, column 1: expected 150 (the number of samples), found `151`",
            ),
            (
                "150,5,a,b,c\n",
                "line 1, column 2: expected 4 (the number of features), found `5`",
            ),
            (
                "150\n",
                "line 1, column 2: expected 4 (the number of features), found ``",
            ),
            (
                "150,4,a,b\n",
                "line 1, column 5: expected 3 class names, found 2",
            ),
            (
                "150,4,a,b,c,d\n",
                "line 1, column 6: expected 3 class names, found 4",
            ),
            (
                "",
                "line 1, column 1: expected 150 (the number of samples), found ``",
            ),
        ];
        for (text, expected) in cases {
            let path = dir.write("iris.csv", text.as_bytes());
            let msg = iris::<f32>(&path).unwrap_err().to_string();
            assert!(msg.contains(expected), "{text:?}: {msg}");
            assert!(msg.ends_with("in the header of the iris data set"), "{msg}");
        }
    }

    #[test]
    fn rows_must_match_the_header() {
        let dir = TempDir::new("sets-rows");
        let mut text = String::from("150,4,a,b,c\n");
        for i in 0..149 {
            text.push_str(&format!("1,2,3,4,{}\n", i % 3));
        }
        let path = dir.write("iris.csv.gz", &gzip(text.as_bytes()));
        let msg = iris::<f32>(&path).unwrap_err().to_string();
        assert!(
            msg.ends_with("iris.csv.gz: expected 150 samples as the header says, found 149"),
            "{msg}"
        );

        text.push_str("1,2,3,4,3\n");
        let path = dir.write("iris.csv", text.as_bytes());
        let msg = iris::<f32>(&path).unwrap_err().to_string();
        assert!(
            msg.ends_with("iris.csv: data row 150: expected a class index in 0..3, found 3"),
            "{msg}"
        );
    }

    #[test]
    fn short_files_and_bad_rows_are_errors() {
        let dir = TempDir::new("sets-short");
        let path = dir.write("digits.csv", "0,".repeat(64).as_bytes());
        let msg = digits::<f32>(&path).unwrap_err().to_string();
        assert!(
            msg.contains("line 1, column 65: expected a number, found an empty value"),
            "{msg}"
        );
        let row = format!("{}1\n", "0,".repeat(64));
        let path = dir.write("digits.csv", row.as_bytes());
        let msg = digits::<f32>(&path).unwrap_err().to_string();
        assert!(
            msg.ends_with("expected the 1797 samples of the digits data set, found 1"),
            "{msg}"
        );

        let target = dir.write("target.csv", b"151\n");
        let msg = diabetes::<f32>(data("diabetes_data_raw.csv.gz"), &target)
            .unwrap_err()
            .to_string();
        assert!(
            msg.ends_with("target.csv: expected the 442 samples of the diabetes data set, found 1"),
            "{msg}"
        );
        let msg = diabetes::<f32>(&target, data("diabetes_target.csv.gz"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("target.csv, line 1, column 2: expected 10 columns, found 1"),
            "{msg}"
        );

        let missing = dir.path().join("wine_data.csv");
        let err = wine::<f32>(&missing).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
    }
}
