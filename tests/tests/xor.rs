//! The lecture's XOR network: hand-set weights give exact answers, and plain
//! gradient descent from a seeded initialization learns it.

use nalgebra::{SMatrix, SVector};
use staticnet::prelude::*;

network! {
    /// XOR with the lecture's shape: two ReLU units, a linear output.
    #[derive(Clone, Debug)]
    struct LectureXor<f64> {
        input: 2,
        hidden: dense(2) -> relu,
        output: dense(1),
    }
}

network! {
    /// The README's network: two ReLU units, a sigmoid output.
    #[derive(Clone, Debug)]
    pub struct Xor {
        input: 2,
        hidden: dense(2) -> relu,
        output: dense(1) -> sigmoid,
    }
}

const POINTS: [([f64; 2], f64); 4] = [
    ([0.0, 0.0], 0.0),
    ([1.0, 0.0], 1.0),
    ([0.0, 1.0], 1.0),
    ([1.0, 1.0], 0.0),
];

#[test]
fn hand_set_weights_compute_xor_exactly() {
    let mut net = LectureXor::zeros();
    *net.hidden.weight = SMatrix::<f64, 2, 2>::new(1.0, 1.0, 1.0, 1.0);
    *net.hidden.bias = SVector::<f64, 2>::new(0.0, -1.0);
    *net.output.weight = SMatrix::<f64, 1, 2>::new(1.0, -2.0);
    for (x, y) in POINTS {
        let out = net.forward(&SVector::from(x));
        assert_eq!(out[0], y, "xor{x:?}");
    }
}

network! {
    /// A wider XOR network with tanh units, which learns from any seed.
    struct TanhXor {
        input: 2,
        hidden: dense(4) -> tanh,
        output: dense(1) -> sigmoid,
    }
}

fn samples() -> impl Iterator<Item = (SVector<f32, 2>, SVector<f32, 1>)> {
    POINTS.iter().map(|(x, y)| {
        (
            SVector::<f32, 2>::new(x[0] as f32, x[1] as f32),
            SVector::<f32, 1>::new(*y as f32),
        )
    })
}

fn classifies_xor(forward: impl Fn(&SVector<f32, 2>) -> SVector<f32, 1>) -> bool {
    samples().all(|(x, y)| (forward(&x)[0] > 0.5) == (y[0] > 0.5))
}

#[test]
fn gradient_descent_learns_xor_from_a_seed() {
    // With only two ReLU units most initializations end in a dead unit or a
    // local minimum (a well-known property of this net, not of the code:
    // seeds 8 and 12 of 0..20 converge here); seed 8 is one that does.
    let mut net = Xor::from_seed(8);
    assert!(
        !classifies_xor(|x| net.forward(x)),
        "solved before training"
    );
    let mut sgd = Sgd::new(0.5_f32);
    for _ in 0..2000 {
        let mut grads = Xor::zero_gradients();
        for (x, y) in samples() {
            net.accumulate_gradients(&x, &y, BinaryCrossEntropy, &mut grads);
        }
        sgd.step(&mut net, &grads);
    }
    for (x, y) in samples() {
        let out = net.forward(&x)[0];
        assert_eq!(out > 0.5, y[0] > 0.5, "xor{x:?} = {out}");
    }
}

#[test]
fn gradient_descent_learns_xor_from_every_seed_with_four_tanh_units() {
    for seed in 0..10 {
        let mut net = TanhXor::from_seed(seed);
        let mut sgd = Sgd::new(0.5_f32);
        for _ in 0..2000 {
            let mut grads = TanhXor::zero_gradients();
            for (x, y) in samples() {
                net.accumulate_gradients(&x, &y, BinaryCrossEntropy, &mut grads);
            }
            sgd.step(&mut net, &grads);
        }
        assert!(
            classifies_xor(|x| net.forward(x)),
            "seed {seed} did not learn xor"
        );
    }
}

#[test]
fn same_seed_gives_bit_identical_weights() {
    let (a, b) = (TanhXor::from_seed(77), TanhXor::from_seed(77));
    let bits = |n: &TanhXor| {
        let mut v = Vec::new();
        n.for_each_parameter(|_, p| v.extend(p.iter().map(|x| x.to_bits())));
        v
    };
    assert_eq!(bits(&a), bits(&b));
    assert_ne!(bits(&a), bits(&TanhXor::from_seed(78)));
}
