//! Trains a small MLP on the 8×8 handwritten digits and saves it to
//! `examples/trained/digits.safetensors`, the file that the `embed` example
//! bakes into its program at compile time.
//!
//! Run with `cargo run --release --example embed_train`, then
//! `cargo run --release --example embed` (which recompiles, because the file
//! changed). The file in the repository was written by this example.

use staticnet::prelude::*;
use staticnet::train::evaluate;
use staticnet::weights::Weights;
use staticnet_examples::{data_file, report_classification};

network! {
    /// 64 pixels (scaled to [0, 1]) → 32 ReLU units → 10 classes; `embed`
    /// declares the same network.
    struct DigitsNet {
        input: 64,
        hidden: dense(32) -> relu,
        output: dense(10) -> softmax,
    }
}

/// The pixels run from 0 to 16: a fixed scale that a program with the
/// network baked in can apply without any fitted statistics.
pub const PIXEL_SCALE: f32 = 1.0 / 16.0;

fn main() -> Result<(), staticnet::Error> {
    let mut data = staticnet::data::sets::digits::<f32>(data_file("digits.csv.gz"))?;
    data.inputs *= PIXEL_SCALE;
    // the split of the `digits` example: 70% training, 10% validation, 20%
    // test, stratified by class; `embed` evaluates on the same test set
    let (train, valid, test) = data.split3(0.1, 0.2, 7, true)?;

    let mut net = DigitsNet::from_seed(1);
    let history = Trainer::new(Adam::new(3e-3), CrossEntropy)
        .epochs(200)
        .batch_size(32)
        .seed(1)
        .early_stopping(15)
        .fit_with_validation(&mut net, &train, &valid)?;
    println!(
        "trained {} epochs, kept the weights of epoch {}",
        history.epochs.len(),
        history.best_epoch
    );

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("trained/digits.safetensors");
    net.save(&path)?;
    println!(
        "saved {} ({} parameters, {} bytes)",
        path.display(),
        DigitsNet::PARAMETERS,
        std::fs::metadata(&path).map_or(0, |m| m.len())
    );
    report_classification("embed_train", &evaluate(&net, &test, CrossEntropy), 0.95);
    Ok(())
}
