//! The fast `f32` activation kernels of `staticnet::fastmath` (in place over
//! 1024 elements) against the same loop over the standard library's
//! functions (`f32::exp`, `f32::tanh`, and the sigmoid and tanh-GELU
//! written with them), in the same run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use staticnet::fastmath::{exp_f32_slice, gelu_tanh_f32_slice, sigmoid_f32_slice, tanh_f32_slice};

const N: usize = 1024;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

fn std_sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn std_gelu(x: f32) -> f32 {
    x * std_sigmoid(1.595_769 * (x + 0.044_715 * x * x * x))
}

fn benches(c: &mut Criterion) {
    // inputs over [-8, 8], where every branch of the kernels is taken
    let xs: Vec<f32> = (0..N).map(|i| (i as f32 / N as f32) * 16.0 - 8.0).collect();
    let mut buf = xs.clone();
    type Kernel = (&'static str, fn(&mut [f32]), fn(f32) -> f32);
    let kernels: [Kernel; 4] = [
        ("exp", exp_f32_slice, f32::exp),
        ("tanh", tanh_f32_slice, f32::tanh),
        ("sigmoid", sigmoid_f32_slice, std_sigmoid),
        ("gelu", gelu_tanh_f32_slice, std_gelu),
    ];
    for (name, fast, std_fn) in kernels {
        let mut group = c.benchmark_group(format!("activation_{name}"));
        group.throughput(Throughput::Elements(N as u64));
        group.bench_function(BenchmarkId::new("fastmath", N), |b| {
            b.iter(|| {
                buf.copy_from_slice(&xs);
                fast(black_box(&mut buf));
                black_box(&buf);
            });
        });
        group.bench_function(BenchmarkId::new("std", N), |b| {
            b.iter(|| {
                buf.copy_from_slice(&xs);
                for x in black_box(&mut buf[..]) {
                    *x = std_fn(*x);
                }
                black_box(&buf);
            });
        });
        group.finish();
    }
}

criterion_group! {
    name = group;
    config = config();
    targets = benches
}
criterion_main!(group);
