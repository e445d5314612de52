//! staticnet: neural networks whose shapes are checked at compile time.
#![deny(missing_docs)]

extern crate self as staticnet;

pub mod activation;
pub mod loss;
pub mod scalar;

pub use scalar::Scalar;
