//! Weights on disk as [safetensors], the format of the PyTorch and Hugging
//! Face ecosystem (feature `safetensors`).
//!
//! A network's tensors are stored under their names, `layer.weight` and
//! `layer.bias`, weights row-major in PyTorch's order: `[out, in]` for a
//! dense layer (as PyTorch stores `nn.Linear`), `[out_channels, in_channels,
//! kernel_height, kernel_width]` for a convolution (as `nn.Conv2d`), `[out]`
//! for a bias. Files record the architecture in their metadata
//! (`staticnet.architecture`, a 64-bit `staticnet.fingerprint` and the
//! `staticnet.summary` table), so that loading a file into a network of
//! another architecture fails with a message that says so.
//!
//! Loading checks every tensor's presence, dtype, shape and values (all
//! finite) and reports every problem at once in [`Error::Mismatch`]; a
//! file that fails to load changes nothing. Writes are atomic: a temporary
//! file in the same folder, then a rename, so a failure midway never damages
//! the previous file.
//!
//! ```
//! use staticnet::prelude::*;
//! use staticnet::weights::Weights;
//!
//! network! {
//!     #[derive(Debug, PartialEq)]
//!     struct Xor { input: 2, hidden: dense(2) -> relu, output: dense(1) -> sigmoid }
//! }
//!
//! let net = Xor::from_seed(7);
//! let path = std::env::temp_dir().join("staticnet-doc-xor.safetensors");
//! net.save(&path)?;
//! assert_eq!(Xor::load(&path)?, net);
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), staticnet::Error>(())
//! ```
//!
//! # Loading from PyTorch
//!
//! A PyTorch `nn.Sequential` names its tensors by module index: `0.weight`,
//! `0.bias`, `2.weight` (the activation at index 1 has none). Give the
//! mapping from layer names to those prefixes to
//! [`load_renamed`](Weights::load_renamed):
//!
//! ```python
//! model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
//! safetensors.torch.save_file(model.state_dict(), "model.safetensors")
//! ```
//!
//! ```no_run
//! use staticnet::prelude::*;
//! use staticnet::weights::Weights;
//!
//! network! { struct Net { input: 4, hidden: dense(8) -> relu, output: dense(3) } }
//!
//! let net = Net::load_renamed("model.safetensors", &[("hidden", "0"), ("output", "2")])?;
//! # Ok::<(), staticnet::Error>(())
//! ```
//!
//! `nn.Flatten` flattens channels, then rows, then columns, as staticnet's
//! `flatten` does, so a `Linear` after it loads unchanged. A file without
//! staticnet's metadata (any file PyTorch wrote) is checked tensor by
//! tensor only. [`save_renamed`](Weights::save_renamed) writes the other way.
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, View};

use crate::io::write_atomically;
use crate::network::{ParamName, Parameters, TensorInfo};
use crate::{Error, Result, Scalar};

/// The most header bytes a loader accepts: far more than the header of any
/// network this crate can declare needs (a few kilobytes), so that a hostile
/// file cannot make the loader allocate without bound.
pub const MAX_HEADER_BYTES: usize = 1 << 20;

/// The metadata key under which files record the architecture's
/// fingerprint.
pub const FINGERPRINT_KEY: &str = "staticnet.fingerprint";
/// The metadata key of the architecture, one line.
pub const ARCHITECTURE_KEY: &str = "staticnet.architecture";
/// The metadata key of the network's type name.
pub const NETWORK_KEY: &str = "staticnet.network";
/// The metadata key of the summary table.
pub const SUMMARY_KEY: &str = "staticnet.summary";

