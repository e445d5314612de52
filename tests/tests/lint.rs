//! The code `network!` generates compiles cleanly under strict lints:
//! every rustc warning and clippy's pedantic group are errors here (clippy
//! runs on this file in CI).
#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unused_qualifications,
    clippy::all,
    clippy::pedantic
)]

use nalgebra::SVector;
use staticnet::prelude::*;

/// Sizes from named constants.
pub mod sizes {
    /// Input features.
    pub const FEATURES: usize = 5;
    /// Hidden units.
    pub const HIDDEN: usize = 7;
}

network! {
    /// Every feature of the language in one public declaration.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Everything<f64> {
        input: sizes::FEATURES,
        first: dense(sizes::HIDDEN) -> leaky_relu(0.2),
        dense({ 2 * sizes::HIDDEN }) -> elu(1.5),
        dense({ 2 * sizes::HIDDEN } => 6) -> selu,
        dense(6 => 6) -> gelu,
        dense(4) -> softplus,
        dense(4) -> tanh,
        dense(4) -> sigmoid,
        dense(4),
        dense(4) -> relu,
        last: dense(3) -> softmax,
    }
}

network! {
    /// A private network: no dead-code warnings for the methods it does not use.
    #[derive(Debug)]
    struct Private {
        input: 2,
        hidden: dense(3) -> relu,
        output: dense(1) -> sigmoid,
    }
}

network! {
    /// A large layer on the heap.
    #[derive(Debug)]
    pub(crate) struct Large {
        input: 300,
        hidden: dense(100) -> relu,
        output: dense(2),
    }
}

#[test]
fn strictly_linted_networks_work() {
    let net = Everything::from_seed(1);
    let y = net.forward(&SVector::from([0.1, 0.2, 0.3, 0.4, 0.5]));
    assert!((y.sum() - 1.0).abs() < 1e-12);
    let private = Private::zeros();
    assert!((private.forward(&SVector::from([1.0, 2.0]))[0] - 0.5).abs() < f32::EPSILON);
    assert_eq!(Large::PARAMETERS, 300 * 100 + 100 + 100 * 2 + 2);
}
