//! staticnet: neural networks whose shapes are checked at compile time.
//!
//! Declare a network as a list of layers with [`network!`]; the macro checks
//! every shape while the crate compiles (so `cargo check` and the editor show
//! a wrong size at the layer that is wrong) and generates a plain struct of
//! statically sized nalgebra matrices with forward and backward passes for
//! exactly that shape. This crate supplies the math: [layers], [activations],
//! [losses], [initializers] and [optimizers].
//!
//! [activations]: activation
//! [losses]: loss
//! [initializers]: init
//! [optimizers]: optim
//!
//! ```
//! use staticnet::prelude::*;
//! use nalgebra::SVector;
//!
//! network! {
//!     /// The two-layer ReLU network that solves XOR.
//!     #[derive(Clone, Debug)]
//!     pub struct Xor {
//!         input: 2,
//!         hidden: dense(2) -> relu,
//!         output: dense(1) -> sigmoid,
//!     }
//! }
//!
//! let net = Xor::from_seed(42);
//! let y: SVector<f32, 1> = net.forward(&SVector::from([1.0, 0.0]));
//! assert!(y[0] > 0.0 && y[0] < 1.0);
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | yes | training: optimizers, schedules, the trainer, metrics, data sets, [`Error`]; implies `alloc` |
//! | `alloc` | with `std` | batches (one sample per column, `Dyn` matrices), [`Heap`](layers::Heap) storage for large layers, orthogonal initialization, matrixmultiply's kernels for the batch passes |
//! | `data`, `progress`, `plot`, `safetensors` | no | the training extras (CSV and IDX files, a progress bar, SVG plots, weight files); each implies `std` |
//! | `training` | no | all four extras |
//! | `libm` | no | the math of `f32` and `f64` from the libm crate, for builds without std on a target with an operating system (on by itself on targets without one) |
//! | `embed` | no | `#[weights = "file.safetensors"]` on a declaration (the macro reads the file) |
//!
//! ## Without std
//!
//! With `default-features = false` the crate is `#![no_std]` and needs no
//! allocator: a small network is a plain value, for firmware and other code
//! without a heap. Everything for one sample works: declaring networks with
//! [`network!`], `zeros`, `from_seed` and `from_rng` (ChaCha; the default,
//! uniform initializers give the same weights as with std), `forward`,
//! `forward_trace`, `backward`, `gradients` and `accumulate_gradients` (so a
//! hand-written update can train), the [`Parameters`], [`Trainable`] and
//! [`Network`] traits (but `Network`'s batch methods), every activation and
//! loss, the initializers (but orthogonal), dense, convolution and pooling
//! layers, and [`Summary`] with its printed table. The math of `f32` and
//! `f64` (`exp`, `tanh`, `sqrt`, ...) then comes from the
//! [libm](https://crates.io/crates/libm) crate, through nalgebra's `libm`
//! feature; with std it is std's, so results can differ in the last bits
//! between the two builds. On targets without an operating system
//! (`target_os = "none"`, `wasm32-unknown-unknown`: anything neither unix
//! nor windows) libm is used by itself; a build without std for a unix or
//! windows target names the feature `libm`, or stops with a compile error
//! that asks for it. It is not simply always on because compiling it added
//! about 5 s of CPU time (2 to 5 s of wall time on 2 cores) to every user's
//! cold build, std users included.
//!
//! - Needs `alloc`: every batch method (`forward_batch`,
//!   `forward_batch_trace`, `backward_batch`, `batch_gradients`,
//!   `accumulate_batch_gradients`, the `…BatchTrace` struct,
//!   [`Activation::apply_batch`](activation::Activation::apply_batch),
//!   [`Loss::delta_batch`](loss::Loss::delta_batch)), [`Heap`](layers::Heap)
//!   storage and [`Init::Orthogonal`](init::Init::Orthogonal) (which panics
//!   without it). Without it, convolutions loop over their kernel taps
//!   directly instead of building a patch matrix.
//! - Needs `std`: everything that trains or reads files (the modules
//!   `optim`, `schedule`, `train`, `metrics`, `data`, `weights` and the
//!   error type).
//! - The limit: without `alloc` every layer lives inline, in the network's
//!   struct, so a layer may have at most
//!   [`HEAP_THRESHOLD`](layers::HEAP_THRESHOLD) (16384) parameters. A larger
//!   layer is a compile error at its size that names the layer and the
//!   feature. Where a large network lives (stack, `static`) is the caller's
//!   choice.
//!
//! ```toml
//! [dependencies]
//! # firmware (a target without an operating system)
//! staticnet = { version = "0.1", default-features = false }
//! # no_std on a target with one (x86_64-unknown-linux-gnu, ...)
//! staticnet = { version = "0.1", default-features = false, features = ["libm"] }
//! ```
//!
//! The workspace's `nostd` crate is such a user: `#![no_std]`, with its own
//! panic handler, built as a static library with no allocator, which fails
//! to build if std or alloc is anywhere in its dependency graph.
//!
//! [`Parameters`]: network::Parameters
//! [`Trainable`]: network::Trainable
//! [`Network`]: network::Network
//! [`Summary`]: summary::Summary
#![deny(missing_docs)]
// the unit tests' harness needs std whatever the features
#![cfg_attr(not(any(feature = "std", test)), no_std)]