/// A scalar type that weight files can hold: `f32` (safetensors `F32`) and
/// `f64` (`F64`).
///
/// ```
/// use staticnet::weights::Element;
///
/// assert_eq!(<f32 as Element>::DTYPE.to_string(), "F32");
/// let mut bytes = Vec::new();
/// 1.5_f64.write_le(&mut bytes);
/// assert_eq!(f64::read_le(&bytes), 1.5);
/// ```
pub trait Element: Scalar {
    /// The safetensors dtype.
    const DTYPE: Dtype;
    /// The bytes of one value.
    const BYTES: usize;
    /// Appends the value's little-endian bytes.
    fn write_le(self, out: &mut Vec<u8>);
    /// Reads a value from the first [`BYTES`](Self::BYTES) little-endian bytes of
    /// `bytes`, which must hold that many.
    fn read_le(bytes: &[u8]) -> Self;
}

impl Element for f32 {
    const DTYPE: Dtype = Dtype::F32;
    const BYTES: usize = 4;
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn read_le(bytes: &[u8]) -> Self {
        let mut b = [0; 4];
        b.copy_from_slice(&bytes[..4]);
        Self::from_le_bytes(b)
    }
}

impl Element for f64 {
    const DTYPE: Dtype = Dtype::F64;
    const BYTES: usize = 8;
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn read_le(bytes: &[u8]) -> Self {
        let mut b = [0; 8];
        b.copy_from_slice(&bytes[..8]);
        Self::from_le_bytes(b)
    }
}

/// One tensor ready to be written: its dtype, shape and little-endian
/// bytes.
pub(crate) struct Tensor {
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) bytes: Vec<u8>,
}

impl View for &Tensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// The file name of a tensor: its layer renamed by `renames` (pairs of
/// layer name and file prefix), then `.weight` or `.bias`.
fn file_name(name: ParamName, renames: &[(&str, &str)]) -> String {
    let layer = renames
        .iter()
        .find(|(from, _)| *from == name.layer)
        .map_or(name.layer, |(_, to)| *to);
    format!("{layer}.{}", name.tensor)
}

/// The tensors of `net` under their file names, weights transposed from
/// nalgebra's column-major order to PyTorch's row-major order.
pub(crate) fn tensors_of<P>(net: &P, renames: &[(&str, &str)]) -> Vec<(String, Tensor)>
where
    P: Parameters,
    P::Scalar: Element,
{
    let mut out = Vec::with_capacity(P::TENSORS.len());
    let mut index = 0;
    net.for_each_parameter(|name, values| {
        let info = &P::TENSORS[index];
        index += 1;
        debug_assert_eq!(info.name, name, "TENSORS and the visiting order agree");
        let rows = info.shape.first().copied().unwrap_or(1);
        let cols = values.len() / rows.max(1);
        let mut bytes = Vec::with_capacity(values.len() * P::Scalar::BYTES);
        for r in 0..rows {
            for c in 0..cols {
                values[r + rows * c].write_le(&mut bytes);
            }
        }
        out.push((
            file_name(name, renames),
            Tensor {
                dtype: P::Scalar::DTYPE,
                shape: info.shape.to_vec(),
                bytes,
            },
        ));
    });
    out
}

/// The metadata that every file written for a network of type `P` carries.
pub(crate) fn metadata_of<P: Parameters>() -> Vec<(String, String)> {
    let summary = P::ARCHITECTURE;
    vec![
        ("format".into(), "pt".into()),
        (NETWORK_KEY.into(), summary.name.into()),
        (ARCHITECTURE_KEY.into(), summary.architecture().to_string()),
        (
            FINGERPRINT_KEY.into(),
            format!("{:016x}", summary.fingerprint()),
        ),
        (SUMMARY_KEY.into(), summary.to_string()),
    ]
}

/// Serializes tensors and metadata into safetensors bytes.
pub(crate) fn encode(
    tensors: &[(String, Tensor)],
    metadata: Vec<(String, String)>,
    file: &str,
) -> Result<Vec<u8>> {
    safetensors::serialize(
        tensors.iter().map(|(name, t)| (name.as_str(), t)),
        Some(metadata.into_iter().collect()),
    )
    .map_err(|e| Error::Format {
        file: file.into(),
        message: format!("could not encode the tensors: {e}"),
    })
}

