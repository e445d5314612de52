//! Convolution workloads, each beside its baselines in the same run:
//!
//! - `conv_forward`: the lecture's layer (3×32×32 → 10 filters of 5×5,
//!   padding 2), one sample: `staticnet`, `hand-written` (a direct
//!   convolution over a padded copy, [`PlainConv`]) and `nalgebra` (im2col
//!   into a `DMatrix` and one `gemm`);
//! - `cnn_mnist`: the `cnn_mnist` example's network. `inference`: one
//!   sample through `staticnet`, `hand-written` ([`PlainCnn`]) and
//!   `nalgebra` (the batch code of [`GemmCnn`] on a batch of one);
//!   `training-step`: one SGD step on a batch of 64, `staticnet` and
//!   `nalgebra-gemm` ([`GemmCnn`]), cycling through the case's batches.
//!
//! [`PlainConv`]: staticnet_benches::cnn::PlainConv
//! [`PlainCnn`]: staticnet_benches::cnn::PlainCnn
//! [`GemmCnn`]: staticnet_benches::cnn::GemmCnn

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::DMatrix;
use staticnet::prelude::*;
use staticnet_benches::LEARNING_RATE;
use staticnet_benches::cnn::{CnnCase, LectureCase, MnistCnn};

/// The batch of the training step.
const BATCH: usize = 64;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

fn lecture(c: &mut Criterion) {
    let case = LectureCase::new();
    case.check();
    let name = "3x32x32-10x5x5";
    let mut group = c.benchmark_group("conv_forward");
    let (net, x) = (&case.net, &case.x);
    group.bench_function(BenchmarkId::new("staticnet", name), |b| {
        b.iter(|| black_box(black_box(net).forward(black_box(x))));
    });
    let plain = &case.plain;
    let mut scratch = plain.scratch();
    let mut out = vec![0.0_f32; 10 * 1024];
    group.bench_function(BenchmarkId::new("hand-written", name), |b| {
        b.iter(|| {
            black_box(plain).forward(black_box(x.as_slice()), &mut scratch, &mut out);
            black_box(&out);
        });
    });
    group.bench_function(BenchmarkId::new("nalgebra", name), |b| {
        b.iter(|| black_box(black_box(&case).nalgebra_forward()));
    });
    group.finish();
}

fn cnn(c: &mut Criterion) {
    let case = CnnCase::new(BATCH);
    case.check();
    let mut group = c.benchmark_group("cnn_mnist");

    let image = case.images[0];
    let net = &case.net;
    group.bench_function(BenchmarkId::new("staticnet", "inference"), |b| {
        b.iter(|| black_box(black_box(net).forward(black_box(&image))));
    });
    let plain = &case.plain;
    let mut scratch = plain.scratch();
    group.bench_function(BenchmarkId::new("hand-written", "inference"), |b| {
        b.iter(|| {
            let out = black_box(plain).forward(black_box(image.as_slice()), &mut scratch);
            black_box(out);
        });
    });
    let gemm = &case.gemm;
    let dynamic_image = DMatrix::from_column_slice(784, 1, image.as_slice());
    group.bench_function(BenchmarkId::new("nalgebra", "inference"), |b| {
        b.iter(|| black_box(black_box(gemm).forward(black_box(&dynamic_image))));
    });

    group.throughput(Throughput::Elements(BATCH as u64));
    let parameter = format!("training-step-{BATCH}");
    let mut net = case.net.clone();
    let mut grads = MnistCnn::zero_gradients();
    let mut sgd = Sgd::new(LEARNING_RATE);
    let mut next = 0;
    group.bench_function(BenchmarkId::new("staticnet", &parameter), |b| {
        b.iter(|| {
            let (x, y) = &case.batches[next];
            next = (next + 1) % case.batches.len();
            grads.set_zero();
            let loss = net.accumulate_batch_gradients(
                black_box(x),
                black_box(y),
                CrossEntropy,
                &mut grads,
            );
            sgd.step(&mut net, &grads);
            black_box(loss)
        });
    });
    black_box(&net);

    let mut gemm = case.gemm.clone();
    let mut grads = gemm.zero_gradients();
    let mut next = 0;
    group.bench_function(BenchmarkId::new("nalgebra-gemm", &parameter), |b| {
        b.iter(|| {
            let (x, y) = &case.dynamic[next];
            next = (next + 1) % case.dynamic.len();
            let loss = gemm.batch_gradients(black_box(x), black_box(y), &mut grads);
            gemm.step(LEARNING_RATE, &grads);
            black_box(loss)
        });
    });
    black_box(&gemm);
    group.finish();
}

criterion_group! {
    name = group;
    config = config();
    targets = lecture, cnn
}
criterion_main!(group);
