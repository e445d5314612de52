//! Breast Cancer Wisconsin (diagnostic; 569 samples, 30 features): one
//! sigmoid output with binary cross-entropy (0 malignant, 1 benign).
//!
//! Run with `cargo run --release --example breast_cancer`.

use staticnet::data::{Standardizer, sets};
use staticnet::optim::Adam;
use staticnet::prelude::*;
use staticnet::train::{Progress, Trainer, evaluate};
use staticnet_examples::{data_file, report_classification};

network! {
    /// 30 features → 16 ReLU units → P(benign).
    struct CancerNet {
        input: 30,
        hidden: dense(16) -> relu,
        output: dense(1) -> sigmoid,
    }
}

fn main() -> Result<(), staticnet::Error> {
    let data = sets::breast_cancer::<f32>(data_file("breast_cancer.csv"))?;
    let (mut train, mut valid, mut test) = data.split3(0.15, 0.2, 11, true)?;
    let scaler = Standardizer::fit(&train.inputs)?;
    for set in [&mut train, &mut valid, &mut test] {
        scaler.transform(&mut set.inputs);
    }
    println!("{}\n", CancerNet::summary());
    let mut net = CancerNet::from_seed(3);
    let history = Trainer::new(Adam::new(1e-3), BinaryCrossEntropy)
        .epochs(200)
        .batch_size(16)
        .seed(3)
        .early_stopping(20)
        .progress(Progress::Lines)
        .fit_with_validation(&mut net, &train, &valid)?;
    println!("kept the weights of epoch {}", history.best_epoch);
    report_classification(
        "breast cancer",
        &evaluate(&net, &test, BinaryCrossEntropy),
        0.93,
    );
    Ok(())
}