#[cfg(all(not(feature = "std"), not(feature = "libm"), any(unix, windows)))]
compile_error!(
    "staticnet without its `std` feature needs `libm` for the math of f32 and f64 on this \
     target: staticnet = { version = \"0.1\", default-features = false, features = [\"libm\"] } \
     (on targets without an operating system it is on by itself)"
);

#[cfg(feature = "alloc")]
extern crate alloc;
extern crate self as staticnet;

pub mod activation;
mod baked;
#[cfg(feature = "alloc")]
pub mod batch;
#[cfg(feature = "safetensors")]
mod checkpoint;
#[cfg(feature = "std")]
pub mod data;
#[cfg(feature = "std")]
pub mod error;
pub mod fastmath;
pub mod init;
#[cfg(feature = "std")]
mod io;
#[cfg(feature = "alloc")]
mod kernels;
pub mod layers;
pub mod loss;
#[cfg(feature = "std")]
pub mod metrics;
pub mod network;
#[cfg(feature = "std")]
pub mod optim;
#[cfg(feature = "plot")]
mod plot;
pub mod scalar;
#[cfg(feature = "std")]
pub mod schedule;
pub mod simd;
pub mod summary;
#[cfg(feature = "std")]
pub mod train;
#[cfg(feature = "safetensors")]
pub mod weights;

#[cfg(feature = "std")]
pub use error::{Error, Result};
pub use scalar::Scalar;
pub use staticnet_macros::network;

/// The names most programs need: the macro, the network traits, every
/// activation, loss and optimizer.
///
/// ```
/// use staticnet::prelude::*;
///
/// let relu = Relu;
/// let sgd = Sgd::new(0.1_f32);
/// # let _ = (relu, sgd);
/// ```
pub mod prelude {
    pub use crate::Scalar;
    pub use crate::activation::{
        Activation, Elu, Gelu, Identity, LeakyRelu, Relu, Selu, Sigmoid, Softmax, Softplus, Tanh,
    };
    pub use crate::init::{Init, seeded_rng};
    pub use crate::loss::{
        AbsoluteError, BinaryCrossEntropy, CrossEntropy, Huber, Loss, SquaredError,
    };
    pub use crate::network;
    pub use crate::network::{Network, Parameters, Trainable};
    #[cfg(feature = "std")]
    pub use crate::optim::{
        Adagrad, Adam, AdamW, Momentum, Nesterov, Optimizer, RmsProp, Sgd, clip_by_global_norm,
        clip_by_value,
    };
    #[cfg(feature = "std")]
    pub use crate::schedule::Schedule;
    pub use crate::summary::Summary;
    #[cfg(feature = "std")]
    pub use crate::train::{Batching, Clip, Progress, Trainer};
}

/// What code generated by `network!` uses; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::activation::Activation;
    pub use crate::baked::{decode_f32_matrix, decode_f64_matrix};
    #[cfg(feature = "alloc")]
    pub use crate::batch::{BatchNetwork, LayerBuffers};
    pub use crate::init::{Init, seeded_rng};
    #[cfg(feature = "alloc")]
    pub use crate::layers::Heap;
    /// Without `alloc`, the layers that the macro puts on the heap are kept
    /// inline, and an assertion beside each of them (on [`HEAP`]) fails with
    /// a message that names the feature: one error, not one per use.
    #[cfg(not(feature = "alloc"))]
    pub use crate::layers::Inline as Heap;
    #[cfg(feature = "alloc")]
    pub use crate::layers::Scratch;
    pub use crate::layers::{
        AvgPool2d, Choose, Conv2d, Dense, Geometry2d, Inline, MaxPool2d, Select,
    };
    /// `N`, for sizes that the macro has as const arguments.
    #[must_use]
    pub const fn rows<const N: usize>() -> usize {
        N
    }
    /// `1 / n`, the weight of each sample in a batch's mean.
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // batch sizes stay far below 2^52
    pub fn mean_scale<T: crate::Scalar>(n: usize) -> T {
        T::one() / nalgebra::convert::<f64, T>(n as f64)
    }
    /// Whether layers can be kept on the heap: the `alloc` feature.
    pub const HEAP: bool = cfg!(feature = "alloc");
    pub use crate::loss::Loss;
    #[cfg(feature = "alloc")]
    pub use crate::network::BatchLayerTrace;
    pub use crate::network::{LayerTrace, Network, ParamName, Parameters, TensorInfo, Trainable};
    pub use crate::summary::{LayerSummary, Summary};
    pub use core::mem::size_of;
    pub use nalgebra::{Const, Dyn, OMatrix, SVector, zero};
    pub use rand::Rng;
}

/// Expands to its input with the `alloc` feature and to nothing without it.
/// Code generated by `network!` wraps what needs a heap (batches, their
/// traces) in it: the macro cannot see the runtime's features, the runtime
/// can. Not part of the public API.
#[cfg(feature = "alloc")]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_alloc {
    ($($code:tt)*) => { $($code)* };
}

/// Expands to its input with the `alloc` feature and to nothing without it.
#[cfg(not(feature = "alloc"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_alloc {
    ($($code:tt)*) => {};
}

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
