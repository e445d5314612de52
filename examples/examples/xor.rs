//! The lecture's XOR network, twice: with the hand-set weights that compute
//! XOR exactly, and trained from a seeded random initialization with plain
//! gradient descent.
//!
//! Run with `cargo run --release --example xor`.

use nalgebra::{SMatrix, SVector};
use staticnet::prelude::*;

network! {
    /// XOR with two ReLU units and a linear output, as in the lecture.
    struct HandSet<f64> {
        input: 2,
        hidden: dense(2) -> relu,
        output: dense(1),
    }
}

network! {
    /// The two-layer ReLU network that solves XOR, with a sigmoid output.
    #[derive(Clone, Debug)]
    pub struct Xor {
        input: 2,
        hidden: dense(2) -> relu,
        output: dense(1) -> sigmoid,
    }
}

const POINTS: [([f32; 2], f32); 4] = [
    ([0.0, 0.0], 0.0),
    ([1.0, 0.0], 1.0),
    ([0.0, 1.0], 1.0),
    ([1.0, 1.0], 0.0),
];

fn main() {
    println!("{}\n", HandSet::summary());
    let mut hand = HandSet::zeros();
    *hand.hidden.weight = SMatrix::<f64, 2, 2>::new(1.0, 1.0, 1.0, 1.0);
    *hand.hidden.bias = SVector::<f64, 2>::new(0.0, -1.0);
    *hand.output.weight = SMatrix::<f64, 1, 2>::new(1.0, -2.0);
    println!("hand-set weights W = [[1, 1], [1, 1]], b = [0, -1], w = [1, -2]:");
    for (x, _) in POINTS {
        let y = hand.forward(&SVector::from([f64::from(x[0]), f64::from(x[1])]));
        println!("  xor({}, {}) = {}", x[0], x[1], y[0]);
    }

    // Two ReLU units are a hard start: most seeds end with a dead unit or in
    // a local minimum. Seed 8 is one that learns.
    let seed = 8;
    let mut net = Xor::from_seed(seed);
    let mut sgd = Sgd::new(0.5_f32);
    let epochs = 2000;
    for epoch in 1..=epochs {
        let mut grads = Xor::zero_gradients();
        let mut loss = 0.0;
        for (x, y) in POINTS {
            loss += net.accumulate_gradients(
                &SVector::from(x),
                &SVector::from([y]),
                BinaryCrossEntropy,
                &mut grads,
            );
        }
        sgd.step(&mut net, &grads);
        if epoch == 1 || epoch % 500 == 0 {
            println!("epoch {epoch:>4}: loss {:.5}", loss / 4.0);
        }
    }
    println!(
        "\ntrained from seed {seed} with full-batch gradient descent, learning rate 0.5, {epochs} epochs:"
    );
    let mut correct = 0;
    for (x, y) in POINTS {
        let out = net.forward(&SVector::from(x))[0];
        let ok = (out > 0.5) == (y > 0.5);
        correct += usize::from(ok);
        println!(
            "  xor({}, {}) = {out:.4} {}",
            x[0],
            x[1],
            if ok { "✓" } else { "✗" }
        );
    }
    println!("{correct}/4 correct");
}
