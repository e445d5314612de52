//! Finite-difference gradient checks shared by the gradient and
//! convolution tests.
#![allow(dead_code)]

use nalgebra::{Const, Dyn, OMatrix, SVector};
use staticnet::network::{Network, ParamName, Parameters};
use staticnet::prelude::*;

/// Relative error allowed between backprop and central differences, per
/// tensor: ‖g − fd‖ / max(‖g‖, ‖fd‖).
pub const TOLERANCE: f64 = 1e-6;
pub const H: f64 = 1e-6;

pub fn inputs<const N: usize>(batch: usize, salt: f64) -> OMatrix<f64, Const<N>, Dyn> {
    OMatrix::<f64, Const<N>, Dyn>::from_fn(batch, |i, j| {
        ((i as f64 + 1.0) * 1.7 + (j as f64 + 1.0) * 0.9 + salt).sin() * 1.5
    })
}

/// Targets in (0, 1) whose columns sum to one: valid for every loss.
pub fn targets<const N: usize>(batch: usize) -> OMatrix<f64, Const<N>, Dyn> {
    let mut y =
        OMatrix::<f64, Const<N>, Dyn>::from_fn(batch, |i, j| 1.0 + ((i * 3 + j * 5) % 7) as f64);
    for mut column in y.column_iter_mut() {
        let sum = column.sum();
        column /= sum;
    }
    y
}

pub fn tensors<P: Parameters<Scalar = f64>>(p: &P) -> Vec<(ParamName, Vec<f64>)> {
    let mut out = Vec::new();
    p.for_each_parameter(|name, values| out.push((name, values.to_vec())));
    out
}

pub fn mean_loss<N, L, const I: usize, const O: usize>(
    net: &N,
    x: &OMatrix<f64, Const<I>, Dyn>,
    y: &OMatrix<f64, Const<O>, Dyn>,
    loss: L,
) -> f64
where
    N: Network<I, O, Scalar = f64>,
    L: Loss,
{
    // computed independently of the backward pass: forward, then the loss
    // of each output
    let total: f64 = (0..x.ncols())
        .map(|j| {
            let a: SVector<f64, O> = net.forward(&x.column(j).into_owned());
            loss.loss(&a, &y.column(j).into_owned())
        })
        .sum();
    total / x.ncols() as f64
}

/// Largest per-tensor relative error between `gradients` and central
/// differences of the mean loss.
pub fn worst_error<N, L, const I: usize, const O: usize>(
    net: &N,
    gradients: &N::Gradients,
    x: &OMatrix<f64, Const<I>, Dyn>,
    y: &OMatrix<f64, Const<O>, Dyn>,
    loss: L,
) -> (f64, String)
where
    N: Network<I, O, Scalar = f64> + Clone,
    L: Loss,
{
    let mut worst = (0.0, String::new());
    for (name, analytic) in tensors(gradients) {
        let mut numeric = vec![0.0; analytic.len()];
        for (k, fd) in numeric.iter_mut().enumerate() {
            let shifted = |delta: f64| {
                let mut n = net.clone();
                n.for_each_parameter_mut(|p, values| {
                    if p == name {
                        values[k] += delta;
                    }
                });
                mean_loss(&n, x, y, loss)
            };
            *fd = (shifted(H) - shifted(-H)) / (2.0 * H);
        }
        let diff: f64 = analytic
            .iter()
            .zip(&numeric)
            .map(|(a, n)| (a - n).powi(2))
            .sum::<f64>()
            .sqrt();
        let scale = analytic
            .iter()
            .map(|a| a * a)
            .sum::<f64>()
            .sqrt()
            .max(numeric.iter().map(|n| n * n).sum::<f64>().sqrt());
        assert!(
            scale > 1e-8,
            "{name}: gradient vanishes ({} samples), the check would prove nothing",
            x.ncols()
        );
        let error = diff / scale;
        if error > worst.0 {
            worst = (error, name.to_string());
        }
    }
    worst
}

pub fn check<N, L, const I: usize, const O: usize>(label: &str, net: &N, loss: L)
where
    N: Network<I, O, Scalar = f64> + Clone,
    L: Loss,
{
    let (x, y) = (inputs::<I>(5, 0.3), targets::<O>(5));
    // one sample
    let (x1, y1) = (x.columns(0, 1).into_owned(), y.columns(0, 1).into_owned());
    let mut single = net.zero_gradients();
    let value = net.accumulate_gradients(
        &x1.column(0).into_owned(),
        &y1.column(0).into_owned(),
        loss,
        &mut single,
    );
    let expected = mean_loss(net, &x1, &y1, loss);
    assert!(
        (value - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "{label}: loss {value} vs {expected}"
    );
    let (error, tensor) = worst_error(net, &single, &x1, &y1, loss);
    assert!(
        error < TOLERANCE,
        "{label}, one sample: {tensor} relative error {error:e}"
    );
    // a batch
    let mut batch = net.zero_gradients();
    let value = net.accumulate_batch_gradients(&x, &y, loss, &mut batch);
    let expected = mean_loss(net, &x, &y, loss);
    assert!(
        (value - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "{label}: batch loss {value} vs {expected}"
    );
    let (error, tensor) = worst_error(net, &batch, &x, &y, loss);
    assert!(
        error < TOLERANCE,
        "{label}, batch: {tensor} relative error {error:e}"
    );
}
