//! Numeric CSV (or any delimiter), plain or gzip-compressed.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use nalgebra::{Const, Dyn, OMatrix};

use super::gz::{Input, open, read_error};
use crate::scalar::constant;
use crate::{Error, Result, Scalar};

/// Which column of a CSV file holds the label (or target) of each row.
///
/// ```
/// use staticnet::data::LabelColumn;
///
/// assert_eq!(LabelColumn::default(), LabelColumn::Last);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LabelColumn {
    /// The first column.
    First,
    /// The last column.
    #[default]
    Last,
    /// No label column: every column is a feature.
    None,
}

/// How to read a CSV file: its delimiter, how many lines to skip at the
/// start and where the label column is.
///
/// ```
/// use staticnet::data::{CsvOptions, LabelColumn};
///
/// let options = CsvOptions::default();
/// assert_eq!((options.delimiter, options.skip_rows, options.label), (b',', 0, LabelColumn::Last));
///
/// let spaces = CsvOptions { delimiter: b' ', label: LabelColumn::None, ..CsvOptions::default() };
/// assert_eq!(spaces.skip_rows, 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CsvOptions {
    /// The byte between two values: `b','` (the default), `b';'`, `b'\t'`,
    /// `b' '` (one space; values are trimmed, but two spaces in a row are
    /// an empty value).
    pub delimiter: u8,
    /// How many lines at the start of the file to skip (a header).
    pub skip_rows: usize,
    /// Where the label column is; [`LabelColumn::Last`] by default.
    pub label: LabelColumn,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            skip_rows: 0,
            label: LabelColumn::Last,
        }
    }
}

/// Reads a numeric CSV file: `F` features and, unless
/// [`options.label`](CsvOptions::label) is [`LabelColumn::None`], one label
/// column per row. Returns the features, one sample per column, and the
/// labels as they are written (as `f64`; empty without a label column): see
/// [`class_labels`] to turn them into class indices.
///
/// A file that starts with the gzip magic (1f 8b) is decompressed, whatever
/// its name. Each line is one row (LF or CRLF line ends); there is no
/// header (skip one with [`skip_rows`](CsvOptions::skip_rows)), values are
/// trimmed of spaces and may be quoted, and blank lines are ignored.
///
/// # Errors
///
/// - [`Error::Io`] when the file cannot be opened or read;
/// - [`Error::Parse`], naming the line (counting from 1, skipped lines
///   included) and the column, for a row with too few or too many values
///   (`line 12, column 65: expected 65 columns, found 64`), a value that is
///   not a number (``line 7, column 3: expected a number, found `abc` ``) or
///   not finite (`nan`, `inf`, or too large for `T`);
/// - [`Error::Format`] for a file without data rows or corrupt gzip data.
///
/// ```
/// use staticnet::data::{CsvOptions, read_csv};
///
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/iris.csv");
/// let options = CsvOptions { skip_rows: 1, ..CsvOptions::default() };
/// let (features, labels) = read_csv::<f32, 4>(path, &options)?;
/// assert_eq!(features.ncols(), 150);
/// assert_eq!(features.column(0).as_slice(), &[5.1, 3.5, 1.4, 0.2]);
/// assert_eq!((labels[0], labels[149]), (0.0, 2.0));
///
/// let err = read_csv::<f32, 3>(path, &options).unwrap_err();
/// assert!(err.to_string().ends_with("iris.csv, line 2, column 5: expected 4 columns, found 5"));
/// # Ok::<(), staticnet::Error>(())
/// ```
pub fn read_csv<T: Scalar, const F: usize>(
    path: impl AsRef<Path>,
    options: &CsvOptions,
) -> Result<(OMatrix<T, Const<F>, Dyn>, Vec<f64>)> {
    let path = path.as_ref();
    parse(open(path)?, &path.display().to_string(), options)
}

