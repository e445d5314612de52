//! An MLP on the UCI 8×8 handwritten digits (1,797 images, 10 classes):
//! standardized inputs, Adam, minibatches, early stopping on a validation
//! set, then the test accuracy, the confusion matrix and a training plot.
//!
//! Run with `cargo run --release --example digits`.

use staticnet::data::{Standardizer, sets};
use staticnet::optim::Adam;
use staticnet::prelude::*;
use staticnet::train::{Progress, Trainer, evaluate};
use staticnet_examples::{data_file, output_file, report_classification};

network! {
    /// 64 pixels → 128 ReLU units → 10 classes.
    struct DigitsNet {
        input: 64,
        hidden: dense(128) -> relu,
        output: dense(10) -> softmax,
    }
}

fn main() -> Result<(), staticnet::Error> {
    let data = sets::digits::<f32>(data_file("digits.csv.gz"))?;
    // 70% training, 10% validation, 20% test, stratified by class
    let (mut train, mut valid, mut test) = data.split3(0.1, 0.2, 7, true)?;
    let scaler = Standardizer::fit(&train.inputs)?;
    for set in [&mut train, &mut valid, &mut test] {
        scaler.transform(&mut set.inputs);
    }
    println!("{}\n", DigitsNet::summary());
    println!(
        "{} training, {} validation, {} test samples",
        train.len(),
        valid.len(),
        test.len()
    );

    let mut net = DigitsNet::from_seed(1);
    let started = std::time::Instant::now();
    let history = Trainer::new(Adam::new(1e-3), CrossEntropy)
        .epochs(100)
        .batch_size(32)
        .seed(1)
        .early_stopping(10)
        .progress(Progress::Auto)
        .fit_with_validation(&mut net, &train, &valid)?;
    println!(
        "trained {} epochs in {:.2} s, kept the weights of epoch {}",
        history.epochs.len(),
        started.elapsed().as_secs_f64(),
        history.best_epoch
    );
    let plot = output_file("digits.svg");
    history.plot_svg(&plot)?;
    println!("training plot: {}", plot.display());

    report_classification("digits", &evaluate(&net, &test, CrossEntropy), 0.97);
    Ok(())
}
