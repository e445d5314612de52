//! Convolution and pooling networks: the macro's shape arithmetic (the
//! lecture's worked example), finite-difference checks of the generated
//! backward passes through every spatial layer, and the batch passes
//! against the single-sample ones.

mod common;

use common::{check, inputs, tensors};
use staticnet::prelude::*;

network! {
    /// The lecture's worked example: 10 filters of 5×5 over a 3×32×32 image.
    struct Lecture {
        input: [3, 32, 32],
        conv: conv2d(10, kernel = 5, stride = 1, padding = 2),
    }
}

#[test]
fn lecture_example_shapes_parameters_and_multiply_adds() {
    let summary = Lecture::summary();
    let conv = &summary.layers[0];
    assert_eq!(conv.output, &[10, 32, 32]);
    assert_eq!(conv.parameters, 760);
    assert_eq!(conv.multiply_adds, 768_000);
    assert_eq!(Lecture::INPUT, 3 * 32 * 32);
    assert_eq!(Lecture::OUTPUT, 10 * 32 * 32);
    let text = summary.to_string();
    assert!(
        text.contains("[10, 32, 32]") && text.contains("768000"),
        "{text}"
    );
}

network! {
    /// Every 2-D option: padding, a non-square kernel, unequal strides, both
    /// pools, flatten.
    #[derive(Clone)]
    struct Image<f64> {
        input: [2, 8, 8],
        c1: conv2d(3, kernel = 3, padding = 1) -> tanh,
        p1: max_pool(2),
        c2: conv2d(3 => 4, kernel = (2, 3), stride = (2, 1)) -> elu,
        p2: avg_pool(2),
        flatten,
        out: dense(3) -> softmax,
    }
}

network! {
    /// The 1-D forms: conv1d with a stride, padding `same`, pools, global
    /// average pooling straight into a dense layer.
    #[derive(Clone)]
    struct Sequence<f64> {
        input: [2, 12],
        c1: conv1d(3, kernel = 3, stride = 3) -> relu,
        c2: conv1d(4, kernel = 3, padding = same) -> tanh,
        p: max_pool(2, stride = 1),
        g: global_avg_pool,
        out: dense(2),
    }
}

#[test]
fn shapes_flow_through_every_layer_kind() {
    let s = Image::summary();
    let shapes: Vec<&[usize]> = s.layers.iter().map(|l| l.output).collect();
    assert_eq!(
        shapes,
        [
            &[3, 8, 8][..],
            &[3, 4, 4],
            &[4, 2, 2],
            &[4, 1, 1],
            &[4],
            &[3]
        ]
    );
    assert_eq!(
        Image::PARAMETERS,
        (3 * 2 * 9 + 3) + (4 * 3 * 6 + 4) + (4 * 3 + 3)
    );
    let s = Sequence::summary();
    let shapes: Vec<&[usize]> = s.layers.iter().map(|l| l.output).collect();
    assert_eq!(shapes, [&[3, 4][..], &[4, 4], &[4, 3], &[4], &[2]]);
}

#[test]
fn backward_through_convolutions_and_pools_matches_finite_differences() {
    for seed in 1..4 {
        check::<_, _, 128, 3>("image", &Image::from_seed(seed), CrossEntropy);
        check::<_, _, 24, 2>("sequence", &Sequence::from_seed(seed), SquaredError);
    }
}

#[test]
fn batch_gradients_are_the_mean_of_single_ones() {
    let net = Image::from_seed(7);
    let x = inputs::<128>(6, 0.4);
    let y = common::targets::<3>(6);
    let (_, batch) = net.batch_gradients(&x, &y, CrossEntropy);
    let mut sum = Image::zero_gradients();
    for j in 0..6 {
        net.accumulate_gradients(
            &x.column(j).into_owned(),
            &y.column(j).into_owned(),
            CrossEntropy,
            &mut sum,
        );
        let single = net.forward(&x.column(j).into_owned());
        let batch_out = net.forward_batch(&x);
        for i in 0..3 {
            assert!((single[i] - batch_out[(i, j)]).abs() < 1e-14);
        }
    }
    for ((name, b), (_, s)) in tensors(&batch).into_iter().zip(tensors(&sum)) {
        for (b, s) in b.iter().zip(&s) {
            assert!((b - s / 6.0).abs() < 1e-13, "{name}");
        }
    }
}
