//! A network whose weights are part of the program: the declaration names
//! the file that `embed_train` saved, the macro reads and checks it while
//! this example compiles, and the program classifies the digits test set
//! with `DigitsNet::trained()`, loading no weights at run time (it reads
//! the test images from `data/`, as any program reads its input).
//!
//! Run with `cargo run --release --example embed`.

use staticnet::prelude::*;
use staticnet::train::evaluate;
use staticnet_examples::{data_file, report_classification};

network! {
    /// The network of `embed_train`, with its weights baked in. A
    /// declaration that differs from the saved network (another size,
    /// another activation) is a compile error here.
    #[weights = "trained/digits.safetensors"]
    struct DigitsNet {
        input: 64,
        hidden: dense(32) -> relu,
        output: dense(10) -> softmax,
    }
}

/// As in `embed_train`: pixels 0..=16 scaled to [0, 1].
const PIXEL_SCALE: f32 = 1.0 / 16.0;

fn main() -> Result<(), staticnet::Error> {
    // a `&'static DigitsNet` in read-only memory: nothing to load or parse
    let net = DigitsNet::trained();
    println!("{}\n", DigitsNet::summary());

    let mut data = staticnet::data::sets::digits::<f32>(data_file("digits.csv.gz"))?;
    data.inputs *= PIXEL_SCALE;
    let (_, _, test) = data.split3(0.1, 0.2, 7, true)?;

    let started = std::time::Instant::now();
    let outputs = net.forward_batch(&test.inputs);
    let elapsed = started.elapsed();
    let labels = test.labels.as_deref().unwrap_or_default();
    let correct = outputs
        .column_iter()
        .zip(labels)
        .filter(|(y, label)| y.argmax().0 == **label)
        .count();
    println!(
        "classified {} test images in {:.1} µs with the baked-in weights: {correct} correct",
        test.len(),
        elapsed.as_secs_f64() * 1e6
    );
    report_classification("embed", &evaluate(net, &test, CrossEntropy), 0.95);
    Ok(())
}
