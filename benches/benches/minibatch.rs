//! Minibatch training throughput of 784-128-10: one step is a batch's mean
//! gradients and an SGD update (for staticnet: zero the gradients,
//! `accumulate_batch_gradients`, `Sgd::step`; for the nalgebra `DMatrix`
//! twin: `gemm` products written straight into the gradients, then the
//! update), in the same run. Each bench cycles through the case's batches.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use staticnet::prelude::*;
use staticnet_benches::{BatchCase, LEARNING_RATE, Net784x128x10};

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("minibatch");
    for size in [32, 128] {
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
    }
    group.finish();
}

criterion_group! {
    name = group;
    config = config();
    targets = benches
}
criterion_main!(group);
