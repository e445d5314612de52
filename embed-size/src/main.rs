//! The smallest program that runs a trained network: the digits MLP of the
//! `embed` example, its weights baked in at compile time, classifies one
//! image compiled into the program and prints the digit. It depends on
//! staticnet with its default features and `embed` only, so its release
//! binary's size is what running an embedded network costs:
//! `cargo build --release -p staticnet-embed-size`, then
//! `ls -l target/release/staticnet-embed-size`.

use nalgebra::SVector;
use staticnet::network;

network! {
    /// The network of the `embed_train` example, with its weights.
    #[weights = "../examples/trained/digits.safetensors"]
    struct DigitsNet {
        input: 64,
        hidden: dense(32) -> relu,
        output: dense(10) -> softmax,
    }
}

/// An 8×8 image of a 3 from the digits data set, pixels 0..=16, row-major.
const THREE: [u8; 64] = [
    0, 0, 7, 15, 13, 1, 0, 0, //
    0, 8, 13, 6, 15, 4, 0, 0, //
    0, 2, 1, 13, 13, 0, 0, 0, //
    0, 0, 2, 15, 11, 1, 0, 0, //
    0, 0, 0, 1, 12, 12, 1, 0, //
    0, 0, 0, 0, 1, 10, 8, 0, //
    0, 0, 8, 4, 5, 14, 9, 0, //
    0, 0, 7, 13, 13, 9, 0, 0, //
];

fn main() {
    // `black_box`: the compiler must not fold the whole network away for
    // a known input, so that the binary holds what any input needs
    let image = std::hint::black_box(THREE);
    let x = SVector::<f32, 64>::from_fn(|i, _| f32::from(image[i]) / 16.0);
    let y = DigitsNet::trained().forward(&x);
    let (digit, p) = y.argmax();
    println!("{digit} (p = {p:.3})");
    if digit != 3 {
        std::process::exit(1);
    }
}
