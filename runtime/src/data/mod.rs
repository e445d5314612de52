//! Data sets for training and evaluation: a [`Dataset`] of inputs and
//! targets (one sample per column), seeded and stratified splits, a
//! [`Standardizer`] that puts every feature on the scale z = (x − mean) / std,
//! and [`one_hot`] / [`argmax`] between class indices and network outputs.
//!
#![cfg_attr(
    feature = "data",
    doc = "With the `data` feature the module also reads files: CSV ([`read_csv`]),
IDX ([`read_idx`], and [`mnist`] for the MNIST files), each plain or
gzip-compressed, and the small public data sets in [`sets`]. Every reader
reports bad input as an [`Error`](crate::Error) that names the file, line,
column, what was expected and what was found; none of them panics on a
malformed file or allocates memory on the word of a header alone.
"
)]
#![cfg_attr(
    not(feature = "data"),
    doc = "With the `data` feature (not enabled in this build) the module also
reads files: CSV, IDX and MNIST, plain or gzip-compressed, and the small
public data sets of its `sets` module.
"
)]
//!
//! ```
//! use nalgebra::{Const, Dyn, OMatrix};
//! use staticnet::data::{Dataset, Standardizer};
//!
//! // Eight samples of two features, labelled by whether x > y.
//! let xs = [1.0, 0.0, 0.0, 1.0, 2.0, 1.0, 1.0, 2.0, 3.0, 0.0, 0.0, 3.0, 5.0, 4.0, 4.0, 5.0];
//! let inputs = OMatrix::<f64, Const<2>, Dyn>::from_column_slice(&xs);
//! let data = Dataset::<f64, 2, 2>::classification(inputs, vec![1, 0, 1, 0, 1, 0, 1, 0])?;
//! let (mut train, mut test) = data.stratified_split(0.75, 42)?;
//! assert_eq!((train.len(), test.len()), (6, 2));
//!
//! let scaler = Standardizer::fit(&train.inputs)?;
//! scaler.transform(&mut train.inputs);
//! scaler.transform(&mut test.inputs);
//! assert!(train.inputs.row(0).mean().abs() < 1e-12);
//! # Ok::<(), staticnet::Error>(())
//! ```

mod dataset;
mod encode;
mod standardize;

#[cfg(feature = "data")]
mod delimited;
#[cfg(feature = "data")]
mod gz;
#[cfg(feature = "data")]
mod idx;
#[cfg(feature = "data")]
pub mod sets;
#[cfg(all(test, feature = "data"))]
mod testing;

pub use dataset::Dataset;
pub use encode::{argmax, one_hot};
pub use standardize::Standardizer;

#[cfg(feature = "data")]
pub use delimited::{CsvOptions, LabelColumn, class_labels, read_csv, read_csv_from};
#[cfg(feature = "data")]
pub use idx::{Idx, mnist, read_idx, read_idx_from};
