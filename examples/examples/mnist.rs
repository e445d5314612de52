//! A 784-128-10 MLP on MNIST (60,000 training and 10,000 test images).
//!
//! Run with `cargo run --release --example mnist -- DIR`, where DIR holds
//! the four IDX files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, plain or `.gz`).

use staticnet::optim::Adam;
use staticnet::prelude::*;
use staticnet::schedule::CosineWithWarmup;
use staticnet::train::{Progress, Trainer, evaluate};
use staticnet_examples::{mnist_dir_or_exit, output_file, report_classification};

network! {
    /// 28×28 pixels → 128 ReLU units → 10 digits.
    struct MnistNet {
        input: 784,
        hidden: dense(128) -> relu,
        output: dense(10) -> softmax,
    }
}

fn main() {
    let dir = mnist_dir_or_exit("mnist");
    if let Err(error) = run(&dir) {
        eprintln!("mnist: {error}");
        std::process::exit(1);
    }
}

fn run(dir: &str) -> Result<(), staticnet::Error> {
    let (train, test) = staticnet::data::mnist::<f32>(dir)?;
    println!("{}\n", MnistNet::summary());
    let (train, valid) = train.stratified_split(55_000.0 / 60_000.0, 1)?;
    let mut net = MnistNet::from_seed(1);
    let started = std::time::Instant::now();
    // Adam with a cosine schedule: one warm-up epoch, then from 2e-3 down
    // to 1e-5 over 15 epochs; the weights of the best validation epoch are kept
    let epochs = 15;
    let history = Trainer::new(Adam::new(2e-3), CrossEntropy)
        .epochs(epochs)
        .batch_size(128)
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
    let plot = output_file("mnist.svg");
    history.plot_svg(&plot)?;
    println!("training plot: {}", plot.display());
    report_classification("mnist", &evaluate(&net, &test, CrossEntropy), 0.975);
    Ok(())
}
