//! Fisher's iris (150 flowers, 4 measurements, 3 species): softmax with
//! cross-entropy.
//!
//! Run with `cargo run --release --example iris`.

use staticnet::data::{Standardizer, sets};
use staticnet::optim::Adam;
use staticnet::prelude::*;
use staticnet::train::{Progress, Trainer, evaluate};
use staticnet_examples::{data_file, report_classification};

network! {
    /// 4 measurements → 16 tanh units → 3 species.
    struct IrisNet {
        input: 4,
        hidden: dense(16) -> tanh,
        output: dense(3) -> softmax,
    }
}

fn main() -> Result<(), staticnet::Error> {
    let data = sets::iris::<f32>(data_file("iris.csv"))?;
    let (mut train, mut valid, mut test) = data.split3(0.15, 0.2, 3, true)?;
    let scaler = Standardizer::fit(&train.inputs)?;
    for set in [&mut train, &mut valid, &mut test] {
        scaler.transform(&mut set.inputs);
    }
    println!("{}\n", IrisNet::summary());
    let mut net = IrisNet::from_seed(1);
    let history = Trainer::new(Adam::new(1e-2), CrossEntropy)
        .epochs(200)
        .batch_size(16)
        .seed(1)
        .early_stopping(30)
        .progress(Progress::Lines)
        .fit_with_validation(&mut net, &train, &valid)?;
    println!("kept the weights of epoch {}", history.best_epoch);
    report_classification("iris", &evaluate(&net, &test, CrossEntropy), 0.9);
    Ok(())
}
