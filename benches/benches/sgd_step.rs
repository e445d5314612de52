//! One SGD step on one sample (zero the gradients, accumulate one sample's,
//! step): staticnet beside the hand-written twin (`hand-written`, the same
//! three phases) and the nalgebra-API twin (`nalgebra`: gradients written
//! with `ger`, so no zeroing, then the update), for each network, in the
//! same run. Each bench cycles through the case's samples.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use staticnet::prelude::*;
use staticnet_benches::{
    Case, LEARNING_RATE, case_2_16_16_1, case_8_32_32_4, case_64_128_128_10, case_784_128_10,
};

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

fn sgd_step<N, L, const IN: usize, const OUT: usize>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    case: &Case<N, L, IN, OUT>,
) where
    N: Network<IN, OUT, Scalar = f32> + Clone,
    L: Loss,
{
    case.check();
    let samples = &case.samples;
    let mut net = case.net.clone();
    let mut grads = net.zero_gradients();
    let mut sgd = Sgd::new(LEARNING_RATE);
    let mut next = 0;
    group.bench_function(BenchmarkId::new("staticnet", case.name), |b| {
        b.iter(|| {
            let (x, y) = &samples[next];
            next = (next + 1) % samples.len();
            grads.set_zero();
            let loss = net.accumulate_gradients(black_box(x), black_box(y), case.loss, &mut grads);
            sgd.step(&mut net, &grads);
            black_box(loss)
        });
    });
    black_box(&net);

    let samples = case.plain_samples();
    let mut plain = case.plain.clone();
    let mut grads = plain.zero_gradients();
    let mut scratch = plain.scratch();
    let mut next = 0;
    group.bench_function(BenchmarkId::new("hand-written", case.name), |b| {
        b.iter(|| {
            let (x, y) = &samples[next];
            next = (next + 1) % samples.len();
            grads.set_zero();
            let loss =
                plain.accumulate_gradients(black_box(x), black_box(y), &mut scratch, &mut grads);
            plain.step(LEARNING_RATE, &grads);
            black_box(loss)
        });
    });
    black_box(&plain);

    let samples = case.nalgebra_samples();
    let mut nalgebra = case.nalgebra.clone();
    let mut grads = nalgebra.zero_gradients();
    let mut next = 0;
    group.bench_function(BenchmarkId::new("nalgebra", case.name), |b| {
        b.iter(|| {
            let (x, y) = &samples[next];
            next = (next + 1) % samples.len();
            let loss = nalgebra.gradients(black_box(x), black_box(y), &mut grads);
            nalgebra.step(LEARNING_RATE, &grads);
            black_box(loss)
        });
    });
    black_box(&nalgebra);
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("sgd_step");
    sgd_step(&mut group, &case_2_16_16_1());
    sgd_step(&mut group, &case_8_32_32_4());
    sgd_step(&mut group, &case_64_128_128_10());
    sgd_step(&mut group, &case_784_128_10());
    group.finish();
}

criterion_group! {
    name = group;
    config = config();
    targets = benches
}
criterion_main!(group);
