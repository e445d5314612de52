//! The error type of everything that reads the outside world or can fail
//! at run time.

use std::path::PathBuf;

/// What went wrong, naming the file, tensor or line and what was expected
/// against what was found.
///
/// ```
/// let e = staticnet::Error::Parse {
///     file: "iris.csv".into(),
///     line: 7,
///     column: 3,
///     message: "expected a number, found `abc`".into(),
/// };
/// assert_eq!(e.to_string(), "iris.csv, line 7, column 3: expected a number, found `abc`");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A value in a text file could not be read.
    #[error("{file}, line {line}, column {column}: {message}")]
    Parse {
        /// The file (or stream) name.
        file: String,
        /// The line, counting from 1.
        line: usize,
        /// The column, counting from 1.
        column: usize,
        /// What was expected and what was found.
        message: String,
    },
    /// A file's contents do not have the expected structure (a wrong magic
    /// number, a truncated file, a label out of range).
    #[error("{file}: {message}")]
    Format {
        /// The file (or stream) name.
        file: String,
        /// What was expected and what was found.
        message: String,
    },
    /// An argument is out of its range (a split fraction of 1.5, an empty
    /// data set).
    #[error("{0}")]
    Invalid(String),
    /// Training produced a NaN or infinite loss or gradient.
    #[error("training diverged: the {what} is {value} at epoch {epoch}, step {step}")]
    NonFinite {
        /// What was not finite: `loss` or `gradient norm`.
        what: &'static str,
        /// The epoch, counting from 1.
        epoch: usize,
        /// The optimizer step within the epoch, counting from 1.
        step: usize,
        /// The loss that was not finite.
        value: f64,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