/// Whether the JSON text `json` holds, outside its strings, a run of digits
/// whose value exceeds `isize::MAX`. Allocates nothing; on text that is not
/// JSON the answer does not matter, as the parser refuses it anyway.
fn has_huge_number(json: &[u8]) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    let mut value: usize = 0;
    for &b in json {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b.is_ascii_digit() {
            value = value
                .saturating_mul(10)
                .saturating_add(usize::from(b - b'0'));
            if value > isize::MAX as usize {
                return true;
            }
            continue;
        } else if b == b'"' {
            in_string = true;
        }
        value = 0;
    }
    false
}

/// A parsed safetensors file, checked against the bounds of the format.
pub(crate) struct File<'a> {
    pub(crate) tensors: SafeTensors<'a>,
    pub(crate) metadata: BTreeMap<String, String>,
}

impl<'a> File<'a> {
    /// Parses `bytes`, which came from `name`.
    pub(crate) fn parse(bytes: &'a [u8], name: &str) -> Result<Self> {
        let format = |message: String| Error::Format {
            file: name.into(),
            message,
        };
        if bytes.len() < 8 {
            return Err(format(format!(
                "not a safetensors file: {} bytes, fewer than the 8 of the header length",
                bytes.len()
            )));
        }
        let mut n = [0; 8];
        n.copy_from_slice(&bytes[..8]);
        let header = u64::from_le_bytes(n);
        if header > MAX_HEADER_BYTES as u64 {
            return Err(format(format!(
                "the header claims {header} bytes, more than the {MAX_HEADER_BYTES} a loader accepts"
            )));
        }
        // safetensors 0.8 adds the end of the data to the header's length
        // unchecked, which panics (with overflow checks) on offsets near
        // `usize::MAX`; no size or offset of a real file exceeds `isize::MAX`
        if let Some(json) = bytes.get(8..8 + header as usize)
            && has_huge_number(json)
        {
            return Err(format(format!(
                "not a valid safetensors file: the header holds a number larger than {}, \
                 more than any size or offset can be",
                isize::MAX
            )));
        }
        let (_, meta) = SafeTensors::read_metadata(bytes)
            .map_err(|e| format(format!("not a valid safetensors file: {e}")))?;
        let metadata = meta
            .metadata()
            .as_ref()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| format(format!("not a valid safetensors file: {e}")))?;
        Ok(Self { tensors, metadata })
    }

    /// The problem with the file's architecture, if it records one that is
    /// not `P`'s.
    pub(crate) fn architecture_problem<P: Parameters>(&self) -> Option<String> {
        let found = self.metadata.get(FINGERPRINT_KEY)?;
        let summary = P::ARCHITECTURE;
        let expected = format!("{:016x}", summary.fingerprint());
        if *found == expected {
            return None;
        }
        let their_name = self.metadata.get(NETWORK_KEY).map_or("?", String::as_str);
        let theirs = self
            .metadata
            .get(ARCHITECTURE_KEY)
            .map_or("(not recorded)", String::as_str);
        Some(format!(
            "architecture: the file was saved from a different network, `{their_name}` \
             (fingerprint {found}): {theirs}; expected `{}` (fingerprint {expected}): {}",
            summary.name,
            summary.architecture()
        ))
    }

    /// Checks that the file holds every tensor of `P` (under `renames`) with
    /// the right dtype, shape and finite values, and nothing else but the
    /// names that `also_allowed` accepts; every problem found is added to
    /// `problems`.
    pub(crate) fn check<P>(
        &self,
        renames: &[(&str, &str)],
        also_allowed: &dyn Fn(&str) -> bool,
        problems: &mut Vec<String>,
    ) where
        P: Parameters,
        P::Scalar: Element,
    {
        let expected: Vec<(String, &TensorInfo)> = P::TENSORS
            .iter()
            .map(|info| (file_name(info.name, renames), info))
            .collect();
        for (name, info) in &expected {
            let Ok(view) = self.tensors.tensor(name) else {
                problems.push(format!(
                    "{name}: missing (expected {} {:?})",
                    P::Scalar::DTYPE,
                    info.shape
                ));
                continue;
            };
            if view.dtype() != P::Scalar::DTYPE || view.shape() != info.shape {
                problems.push(format!(
                    "{name}: expected {} {:?}, found {} {:?}",
                    P::Scalar::DTYPE,
                    info.shape,
                    view.dtype(),
                    view.shape()
                ));
                continue;
            }
            let size = P::Scalar::BYTES;
            if let Some(i) = view
                .data()
                .chunks_exact(size)
                .position(|b| !nalgebra::ComplexField::is_finite(&P::Scalar::read_le(b)))
            {
                problems.push(format!(
                    "{name}: holds a value that is not finite ({:?}) at flat index {i}",
                    P::Scalar::read_le(&view.data()[i * size..])
                ));
            }
        }
        let mut unexpected: Vec<&str> = self
            .tensors
            .iter()
            .map(|(name, _)| name)
            .filter(|name| !expected.iter().any(|(e, _)| e == name) && !also_allowed(name))
            .collect();
        unexpected.sort_unstable();
        for name in unexpected {
            let view = self.tensors.tensor(name).ok();
            let what = view.map_or(String::new(), |v| {
                format!(" ({} {:?})", v.dtype(), v.shape())
            });
            problems.push(format!("{name}{what}: not a tensor of this network"));
        }
    }

    /// Reads the tensors of `P` under `renames` into `net`. Call only after
    /// [`check`](Self::check) found no problem.
    pub(crate) fn read_into<P>(&self, net: &mut P, renames: &[(&str, &str)])
    where
        P: Parameters,
        P::Scalar: Element,
    {
        let size = P::Scalar::BYTES;
        let mut index = 0;
        net.for_each_parameter_mut(|name, values| {
            let info = &P::TENSORS[index];
            index += 1;
            debug_assert_eq!(info.name, name, "TENSORS and the visiting order agree");
            let Ok(view) = self.tensors.tensor(&file_name(name, renames)) else {
                return;
            };
            let data = view.data();
            let rows = info.shape.first().copied().unwrap_or(1).max(1);
            let cols = values.len() / rows;
            for r in 0..rows {
                for c in 0..cols {
                    let at = (r * cols + c) * size;
                    values[r + rows * c] = P::Scalar::read_le(&data[at..at + size]);
                }
            }
        });
    }
}

