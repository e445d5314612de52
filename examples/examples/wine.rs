//! UCI wine recognition (178 wines, 13 chemical measurements, 3 cultivars):
//! softmax with cross-entropy.
//!
//! Run with `cargo run --release --example wine`.

use staticnet::data::{Standardizer, sets};
use staticnet::optim::Adam;
use staticnet::prelude::*;
use staticnet::train::{Progress, Trainer, evaluate};
use staticnet_examples::{data_file, report_classification};

network! {
    /// 13 measurements → 32 ReLU units → 3 cultivars.
    struct WineNet {
        input: 13,
        hidden: dense(32) -> relu,
        output: dense(3) -> softmax,
    }
}

fn main() -> Result<(), staticnet::Error> {
    let data = sets::wine::<f32>(data_file("wine_data.csv"))?;
    let (mut train, mut valid, mut test) = data.split3(0.15, 0.2, 5, true)?;
    let scaler = Standardizer::fit(&train.inputs)?;
    for set in [&mut train, &mut valid, &mut test] {
        scaler.transform(&mut set.inputs);
    }
    println!("{}\n", WineNet::summary());
    let mut net = WineNet::from_seed(2);
    let history = Trainer::new(Adam::new(1e-2), CrossEntropy)
        .epochs(200)
        .batch_size(16)
        .seed(2)
        .early_stopping(20)
        .progress(Progress::Lines)
        .fit_with_validation(&mut net, &train, &valid)?;
    println!("kept the weights of epoch {}", history.best_epoch);
    report_classification("wine", &evaluate(&net, &test, CrossEntropy), 0.9);
    Ok(())
}
