//! Single-sample inference: staticnet's `forward` beside the hand-written
//! twin (`hand-written`) and the nalgebra-API twin (`nalgebra`), for each
//! network, in the same run.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use staticnet::prelude::*;
use staticnet_benches::{
    Case, case_2_16_16_1, case_8_32_32_4, case_64_128_128_10, case_784_128_10,
};

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

fn inference<N, L, const IN: usize, const OUT: usize>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    case: &Case<N, L, IN, OUT>,
) where
    N: Network<IN, OUT, Scalar = f32> + Clone,
    L: Loss,
{
    case.check();
    let x = case.samples[0].0;
    let net = &case.net;
    group.bench_function(BenchmarkId::new("staticnet", case.name), |b| {
        b.iter(|| black_box(black_box(net).forward(black_box(&x))));
    });
    let plain = &case.plain;
    let plain_x = x.as_slice().to_vec();
    let mut scratch = plain.scratch();
    group.bench_function(BenchmarkId::new("hand-written", case.name), |b| {
        b.iter(|| {
            let out = black_box(plain).forward(black_box(&plain_x), &mut scratch);
            black_box(out);
        });
    });
    let nalgebra = &case.nalgebra;
    let dynamic_x = nalgebra::DVector::from_column_slice(x.as_slice());
    group.bench_function(BenchmarkId::new("nalgebra", case.name), |b| {
        b.iter(|| black_box(black_box(nalgebra).forward(black_box(&dynamic_x))));
    });
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("inference");
    inference(&mut group, &case_2_16_16_1());
    inference(&mut group, &case_8_32_32_4());
    inference(&mut group, &case_64_128_128_10());
    inference(&mut group, &case_784_128_10());
    group.finish();
}

criterion_group! {
    name = group;
    config = config();
    targets = benches
}
criterion_main!(group);
