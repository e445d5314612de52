//! Reading a file or stream that may be gzip-compressed: the readers look at
//! the first two bytes and decompress when they are the gzip magic 1f 8b.

use std::error::Error as StdError;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Chain, Cursor, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::Error;

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A stream read as is, or decompressed when it starts with the gzip magic.
pub(crate) enum Input<R: Read> {
    /// Not gzip: the bytes as they are.
    Plain(Chain<Cursor<Vec<u8>>, R>),
    /// gzip (one or more members): the decompressed bytes.
    Gzip(Box<MultiGzDecoder<Chain<Cursor<Vec<u8>>, R>>>),
}

impl<R: Read> Input<R> {
    /// Looks at the first two bytes of `reader` (without losing them) and
    /// decompresses when they are the gzip magic.
    pub(crate) fn new(mut reader: R) -> io::Result<Self> {
        let mut magic = [0_u8; 2];
        let mut n = 0;
        while n < magic.len() {
            match reader.read(&mut magic[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let stream = Cursor::new(magic[..n].to_vec()).chain(reader);
        Ok(if magic[..n] == GZIP_MAGIC {
            Self::Gzip(Box::new(MultiGzDecoder::new(stream)))
        } else {
            Self::Plain(stream)
        })
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(r) => r.read(buf),
            Self::Gzip(r) => r.read(buf).map_err(|e| match e.kind() {
                io::ErrorKind::InvalidData
                | io::ErrorKind::InvalidInput
                | io::ErrorKind::UnexpectedEof => {
                    io::Error::new(io::ErrorKind::InvalidData, CorruptGzip(e))
                }
                _ => e,
            }),
        }
    }
}

/// The error of a gzip stream that cannot be decompressed, told apart from
/// an error of the underlying file by [`read_error`].
#[derive(Debug)]
struct CorruptGzip(io::Error);

impl fmt::Display for CorruptGzip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the gzip data is corrupt or truncated ({})", self.0)
    }
}

impl StdError for CorruptGzip {}

/// Opens the file at `path` for reading, decompressing when it is gzip.
pub(crate) fn open(path: &Path) -> crate::Result<Input<BufReader<File>>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    Input::new(BufReader::new(file)).map_err(io)
}

/// An error met while reading the stream `name`: [`Error::Format`] when the
/// gzip data is corrupt, [`Error::Io`] otherwise.
pub(crate) fn read_error(name: &str, error: io::Error) -> Error {
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<CorruptGzip>())
    {
        Some(corrupt) => Error::Format {
            file: name.to_owned(),
            message: corrupt.to_string(),
        },
        None => Error::Io {
            path: name.into(),
            source: error,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::testing::gzip;

    fn read_all(bytes: &[u8]) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        Input::new(bytes)
            .and_then(|mut input| input.read_to_end(&mut out))
            .map_err(|e| read_error("test.gz", e))?;
        Ok(out)
    }

    #[test]
    fn plain_bytes_pass_through_including_short_ones() {
        for bytes in [&b""[..], b"x", b"\x1f", b"hello, world"] {
            assert_eq!(read_all(bytes).unwrap(), bytes);
        }
    }

    #[test]
    fn gzip_is_decompressed() {
        assert_eq!(read_all(&gzip(b"1,2,3\n")).unwrap(), b"1,2,3\n");
        let mut two = gzip(b"first ");
        two.extend(gzip(b"second"));
        assert_eq!(read_all(&two).unwrap(), b"first second");
    }

    #[test]
    fn corrupt_and_truncated_gzip_are_format_errors() {
        let mut corrupt = gzip(&[7; 1000]);
        let len = corrupt.len();
        corrupt[len - 8] ^= 0xff; // the CRC
        let truncated = &gzip(&[7; 1000])[..len / 2];
        let mut garbage = gzip(b"x");
        garbage[12] ^= 0x55;
        for bytes in [&corrupt[..], truncated, &garbage, &GZIP_MAGIC] {
            let err = read_all(bytes).unwrap_err();
            assert!(matches!(err, Error::Format { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(
                msg.starts_with("test.gz: the gzip data is corrupt"),
                "{msg}"
            );
        }
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let path = Path::new("/nonexistent/staticnet/file.csv");
        let Err(err) = open(path) else {
            panic!("opened a missing file")
        };
        assert!(
            matches!(&err, Error::Io { path: p, .. } if p == path),
            "{err:?}"
        );
    }
}
