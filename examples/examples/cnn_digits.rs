//! A small convolutional network on the UCI 8×8 digits: two 3×3
//! convolutions, 2×2 max pooling, a softmax layer.
//!
//! Run with `cargo run --release --example cnn_digits`.

use staticnet::data::sets;
use staticnet::optim::Adam;
use staticnet::prelude::*;
use staticnet::train::{Progress, Trainer, evaluate};
use staticnet_examples::{data_file, output_file, report_classification};

network! {
    /// 1×8×8 image → 16 then 32 filters of 3×3 → 2×2 max pooling → 10 classes.
    struct DigitsCnn {
        input: [1, 8, 8],
        conv1: conv2d(16, kernel = 3, padding = same) -> relu,
        conv2: conv2d(32, kernel = 3, padding = same) -> relu,
        pool: max_pool(2),
        flatten,
        output: dense(10) -> softmax,
    }
}

fn main() -> Result<(), staticnet::Error> {
    println!("{}\n", DigitsCnn::summary());
    let data = sets::digits::<f32>(data_file("digits.csv.gz"))?;
    // the same split as the MLP example: 70% training, 10% validation, 20% test
    let (mut train, mut valid, mut test) = data.split3(0.1, 0.2, 7, true)?;
    // pixels 0..=16 scaled to [0, 1]: one scale for the whole image keeps
    // what the filters see comparable across positions (standardizing each
    // pixel on its own, as the MLP example does, costs the CNN about 1%)
    for set in [&mut train, &mut valid, &mut test] {
        set.inputs /= 16.0;
    }
    let mut net = DigitsCnn::from_seed(1);
    let started = std::time::Instant::now();
    let history = Trainer::new(Adam::new(1e-3), CrossEntropy)
        .epochs(60)
        .batch_size(32)
        .seed(1)
        .early_stopping(10)
        .train_metrics(false)
        .progress(Progress::Auto)
        .fit_with_validation(&mut net, &train, &valid)?;
    println!(
        "trained {} epochs in {:.1} s, kept the weights of epoch {}",
        history.epochs.len(),
        started.elapsed().as_secs_f64(),
        history.best_epoch
    );
    let plot = output_file("cnn_digits.svg");
    history.plot_svg(&plot)?;
    println!("training plot: {}", plot.display());
    report_classification("cnn digits", &evaluate(&net, &test, CrossEntropy), 0.98);
    Ok(())
}
