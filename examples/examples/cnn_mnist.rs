//! A convolutional network on MNIST: two 3×3 convolutions, each followed by
//! 2×2 max pooling, then a softmax layer.
//!
//! Run with `cargo run --release --example cnn_mnist -- DIR`, where DIR holds
//! the four MNIST IDX files (plain or `.gz`), as for the `mnist` example.

use staticnet::optim::Adam;
use staticnet::prelude::*;
use staticnet::schedule::CosineWithWarmup;
use staticnet::train::{Progress, Trainer, evaluate};
use staticnet_examples::{mnist_dir_or_exit, output_file, report_classification};

network! {
    /// 1×28×28 → 8 filters → pool → 16 filters → pool → 10 digits.
    struct MnistCnn {
        input: [1, 28, 28],
        conv1: conv2d(8, kernel = 3, padding = same) -> relu,
        pool1: max_pool(2),
        conv2: conv2d(16, kernel = 3, padding = same) -> relu,
        pool2: max_pool(2),
        flatten,
        output: dense(10) -> softmax,
    }
}

fn main() {
    let dir = mnist_dir_or_exit("cnn_mnist");
    if let Err(error) = run(&dir) {
        eprintln!("cnn_mnist: {error}");
        std::process::exit(1);
    }
}

fn run(dir: &str) -> Result<(), staticnet::Error> {
    println!("{}\n", MnistCnn::summary());
    let (train, test) = staticnet::data::mnist::<f32>(dir)?;
    let (train, valid) = train.stratified_split(55_000.0 / 60_000.0, 1)?;
    let mut net = MnistCnn::from_seed(1);
    let epochs = 6;
    let started = std::time::Instant::now();
    let history = Trainer::new(Adam::new(2e-3), CrossEntropy)
        .epochs(epochs)
        .batch_size(64)
        .seed(1)
        .schedule(CosineWithWarmup::new(2e-3, 1e-5, 1, epochs))
        .early_stopping(epochs)
        .train_metrics(false)
        .progress(Progress::Auto)
        .fit_with_validation(&mut net, &train, &valid)?;
    println!(
        "trained {} epochs in {:.1} s, kept the weights of epoch {}",
        history.epochs.len(),
        started.elapsed().as_secs_f64(),
        history.best_epoch
    );
    let plot = output_file("cnn_mnist.svg");
    history.plot_svg(&plot)?;
    println!("training plot: {}", plot.display());
    report_classification("cnn mnist", &evaluate(&net, &test, CrossEntropy), 0.985);
    Ok(())
}