/// [`read_csv`] from a stream (plain or gzip) instead of a file; `name`
/// names the stream in error messages.
///
/// # Errors
///
/// As [`read_csv`].
///
/// ```
/// use staticnet::data::{CsvOptions, LabelColumn, read_csv_from};
///
/// let text = "# x, y, class\n1.5, 2, 0\n3, 4.25, 1\n";
/// let options = CsvOptions { skip_rows: 1, ..CsvOptions::default() };
/// let (x, labels) = read_csv_from::<f64, 2>(text.as_bytes(), "points", &options)?;
/// assert_eq!(x.as_slice(), &[1.5, 2.0, 3.0, 4.25]);
/// assert_eq!(labels, [0.0, 1.0]);
///
/// let bad = "1,2,0\n3,abc,1\n";
/// let err = read_csv_from::<f64, 2>(bad.as_bytes(), "points", &CsvOptions::default()).unwrap_err();
/// assert_eq!(err.to_string(), "points, line 2, column 2: expected a number, found `abc`");
///
/// let first = CsvOptions { label: LabelColumn::First, ..CsvOptions::default() };
/// let (x, labels) = read_csv_from::<f32, 2>("7,1,2\n".as_bytes(), "points", &first)?;
/// assert_eq!((x.as_slice(), &labels[..]), (&[1.0, 2.0][..], &[7.0][..]));
/// # Ok::<(), staticnet::Error>(())
/// ```
pub fn read_csv_from<T: Scalar, const F: usize>(
    reader: impl Read,
    name: &str,
    options: &CsvOptions,
) -> Result<(OMatrix<T, Const<F>, Dyn>, Vec<f64>)> {
    let input = Input::new(reader).map_err(|e| read_error(name, e))?;
    parse(input, name, options)
}

/// The class indices written in a label column: each value must be a whole
/// number in `0..classes`. `name` names the file in error messages.
///
/// # Errors
///
/// [`Error::Format`] naming the data row (counting from 1, skipped lines not
/// counted) and the value that is not a class index.
///
/// ```
/// use staticnet::data::class_labels;
///
/// assert_eq!(class_labels(&[0.0, 2.0, 1.0], 3, "iris.csv")?, [0, 2, 1]);
///
/// let err = class_labels(&[0.0, 1.5], 3, "iris.csv").unwrap_err();
/// assert_eq!(err.to_string(), "iris.csv: data row 2: expected a class index in 0..3, found 1.5");
/// # Ok::<(), staticnet::Error>(())
/// ```
pub fn class_labels(values: &[f64], classes: usize, name: &str) -> Result<Vec<usize>> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v >= 0.0 && v < classes as f64 && v.fract() == 0.0 {
                Ok(v as usize)
            } else {
                Err(Error::Format {
                    file: name.to_owned(),
                    message: format!(
                        "data row {}: expected a class index in 0..{classes}, found {v}",
                        i + 1
                    ),
                })
            }
        })
        .collect()
}

fn parse<T: Scalar, const F: usize>(
    input: impl Read,
    name: &str,
    options: &CsvOptions,
) -> Result<(OMatrix<T, Const<F>, Dyn>, Vec<f64>)> {
    // The file is split into lines here and each line parsed by the csv
    // crate on its own: the csv reader's own line numbers are off after
    // blank lines and with CRLF line ends (rust-csv issues 208 and 395).
    let mut input = BufReader::new(input);
    let mut fields = csv::ReaderBuilder::new();
    fields
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .trim(csv::Trim::All);
    let label_at = match options.label {
        LabelColumn::First => Some(0),
        LabelColumn::Last => Some(F),
        LabelColumn::None => None,
    };
    let columns = F + usize::from(label_at.is_some());
    let mut values: Vec<T> = Vec::new();
    let mut labels: Vec<f64> = Vec::new();
    let mut rows = 0;
    let mut text = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut line = 0;
    loop {
        text.clear();
        let read = input
            .read_until(b'\n', &mut text)
            .map_err(|e| read_error(name, e))?;
        if read == 0 {
            break;
        }
        line += 1;
        if line <= options.skip_rows || text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parse_error = |column: usize, message: String| Error::Parse {
            file: name.to_owned(),
            line,
            column,
            message,
        };
        match fields.from_reader(&text[..]).read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => return Err(parse_error(1, format!("cannot read the line as CSV: {e}"))),
        }
        if record.len() != columns {
            return Err(parse_error(
                record.len().min(columns) + 1,
                format!("expected {columns} columns, found {}", record.len()),
            ));
        }
        for (k, field) in record.iter().enumerate() {
            let value = number(field).map_err(|m| parse_error(k + 1, m))?;
            if Some(k) == label_at {
                labels.push(value);
            } else {
                let converted: T = constant(value);
                if !converted.is_finite() {
                    return Err(parse_error(
                        k + 1,
                        format!(
                            "expected a number within the range of {}, found `{}`",
                            core::any::type_name::<T>(),
                            shown(field)
                        ),
                    ));
                }
                values.push(converted);
            }
        }
        rows += 1;
    }
    if rows == 0 {
        let message = if options.skip_rows > 0 {
            format!(
                "expected data rows after the {} skipped line(s), found none",
                options.skip_rows
            )
        } else {
            "expected data rows, found an empty file".to_owned()
        };
        return Err(Error::Format {
            file: name.to_owned(),
            message,
        });
    }
    Ok((
        OMatrix::from_vec_generic(Const::<F>, Dyn(rows), values),
        labels,
    ))
}

