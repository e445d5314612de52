//! Convolution workloads: the lecture's layer (3×32×32 → 10 filters of 5×5,
//! padding 2) forward for one sample against a direct loop over the same
//! weights, and the MNIST CNN of the `cnn_mnist` example (inference of one
//! sample and one minibatch training step at batch 64), in the same run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::{Const, Dyn, OMatrix, SVector};
use staticnet::prelude::*;

network! {
    /// The lecture's worked example: one convolution, nothing else.
    struct Lecture {
        input: [3, 32, 32],
        conv: conv2d(10, kernel = 5, stride = 1, padding = 2),
    }
}

network! {
    /// The `cnn_mnist` example's network.
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

/// The lecture layer by direct loops over output channel, position and
/// kernel tap, reading the same weights (row `o`, column `(c·5 + i)·5 + j`).
fn direct(net: &Lecture, x: &[f32], out: &mut [f32]) {
    let (w, b) = (&*net.conv.weight, &*net.conv.bias);
    for o in 0..10 {
        for oh in 0..32 {
            for ow in 0..32 {
                let mut sum = b[o];
                for c in 0..3 {
                    for i in 0..5 {
                        let h = oh + i;
                        if !(2..34).contains(&h) {
                            continue;
                        }
                        for j in 0..5 {
                            let v = ow + j;
                            if !(2..34).contains(&v) {
                                continue;
                            }
                            sum +=
                                w[(o, (c * 5 + i) * 5 + j)] * x[c * 1024 + (h - 2) * 32 + (v - 2)];
                        }
                    }
                }
                out[o * 1024 + oh * 32 + ow] = sum;
            }
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

fn benches(c: &mut Criterion) {
    let lecture = Lecture::from_seed(1);
    let x = SVector::<f32, 3072>::from_fn(|i, _| ((i * 37) % 101) as f32 / 101.0 - 0.5);
    let mut out = vec![0.0_f32; 10 * 1024];
    direct(&lecture, x.as_slice(), &mut out);
    let ours = lecture.forward(&x);
    for (a, b) in ours.iter().zip(&out) {
        assert!((a - b).abs() < 1e-4, "staticnet {a} vs direct {b}");
    }
    let mut group = c.benchmark_group("conv_forward");
    group.bench_function(BenchmarkId::new("staticnet", "3x32x32-10x5x5"), |b| {
        b.iter(|| black_box(lecture.forward(black_box(&x))));
    });
    group.bench_function(BenchmarkId::new("direct-loops", "3x32x32-10x5x5"), |b| {
        b.iter(|| {
            direct(&lecture, black_box(x.as_slice()), &mut out);
            black_box(&out);
        });
    });
    group.finish();

    let mut cnn = MnistCnn::from_seed(1);
    let image = SVector::<f32, 784>::from_fn(|i, _| ((i * 13) % 29) as f32 / 29.0);
    let mut group = c.benchmark_group("cnn_mnist");
    group.bench_function("inference", |b| {
        b.iter(|| black_box(cnn.forward(black_box(&image))))
    });
    let batch = 64;
    let xb = OMatrix::<f32, Const<784>, Dyn>::from_fn(batch, |i, j| {
        ((i * 7 + j * 11) % 23) as f32 / 23.0
    });
    let yb =
        OMatrix::<f32, Const<10>, Dyn>::from_fn(batch, |i, j| if i == j % 10 { 1.0 } else { 0.0 });
    let mut grads = MnistCnn::zero_gradients();
    let mut sgd = Sgd::new(0.01_f32);
    group.throughput(Throughput::Elements(batch as u64));
    group.bench_function(BenchmarkId::new("training-step", batch), |b| {
        b.iter(|| {
            grads.set_zero();
            let loss = cnn.accumulate_batch_gradients(
                black_box(&xb),
                black_box(&yb),
                CrossEntropy,
                &mut grads,
            );
            sgd.step(&mut cnn, &grads);
            black_box(loss)
        });
    });
    group.finish();
}

criterion_group! {
    name = group;
    config = config();
    targets = benches
}
criterion_main!(group);