/// Reads a weights file of a network with `parameters` scalars of `size`
/// bytes each, refusing a file larger than such a network's tensors and the
/// largest accepted header (plus `extra` bytes) need.
pub(crate) fn read_bounded(path: &Path, data_bytes: usize) -> Result<Vec<u8>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let limit = 8 + MAX_HEADER_BYTES + data_bytes;
    let len = file.metadata().map_err(io)?.len();
    if len > limit as u64 {
        return Err(Error::Format {
            file: path.display().to_string(),
            message: format!(
                "the file has {len} bytes, more than the {limit} that this network's tensors \
                 ({data_bytes} bytes) and the largest accepted header need"
            ),
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(limit).min(limit));
    // the file may grow while it is read: never read past the limit
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > limit {
        return Err(Error::Format {
            file: path.display().to_string(),
            message: format!("the file grew past {limit} bytes while it was read"),
        });
    }
    Ok(bytes)
}

/// The bytes that the tensors of `P` take in a file.
pub(crate) fn data_bytes<P>() -> usize
where
    P: Parameters,
    P::Scalar: Element,
{
    P::PARAMETER_COUNT * P::Scalar::BYTES
}

/// Saving and loading any generated network (or its gradients) as a
/// safetensors file; see the [module documentation](self) for the layout.
///
/// Implemented for every [`Parameters`] type whose scalar is `f32` or `f64`.
pub trait Weights: Parameters + Sized
where
    Self::Scalar: Element,
{
    /// The safetensors bytes of the network, with its architecture in the
    /// metadata.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::weights::Weights;
    ///
    /// network! { #[derive(Debug, PartialEq)] struct Net { input: 3, out: dense(2) } }
    ///
    /// let net = Net::from_seed(1);
    /// let bytes = net.to_safetensors();
    /// assert_eq!(Net::from_safetensors(&bytes)?, net);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    fn to_safetensors(&self) -> Vec<u8> {
        self.to_safetensors_renamed(&[])
    }

    /// As [`to_safetensors`](Self::to_safetensors), with layers renamed in
    /// the file: pairs of layer name and the name to write.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::weights::Weights;
    ///
    /// network! { #[derive(Debug, PartialEq)] struct Net { input: 3, out: dense(2) } }
    ///
    /// let net = Net::from_seed(1);
    /// let bytes = net.to_safetensors_renamed(&[("out", "0")]);
    /// assert_eq!(Net::from_safetensors_renamed(&bytes, &[("out", "0")])?, net);
    /// assert!(Net::from_safetensors(&bytes).is_err()); // `out.weight` is missing
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    fn to_safetensors_renamed(&self, renames: &[(&str, &str)]) -> Vec<u8> {
        let tensors = tensors_of(self, renames);
        // names are unique, shapes match data and the header is small, so
        // encoding cannot fail; an empty buffer would fail to load, loudly
        encode(&tensors, metadata_of::<Self>(), "network").unwrap_or_default()
    }

    /// Writes the network to `path`, atomically: the previous file, if any,
    /// stays whole until the new one is complete.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming `path` when the file cannot be written.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::weights::Weights;
    ///
    /// network! { struct Net { input: 3, out: dense(2) } }
    ///
    /// let path = std::env::temp_dir().join("staticnet-doc-save.safetensors");
    /// Net::from_seed(1).save(&path)?;
    /// assert!(std::fs::metadata(&path)?.len() > 0);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.save_renamed(path, &[])
    }

    /// As [`save`](Self::save), with layers renamed in the file (pairs of
    /// layer name and the name to write), for example to PyTorch's
    /// `nn.Sequential` indices.
    ///
    /// # Errors
    ///
    /// As [`save`](Self::save).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::weights::Weights;
    ///
    /// network! { struct Net { input: 3, hidden: dense(4) -> relu, out: dense(2) } }
    ///
    /// let path = std::env::temp_dir().join("staticnet-doc-save-renamed.safetensors");
    /// Net::from_seed(1).save_renamed(&path, &[("hidden", "0"), ("out", "2")])?;
    /// Net::load_renamed(&path, &[("hidden", "0"), ("out", "2")])?;
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    fn save_renamed(&self, path: impl AsRef<Path>, renames: &[(&str, &str)]) -> Result<()> {
        let path = path.as_ref();
        let tensors = tensors_of(self, renames);
        let bytes = encode(&tensors, metadata_of::<Self>(), &path.display().to_string())?;
        write_atomically(path, &bytes)
    }

    /// The network held by safetensors `bytes`.
    ///
    /// # Errors
    ///
    /// [`Error::Format`] when the bytes are not a safetensors file,
    /// [`Error::Mismatch`] listing every missing, misshapen, mistyped,
    /// non-finite or unexpected tensor, and a different architecture.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::weights::Weights;
    ///
    /// network! { struct Small { input: 3, out: dense(2) } }
    /// network! { #[derive(Debug)] struct Wide { input: 4, out: dense(2) } }
    ///
    /// let bytes = Small::from_seed(1).to_safetensors();
    /// let error = Wide::from_safetensors(&bytes).unwrap_err().to_string();
    /// assert!(error.contains("out.weight: expected F32 [2, 4], found F32 [2, 3]"), "{error}");
    /// assert!(error.contains("saved from a different network, `Small`"), "{error}");
    /// ```
    fn from_safetensors(bytes: &[u8]) -> Result<Self> {
        Self::from_safetensors_renamed(bytes, &[])
    }

    /// As [`from_safetensors`](Self::from_safetensors), with the file's
    /// tensors named by `renames`: pairs of layer name and the name in the
    /// file.
    ///
    /// # Errors
    ///
    /// As [`from_safetensors`](Self::from_safetensors).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::weights::Weights;
    ///
    /// network! { #[derive(Debug, PartialEq)] struct Net { input: 3, out: dense(2) } }
    ///
    /// let net = Net::from_seed(2);
    /// let bytes = net.to_safetensors_renamed(&[("out", "fc")]);
    /// assert_eq!(Net::from_safetensors_renamed(&bytes, &[("out", "fc")])?, net);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    fn from_safetensors_renamed(bytes: &[u8], renames: &[(&str, &str)]) -> Result<Self> {
        load_bytes(bytes, "safetensors bytes", renames)
    }

    /// Reads the network saved at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read; otherwise as
    /// [`from_safetensors`](Self::from_safetensors), naming the file. A file
    /// larger than this network's tensors and the largest accepted header
    /// ([`MAX_HEADER_BYTES`]) need is refused before it is read.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::weights::Weights;
    ///
    /// network! { #[derive(Debug, PartialEq)] struct Net { input: 3, out: dense(2) } }
    ///
    /// let path = std::env::temp_dir().join("staticnet-doc-load.safetensors");
    /// let net = Net::from_seed(3);
    /// net.save(&path)?;
    /// assert_eq!(Net::load(&path)?, net);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_renamed(path, &[])
    }

    /// As [`load`](Self::load), with the file's tensors named by `renames`:
    /// pairs of layer name and the name in the file (see the [module
    /// documentation](self) for PyTorch's `nn.Sequential`).
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::weights::Weights;
    ///
    /// network! { #[derive(Debug, PartialEq)] struct Net { input: 3, hidden: dense(4) -> relu, out: dense(2) } }
    ///
    /// let path = std::env::temp_dir().join("staticnet-doc-load-renamed.safetensors");
    /// let net = Net::from_seed(4);
    /// let renames = [("hidden", "0"), ("out", "2")];
    /// net.save_renamed(&path, &renames)?;
    /// assert_eq!(Net::load_renamed(&path, &renames)?, net);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    fn load_renamed(path: impl AsRef<Path>, renames: &[(&str, &str)]) -> Result<Self> {
        let path = path.as_ref();
        let bytes = read_bounded(path, data_bytes::<Self>())?;
        load_bytes(&bytes, &path.display().to_string(), renames)
    }
}

