//! The error type of everything that reads the outside world or can fail
//! at run time.

use core::fmt;
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
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A value in a text file could not be read.
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
    Format {
        /// The file (or stream) name.
        file: String,
        /// What was expected and what was found.
        message: String,
    },
    /// An argument is out of its range (a split fraction of 1.5, an empty
    /// data set).
    Invalid(String),
    /// The tensors of a weights file do not fit the network: every problem
    /// found, one per line (a missing tensor, a wrong shape or dtype, an
    /// unexpected tensor, a different architecture).
    Mismatch {
        /// The file (or stream) name.
        file: String,
        /// The network's type name.
        network: &'static str,
        /// Each problem, naming the tensor, what was expected and what was
        /// found.
        problems: Vec<String>,
    },
    /// Training produced a NaN or infinite loss or gradient.
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

// Written out rather than derived: thiserror 2.0.21 depends on syn 3 while
// the macro crate uses syn 2, and the second syn added about 7 s to a user's
// cold build (measured: 39.2 s against 28.8 s for the nalgebra floor).
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Parse {
                file,
                line,
                column,
                message,
            } => write!(f, "{file}, line {line}, column {column}: {message}"),
            Self::Format { file, message } => write!(f, "{file}: {message}"),
            Self::Invalid(message) => f.write_str(message),
            Self::Mismatch {
                file,
                network,
                problems,
            } => {
                let n = problems.len();
                let plural = if n == 1 { "" } else { "s" };
                write!(
                    f,
                    "{file} does not fit network `{network}` ({n} problem{plural}):"
                )?;
                for problem in problems {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
            Self::NonFinite {
                what,
                epoch,
                step,
                value,
            } => write!(
                f,
                "training diverged: the {what} is {value} at epoch {epoch}, step {step}"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn every_variant_names_what_and_where() {
        let io = Error::Io {
            path: "weights/net.safetensors".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        };
        assert_eq!(io.to_string(), "weights/net.safetensors: no such file");
        assert!(io.source().is_some());
        let format = Error::Format {
            file: "t10k-images-idx3-ubyte".into(),
            message: "expected 100 bytes of data, found 60".into(),
        };
        assert_eq!(
            format.to_string(),
            "t10k-images-idx3-ubyte: expected 100 bytes of data, found 60"
        );
        assert!(format.source().is_none());
        assert_eq!(Error::Invalid("empty".into()).to_string(), "empty");
        let diverged = Error::NonFinite {
            what: "loss",
            epoch: 3,
            step: 14,
            value: f64::NAN,
        };
        assert_eq!(
            diverged.to_string(),
            "training diverged: the loss is NaN at epoch 3, step 14"
        );
    }
}
