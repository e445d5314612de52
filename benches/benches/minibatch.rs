//! Minibatch training throughput of 784-128-10 at batch 32, 128 and 512:
//! one step is a batch's mean gradients and an SGD update (for staticnet:
//! zero the gradients, `accumulate_batch_gradients`, `Sgd::step`; for the
//! nalgebra `DMatrix` twin: `gemm` products written straight into the
//! gradients, then the update), in the same run. Each bench cycles through
//! the case's batches.
//!
//! Function ids: `staticnet` and `nalgebra-gemm` (one thread);
//! `nalgebra-gemm-2-threads` (each half of the batch on its own thread,
//! [`GemmMlp::batch_gradients_2_threads`]); and, once
//! `staticnet::batch::BatchRunner` exists, `staticnet-1-thread` and
//! `staticnet-2-threads` (see [`batch_runner`]).
//!
//! [`GemmMlp::batch_gradients_2_threads`]: staticnet_benches::GemmMlp::batch_gradients_2_threads

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use staticnet::prelude::*;
use staticnet_benches::{BatchCase, LEARNING_RATE, Net784x128x10};

/// The batch sizes.
const SIZES: [usize; 3] = [32, 128, 512];

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

/// staticnet's `BatchRunner` on one and on two threads, as
/// `staticnet-1-thread` and `staticnet-2-threads`, each checked against the
/// single-threaded `accumulate_batch_gradients` first.
fn batch_runner(group: &mut BenchmarkGroup<'_, WallTime>, case: &BatchCase) {
    {
        use staticnet::batch::BatchRunner;
        use staticnet_benches::TOLERANCE;

        for (threads, id) in [(1, "staticnet-1-thread"), (2, "staticnet-2-threads")] {
            let mut runner = BatchRunner::<Net784x128x10>::new(threads);

            // The same loss and parameters as the single-threaded pass over
            // three steps.
            let (mut net, mut reference) = (case.net.clone(), case.net.clone());
            let mut grads = Net784x128x10::zero_gradients();
            let mut reference_grads = Net784x128x10::zero_gradients();
            let (mut sgd, mut reference_sgd) = (Sgd::new(LEARNING_RATE), Sgd::new(LEARNING_RATE));
            for (x, y) in case.batches.iter().take(3) {
                grads.set_zero();
                let ours = runner.accumulate_gradients(&net, x, y, CrossEntropy, &mut grads);
                sgd.step(&mut net, &grads);
                reference_grads.set_zero();
                let theirs =
                    reference.accumulate_batch_gradients(x, y, CrossEntropy, &mut reference_grads);
                reference_sgd.step(&mut reference, &reference_grads);
                assert!(
                    (ours - theirs).abs() <= TOLERANCE,
                    "{id}: loss {ours} vs {theirs}"
                );
                let mut theirs = Vec::new();
                reference.for_each_parameter(|_, values| theirs.extend_from_slice(values));
                let mut ours = Vec::new();
                net.for_each_parameter(|_, values| ours.extend_from_slice(values));
                let worst = ours
                    .iter()
                    .zip(&theirs)
                    .fold(0.0_f32, |worst, (a, b)| worst.max((a - b).abs()));
                assert!(worst <= TOLERANCE, "{id}: parameters differ by {worst}");
            }

            let mut net = case.net.clone();
            let mut sgd = Sgd::new(LEARNING_RATE);
            let mut next = 0;
            group.bench_function(BenchmarkId::new(id, case.size), |b| {
                b.iter(|| {
                    let (x, y) = &case.batches[next];
                    next = (next + 1) % case.batches.len();
                    grads.set_zero();
                    let loss = runner.accumulate_gradients(
                        &net,
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
        }
    }
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("minibatch");
    for size in SIZES {
        let case = BatchCase::new(size);
        case.check();
        group.throughput(Throughput::Elements(size as u64));

        let mut net = case.net.clone();
        let mut grads = Net784x128x10::zero_gradients();
        let mut sgd = Sgd::new(LEARNING_RATE);
        let mut next = 0;
        group.bench_function(BenchmarkId::new("staticnet", size), |b| {
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

        batch_runner(&mut group, &case);

        let mut gemm = case.gemm.clone();
        let mut grads = gemm.zero_gradients();
        let mut next = 0;
        group.bench_function(BenchmarkId::new("nalgebra-gemm", size), |b| {
            b.iter(|| {
                let (x, y) = &case.dynamic[next];
                next = (next + 1) % case.dynamic.len();
                let loss = gemm.batch_gradients(black_box(x), black_box(y), &mut grads);
                gemm.step(LEARNING_RATE, &grads);
                black_box(loss)
            });
        });
        black_box(&gemm);

        let mut gemm = case.gemm.clone();
        let mut grads = gemm.zero_gradients();
        let mut other = gemm.zero_gradients();
        let mut next = 0;
        group.bench_function(BenchmarkId::new("nalgebra-gemm-2-threads", size), |b| {
            b.iter(|| {
                let (x, y) = &case.dynamic[next];
                next = (next + 1) % case.dynamic.len();
                let loss = gemm.batch_gradients_2_threads(
                    black_box(x),
                    black_box(y),
                    &mut grads,
                    &mut other,
                );
                gemm.step(LEARNING_RATE, &grads);
                black_box(loss)
            });
        });
        black_box(&gemm);
    }
    group.finish();
}

criterion_group! {
    name = group;
    config = config();
    targets = benches
}
criterion_main!(group);