impl<P> Weights for P
where
    P: Parameters,
    P::Scalar: Element,
{
}

/// Parses, checks and reads a network from `bytes` that came from `file`.
fn load_bytes<P>(bytes: &[u8], file: &str, renames: &[(&str, &str)]) -> Result<P>
where
    P: Parameters,
    P::Scalar: Element,
{
    let parsed = File::parse(bytes, file)?;
    let mut problems = Vec::new();
    problems.extend(parsed.architecture_problem::<P>());
    // a checkpoint holds the training state beside the network
    let checkpoint = parsed.metadata.contains_key(crate::checkpoint::EPOCH_KEY);
    let also_allowed = |name: &str| checkpoint && crate::checkpoint::is_training_state(name);
    parsed.check::<P>(renames, &also_allowed, &mut problems);
    if !problems.is_empty() {
        return Err(Error::Mismatch {
            file: file.into(),
            network: P::ARCHITECTURE.name,
            problems,
        });
    }
    let mut net = P::zeroed();
    parsed.read_into(&mut net, renames);
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::SVector;

    crate::network! {
        #[derive(Debug, PartialEq)]
        struct Mlp<f64> { input: 3, hidden: dense(4) -> tanh, out: dense(2) -> softmax }
    }

    crate::network! {
        #[derive(Debug, PartialEq)]
        struct Cnn {
            input: [2, 4, 4],
            conv: conv2d(3, kernel = 3, padding = 1) -> relu,
            pool: max_pool(2),
            flatten,
            out: dense(2),
        }
    }

    crate::network! {
        #[derive(Debug)]
        struct MlpRelu<f64> { input: 3, hidden: dense(4) -> relu, out: dense(2) -> softmax }
    }

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("staticnet-weights-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn weights_are_row_major_out_by_in_as_pytorch_stores_them() {
        let mut net = Mlp::zeros();
        // W[i][j] = 10 i + j, so row-major order reads 0, 1, 2, 10, 11, ...
        for i in 0..4 {
            for j in 0..3 {
                net.hidden.weight[(i, j)] = (10 * i + j) as f64;
            }
        }
        let bytes = net.to_safetensors();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let w = file.tensor("hidden.weight").unwrap();
        assert_eq!(w.shape(), &[4, 3]);
        let values: Vec<f64> = w.data().chunks_exact(8).map(f64::read_le).collect();
        assert_eq!(
            values,
            [0., 1., 2., 10., 11., 12., 20., 21., 22., 30., 31., 32.]
        );
        assert_eq!(file.tensor("out.bias").unwrap().shape(), &[2]);
    }

    #[test]
    fn convolution_weights_are_out_in_kh_kw() {
        let net = Cnn::from_seed(5);
        let bytes = net.to_safetensors();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let w = file.tensor("conv.weight").unwrap();
        assert_eq!(w.shape(), &[3, 2, 3, 3]);
        // element [o, c, i, j] is row o, column (c, i, j) of the matrix
        let values: Vec<f32> = w.data().chunks_exact(4).map(f32::read_le).collect();
        let (o, c, i, j) = (2, 1, 0, 2);
        assert_eq!(
            values[((o * 2 + c) * 3 + i) * 3 + j],
            net.conv.weight[(o, (c * 3 + i) * 3 + j)]
        );
        assert_eq!(file.tensor("out.weight").unwrap().shape(), &[2, 12]);
        assert_eq!(Cnn::from_safetensors(&bytes).unwrap(), net);
    }

    #[test]
    fn round_trip_through_a_file_keeps_every_bit_and_the_outputs() {
        let net = Mlp::from_seed(11);
        let path = temp("mlp.safetensors");
        net.save(&path).unwrap();
        let loaded = Mlp::load(&path).unwrap();
        assert_eq!(loaded, net);
        let x = SVector::from([0.3, -1.2, 2.0]);
        assert_eq!(loaded.forward(&x), net.forward(&x));
    }

    #[test]
    fn metadata_records_the_architecture_and_summary() {
        let bytes = Mlp::from_seed(1).to_safetensors();
        let file = File::parse(&bytes, "t").unwrap();
        assert_eq!(file.metadata["format"], "pt");
        assert_eq!(file.metadata[NETWORK_KEY], "Mlp");
        assert_eq!(
            file.metadata[ARCHITECTURE_KEY],
            "input [3]; hidden: dense [4] tanh; out: dense [2] softmax"
        );
        assert_eq!(
            file.metadata[FINGERPRINT_KEY],
            format!("{:016x}", Mlp::summary().fingerprint())
        );
        assert_eq!(file.metadata[SUMMARY_KEY], Mlp::summary().to_string());
    }

    #[test]
    fn a_different_architecture_with_the_same_tensors_is_refused() {
        let bytes = Mlp::from_seed(1).to_safetensors();
        let error = MlpRelu::from_safetensors(&bytes).unwrap_err();
        let Error::Mismatch {
            network, problems, ..
        } = &error
        else {
            panic!("{error}")
        };
        assert_eq!(*network, "MlpRelu");
        assert_eq!(problems.len(), 1, "{error}");
        assert!(
            problems[0].contains("hidden: dense [4] tanh")
                && problems[0].contains("hidden: dense [4] relu"),
            "{error}"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        // a file with one tensor missing, one misshapen, one of the wrong
        // dtype and one extra, no staticnet metadata (as PyTorch writes)
        let f64s = |n: usize| {
            let mut b = Vec::new();
            (0..n).for_each(|i| (i as f64).write_le(&mut b));
            b
        };
        let tensors = vec![
            (
                "hidden.weight".to_string(),
                Tensor {
                    dtype: Dtype::F64,
                    shape: vec![3, 4],
                    bytes: f64s(12),
                },
            ),
            (
                "hidden.bias".to_string(),
                Tensor {
                    dtype: Dtype::F32,
                    shape: vec![4],
                    bytes: vec![0; 16],
                },
            ),
            (
                "out.weight".to_string(),
                Tensor {
                    dtype: Dtype::F64,
                    shape: vec![2, 4],
                    bytes: f64s(8),
                },
            ),
            (
                "extra".to_string(),
                Tensor {
                    dtype: Dtype::F64,
                    shape: vec![1],
                    bytes: f64s(1),
                },
            ),
        ];
        let bytes = encode(&tensors, vec![], "t").unwrap();
        let error = Mlp::from_safetensors(&bytes).unwrap_err().to_string();
        let expected = "\
safetensors bytes does not fit network `Mlp` (4 problems):
  hidden.weight: expected F64 [4, 3], found F64 [3, 4]
  hidden.bias: expected F64 [4], found F32 [4]
  out.bias: missing (expected F64 [2])
  extra (F64 [1]): not a tensor of this network";
        assert_eq!(error, expected);
    }

    #[test]
    fn non_finite_values_are_refused() {
        let mut net = Mlp::zeros();
        net.out.bias[1] = f64::NAN;
        let error = Mlp::from_safetensors(&net.to_safetensors())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("out.bias: holds a value that is not finite (NaN) at flat index 1"),
            "{error}"
        );
    }

    #[test]
    fn renames_map_layers_to_file_prefixes() {
        let net = Mlp::from_seed(9);
        let renames = [("hidden", "0"), ("out", "2")];
        let bytes = net.to_safetensors_renamed(&renames);
        let names = SafeTensors::deserialize(&bytes).unwrap().names().len();
        assert_eq!(names, 4);
        assert!(
            SafeTensors::deserialize(&bytes)
                .unwrap()
                .tensor("0.weight")
                .is_ok()
        );
        assert_eq!(
            Mlp::from_safetensors_renamed(&bytes, &renames).unwrap(),
            net
        );
        let error = Mlp::from_safetensors(&bytes).unwrap_err().to_string();
        assert!(error.contains("hidden.weight: missing"), "{error}");
        assert!(
            error.contains("0.weight (F64 [4, 3]): not a tensor"),
            "{error}"
        );
    }

    #[test]
    fn a_failed_save_keeps_the_previous_file() {
        let path = temp("kept.safetensors");
        let first = Mlp::from_seed(1);
        first.save(&path).unwrap();
        // a save that cannot even create its temporary file
        let missing = temp("no-such-dir").join("x.safetensors");
        assert!(Mlp::from_seed(2).save(&missing).is_err());
        assert_eq!(Mlp::load(&path).unwrap(), first);
    }

    #[test]
    fn oversized_and_truncated_files_are_refused_with_their_name() {
        let path = temp("big.safetensors");
        let mut bytes = Mlp::from_seed(1).to_safetensors();
        bytes.resize(bytes.len() + MAX_HEADER_BYTES + 100, b' ');
        std::fs::write(&path, &bytes).unwrap();
        let error = Mlp::load(&path).unwrap_err().to_string();
        assert!(
            error.contains("big.safetensors") && error.contains("more than"),
            "{error}"
        );

        let good = Mlp::from_seed(1).to_safetensors();
        for cut in [0, 5, 8, 20, good.len() / 2, good.len() - 1] {
            let error = Mlp::from_safetensors(&good[..cut]).unwrap_err();
            assert!(matches!(error, Error::Format { .. }), "{cut}: {error}");
        }
        let mut huge_header = good.clone();
        huge_header[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        let error = Mlp::from_safetensors(&huge_header).unwrap_err().to_string();
        assert!(error.contains("more than the 1048576"), "{error}");
    }
}