/// The finite number in `field`, or what was expected and found.
fn number(field: &[u8]) -> core::result::Result<f64, String> {
    if field.is_empty() {
        return Err("expected a number, found an empty value".to_owned());
    }
    let value = core::str::from_utf8(field)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or_else(|| format!("expected a number, found `{}`", shown(field)))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(format!(
            "expected a finite number, found `{}`",
            shown(field)
        ))
    }
}

/// A field as text for an error message, cut short when long.
fn shown(field: &[u8]) -> String {
    const MAX: usize = 40;
    let text = String::from_utf8_lossy(field);
    if text.chars().count() <= MAX {
        text.into_owned()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::testing::{TempDir, gzip};

    fn read<const F: usize>(
        text: &str,
        options: &CsvOptions,
    ) -> Result<(OMatrix<f64, Const<F>, Dyn>, Vec<f64>)> {
        read_csv_from::<f64, F>(text.as_bytes(), "test.csv", options)
    }

    fn message<const F: usize>(text: &str, options: &CsvOptions) -> String {
        read::<F>(text, options).unwrap_err().to_string()
    }

    #[test]
    fn reads_features_and_labels() {
        let (x, y) = read::<3>("1,2,3,0\n 4 , 5.5 ,-6e-1, 1 \n", &CsvOptions::default()).unwrap();
        assert_eq!(x.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.5, -0.6]);
        assert_eq!(y, [0.0, 1.0]);
    }

    #[test]
    fn label_first_and_none() {
        let first = CsvOptions {
            label: LabelColumn::First,
            ..CsvOptions::default()
        };
        let (x, y) = read::<2>("9,1,2\n8,3,4\n", &first).unwrap();
        assert_eq!(
            (x.as_slice(), &y[..]),
            (&[1.0, 2.0, 3.0, 4.0][..], &[9.0, 8.0][..])
        );
        let none = CsvOptions {
            label: LabelColumn::None,
            delimiter: b';',
            ..CsvOptions::default()
        };
        let (x, y) = read::<2>("1;2\n3;4\n", &none).unwrap();
        assert_eq!(x.ncols(), 2);
        assert!(y.is_empty());
    }

    #[test]
    fn skipped_lines_count_in_line_numbers_and_blank_lines_are_ignored() {
        let options = CsvOptions {
            skip_rows: 2,
            ..CsvOptions::default()
        };
        let (x, _) = read::<1>("a header\nanother,one,here\n1,0\n\n2,1\n", &options).unwrap();
        assert_eq!(x.as_slice(), &[1.0, 2.0]);
        let msg = message::<1>("h\nh\n1,0\n\n2\n", &options);
        assert_eq!(
            msg,
            "test.csv, line 5, column 2: expected 2 columns, found 1"
        );
    }

    #[test]
    fn crlf_line_ends_and_quotes() {
        let (x, y) = read::<2>("1,2,0\r\n\r\n\"3\", 4 ,1\r\n", &CsvOptions::default()).unwrap();
        assert_eq!(
            (x.as_slice(), &y[..]),
            (&[1.0, 2.0, 3.0, 4.0][..], &[0.0, 1.0][..])
        );
        let msg = message::<2>("1,2,0\r\n\r\n\r\n3,4\r\n", &CsvOptions::default());
        assert_eq!(
            msg,
            "test.csv, line 4, column 3: expected 3 columns, found 2"
        );
    }

    #[test]
    fn short_and_long_rows_name_line_and_counts() {
        let options = CsvOptions::default();
        let msg = message::<3>("1,2,3,0\n1,2,0\n", &options);
        assert_eq!(
            msg,
            "test.csv, line 2, column 4: expected 4 columns, found 3"
        );
        let msg = message::<3>("1,2,3,0\n1,2,3,4,5,0\n", &options);
        assert_eq!(
            msg,
            "test.csv, line 2, column 5: expected 4 columns, found 6"
        );
    }

    #[test]
    fn bad_numbers_name_line_column_and_value() {
        let options = CsvOptions::default();
        let msg = message::<2>("1,2,0\n1,2,0\n3,x y,0\n", &options);
        assert_eq!(
            msg,
            "test.csv, line 3, column 2: expected a number, found `x y`"
        );
        let msg = message::<2>("1,,0\n", &options);
        assert_eq!(
            msg,
            "test.csv, line 1, column 2: expected a number, found an empty value"
        );
        let msg = message::<2>("1,2,NaN\n", &options);
        assert_eq!(
            msg,
            "test.csv, line 1, column 3: expected a finite number, found `NaN`"
        );
        let msg = message::<2>("inf,2,0\n", &options);
        assert!(
            msg.contains("column 1: expected a finite number, found `inf`"),
            "{msg}"
        );
        let msg = message::<2>("1e400,2,0\n", &options);
        assert!(
            msg.contains("expected a finite number, found `1e400`"),
            "{msg}"
        );
        let long = format!("1,{},0\n", "z".repeat(100));
        let msg = message::<2>(&long, &options);
        assert!(
            msg.ends_with(&format!("found `{}…`", "z".repeat(40))),
            "{msg}"
        );
        let msg = read_csv_from::<f64, 1>(&b"\xff\xfe,1\n"[..], "bin", &options)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("line 1, column 1: expected a number, found `"),
            "{msg}"
        );
    }

    #[test]
    fn values_too_large_for_f32_are_errors() {
        let err = read_csv_from::<f32, 1>(&b"1e300,0\n"[..], "big.csv", &CsvOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "big.csv, line 1, column 1: expected a number within the range of f32, found `1e300`"
        );
    }

    #[test]
    fn empty_files_are_errors() {
        let msg = message::<2>("", &CsvOptions::default());
        assert_eq!(msg, "test.csv: expected data rows, found an empty file");
        let msg = message::<2>("\n\n", &CsvOptions::default());
        assert!(msg.contains("empty file"), "{msg}");
        let skip = CsvOptions {
            skip_rows: 1,
            ..CsvOptions::default()
        };
        let msg = message::<2>("150,2,a,b\n", &skip);
        assert!(
            msg.contains("after the 1 skipped line(s), found none"),
            "{msg}"
        );
    }

    #[test]
    fn gzip_files_are_read_transparently() {
        let dir = TempDir::new("csv");
        let text = b"1,2,0\n3,4,1\n";
        let plain = dir.write("plain.csv", text);
        let packed = dir.write("packed.csv", &gzip(text));
        let options = CsvOptions::default();
        let a = read_csv::<f32, 2>(&plain, &options).unwrap();
        let b = read_csv::<f32, 2>(&packed, &options).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.1, [0.0, 1.0]);
    }

    #[test]
    fn corrupt_gzip_and_missing_files_are_errors() {
        let mut packed = gzip("1,2,0\n".repeat(1000).as_bytes());
        let n = packed.len();
        packed[n / 2] ^= 0xa5;
        packed[n - 6] ^= 0xa5;
        let err = read_csv_from::<f32, 2>(&packed[..], "data.csv.gz", &CsvOptions::default())
            .unwrap_err();
        assert!(matches!(err, Error::Format { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("data.csv.gz: the gzip data is corrupt"),
            "{err}"
        );

        let err =
            read_csv::<f32, 2>("/nonexistent/staticnet.csv", &CsvOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        assert!(
            err.to_string().starts_with("/nonexistent/staticnet.csv: "),
            "{err}"
        );
    }

    #[test]
    fn class_labels_checks_range_and_integrality() {
        assert_eq!(class_labels(&[1.0, 0.0], 2, "f").unwrap(), [1, 0]);
        for (bad, shown) in [(-1.0, "-1"), (3.0, "3"), (0.5, "0.5"), (f64::NAN, "NaN")] {
            let msg = class_labels(&[0.0, 1.0, bad], 3, "f.csv")
                .unwrap_err()
                .to_string();
            assert_eq!(
                msg,
                format!("f.csv: data row 3: expected a class index in 0..3, found {shown}")
            );
        }
    }
}
