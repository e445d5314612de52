//! Finite-difference checks of the generated backward passes, in f64, for
//! every activation and every loss, for one sample and for a batch; and the
//! batch passes against the mean of the single-sample ones.

use nalgebra::SVector;
use staticnet::prelude::*;

mod common;

use common::{H, TOLERANCE, check, inputs, targets, tensors};

macro_rules! activation_cases {
    ($($test:ident: $act:ident $(($arg:literal))?),* $(,)?) => {$(
        #[test]
        fn $test() {
            network! {
                #[derive(Clone)]
                struct Net<f64> {
                    input: 3,
                    h1: dense(4) -> $act $(($arg))?,
                    h2: dense(3) -> $act $(($arg))?,
                    out: dense(2),
                }
            }
            // seeds whose first sample leaves some ReLU unit alive in every
            // layer: a dead layer has a zero gradient and would prove nothing
            for seed in [2, 3, 5] {
                let net = Net::from_seed(seed);
                check::<_, _, 3, 2>(stringify!($act), &net, SquaredError);
            }
        }
    )*};
}

activation_cases! {
    backward_through_identity: identity,
    backward_through_relu: relu,
    backward_through_leaky_relu: leaky_relu(0.1),
    backward_through_elu: elu(0.7),
    backward_through_selu: selu,
    backward_through_gelu: gelu,
    backward_through_sigmoid: sigmoid,
    backward_through_tanh: tanh,
    backward_through_softplus: softplus,
    backward_through_softmax: softmax,
}

macro_rules! loss_cases {
    ($($test:ident: $loss:expr, $act:ident),* $(,)?) => {$(
        #[test]
        fn $test() {
            network! {
                #[derive(Clone)]
                struct Net<f64> {
                    input: 4,
                    hidden: dense(5) -> tanh,
                    out: dense(3) -> $act,
                }
            }
            for seed in 1..4 {
                let net = Net::from_seed(seed);
                check::<_, _, 4, 3>(stringify!($test), &net, $loss);
            }
        }
    )*};
}

loss_cases! {
    squared_error_after_identity: SquaredError, identity,
    squared_error_after_tanh: SquaredError, tanh,
    squared_error_after_softmax_uses_the_full_jacobian: SquaredError, softmax,
    absolute_error_after_identity: AbsoluteError, identity,
    absolute_error_after_sigmoid: AbsoluteError, sigmoid,
    huber_after_identity: Huber::new(0.3), identity,
    huber_after_softplus: Huber::default(), softplus,
    binary_cross_entropy_after_sigmoid_fused: BinaryCrossEntropy, sigmoid,
    binary_cross_entropy_after_softmax: BinaryCrossEntropy, softmax,
    cross_entropy_after_softmax_fused: CrossEntropy, softmax,
    cross_entropy_after_sigmoid: CrossEntropy, sigmoid,
}

network! {
    #[derive(Clone)]
    struct Deep<f64> {
        input: 6,
        dense(8) -> relu,
        dense(7) -> tanh,
        dense(6) -> elu,
        dense(5) -> sigmoid,
        dense(4) -> softmax,
    }
}

#[test]
fn batch_passes_agree_with_the_mean_of_single_sample_passes() {
    let net = Deep::from_seed(11);
    let (x, y) = (inputs::<6>(9, 1.1), targets::<4>(9));
    let batch_out = net.forward_batch(&x);
    let (batch_loss, batch_grads) = net.batch_gradients(&x, &y, CrossEntropy);
    let mut sum = Deep::zero_gradients();
    let mut loss_sum = 0.0;
    for j in 0..9 {
        let (xj, yj) = (x.column(j).into_owned(), y.column(j).into_owned());
        let out = net.forward(&xj);
        for i in 0..4 {
            assert!((batch_out[(i, j)] - out[i]).abs() < 1e-14);
        }
        loss_sum += net.accumulate_gradients(&xj, &yj, CrossEntropy, &mut sum);
    }
    assert!((batch_loss - loss_sum / 9.0).abs() < 1e-13);
    for ((name, b), (_, s)) in tensors(&batch_grads).into_iter().zip(tensors(&sum)) {
        for (b, s) in b.iter().zip(&s) {
            assert!((b - s / 9.0).abs() < 1e-14, "{name}: {b} vs {}", s / 9.0);
        }
    }
    // input gradients: the batch's columns are the single ones over the batch size
    let trace = net.forward_batch_trace(&x);
    let (_, delta) = CrossEntropy.delta_batch(&Softmax, &trace.layer5.z, &trace.layer5.a, &y);
    let mut g = Deep::zero_gradients();
    let back = net.backward_batch(&trace, &delta, &mut g);
    for j in 0..9 {
        let t = net.forward_trace(&x.column(j).into_owned());
        let (_, d) = CrossEntropy.delta(
            &Softmax,
            &t.layer5.z,
            &t.layer5.a,
            &y.column(j).into_owned(),
        );
        let single = net.backward(&t, &d, &mut Deep::zero_gradients());
        for i in 0..6 {
            assert!((back[(i, j)] - single[i] / 9.0).abs() < 1e-14);
        }
    }
}

#[test]
fn input_gradient_matches_finite_differences() {
    let net = Deep::from_seed(5);
    let x = inputs::<6>(1, 2.0).column(0).into_owned();
    let y = targets::<4>(1).column(0).into_owned();
    let trace = net.forward_trace(&x);
    let (_, delta) = CrossEntropy.delta(&Softmax, &trace.layer5.z, &trace.layer5.a, &y);
    let back = net.backward(&trace, &delta, &mut Deep::zero_gradients());
    let mut fd = SVector::<f64, 6>::zeros();
    for i in 0..6 {
        let (mut plus, mut minus) = (x, x);
        plus[i] += H;
        minus[i] -= H;
        fd[i] = (CrossEntropy.loss(&net.forward(&plus), &y)
            - CrossEntropy.loss(&net.forward(&minus), &y))
            / (2.0 * H);
    }
    let error = (back - fd).norm() / back.norm().max(fd.norm());
    assert!(
        error < TOLERANCE,
        "input gradient relative error {error:e}: {back} vs {fd}"
    );
}
