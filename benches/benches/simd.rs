//! The dense-layer kernels of `staticnet::simd` for `f32` against nalgebra's
//! `gemv`, `gemv_tr` and `ger` on statically sized matrices (what the dense
//! layer calls today), in the same run: for each shape nalgebra, the
//! baseline body forced (compiled for the build's target) and the
//! dispatched function (AVX2 when the CPU has it). Also the fast tanh over
//! 1024 floats, `fastmath`'s slice loop against the dispatched one.
//!
//! Shapes are `out × in` of the weight matrix: `gemv_t_784x128` is the
//! back-propagation through the 128 × 784 layer (784 dot products of
//! length 128). Run once more with `RUSTFLAGS="-C target-cpu=native"` (in
//! another target directory) to see how close the dispatch comes to a
//! native build.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::{SMatrix, SVector};
use staticnet::fastmath::tanh_f32_slice;
use staticnet::simd::{self, baseline};

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

/// Deterministic values in `[-1, 1)`.
fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9) | 1;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1 << 23) as f32 - 1.0
        })
        .collect()
}

/// `z = b + W a` (the dense layer's forward pass) for an `OUT × IN` layer.
fn gemv<const OUT: usize, const IN: usize>(c: &mut Criterion) {
    let w = values(OUT * IN, 1);
    let a = values(IN, 2);
    let b = values(OUT, 3);
    let name = format!("gemv_{OUT}x{IN}");
    let mut group = c.benchmark_group(&name);
    group.throughput(Throughput::Elements((OUT * IN) as u64));

    let wm: Box<SMatrix<f32, OUT, IN>> = Box::new(SMatrix::from_column_slice(&w));
    let av = SVector::<f32, IN>::from_column_slice(&a);
    let bv = SVector::<f32, OUT>::from_column_slice(&b);
    group.bench_function(BenchmarkId::new("nalgebra", &name), |bench| {
        bench.iter(|| {
            let mut z = bv;
            z.gemv(1.0, black_box(&*wm), black_box(&av), 1.0);
            black_box(z)
        });
    });
    let mut z = vec![0.0_f32; OUT];
    group.bench_function(BenchmarkId::new("baseline", &name), |bench| {
        bench.iter(|| {
            z.copy_from_slice(&b);
            baseline::gemv_f32(black_box(&w), black_box(&a), &mut z);
            black_box(&z);
        });
    });
    group.bench_function(BenchmarkId::new("dispatched", &name), |bench| {
        bench.iter(|| {
            z.copy_from_slice(&b);
            simd::gemv_f32(black_box(&w), black_box(&a), &mut z);
            black_box(&z);
        });
    });
    group.finish();
}

/// `back = Wᵀ δ` (the dense layer's back-propagation) through an
/// `OUT × IN` layer, reported as `IN × OUT`.
fn gemv_t<const OUT: usize, const IN: usize>(c: &mut Criterion) {
    let w = values(OUT * IN, 4);
    let delta = values(OUT, 5);
    let name = format!("gemv_t_{IN}x{OUT}");
    let mut group = c.benchmark_group(&name);
    group.throughput(Throughput::Elements((OUT * IN) as u64));

    let wm: Box<SMatrix<f32, OUT, IN>> = Box::new(SMatrix::from_column_slice(&w));
    let dv = SVector::<f32, OUT>::from_column_slice(&delta);
    group.bench_function(BenchmarkId::new("nalgebra", &name), |bench| {
        bench.iter(|| {
            let mut back = SVector::<f32, IN>::zeros();
            back.gemv_tr(1.0, black_box(&*wm), black_box(&dv), 0.0);
            black_box(back)
        });
    });
    let mut back = vec![0.0_f32; IN];
    group.bench_function(BenchmarkId::new("baseline", &name), |bench| {
        bench.iter(|| {
            baseline::gemv_t_f32(black_box(&w), black_box(&delta), &mut back);
            black_box(&back);
        });
    });
    group.bench_function(BenchmarkId::new("dispatched", &name), |bench| {
        bench.iter(|| {
            simd::gemv_t_f32(black_box(&w), black_box(&delta), &mut back);
            black_box(&back);
        });
    });
    group.finish();
}

/// `G += δ aᵀ` (one sample's weight gradient) for an `OUT × IN` layer.
fn ger<const OUT: usize, const IN: usize>(c: &mut Criterion) {
    let a = values(IN, 6);
    // small, so that the sums stay far from overflow however long it runs
    let delta: Vec<f32> = values(OUT, 7).iter().map(|d| d * 1e-3).collect();
    let name = format!("ger_{OUT}x{IN}");
    let mut group = c.benchmark_group(&name);
    group.throughput(Throughput::Elements((OUT * IN) as u64));

    let mut gm: Box<SMatrix<f32, OUT, IN>> = Box::new(SMatrix::zeros());
    let av = SVector::<f32, IN>::from_column_slice(&a);
    let dv = SVector::<f32, OUT>::from_column_slice(&delta);
    group.bench_function(BenchmarkId::new("nalgebra", &name), |bench| {
        bench.iter(|| {
            gm.ger(1.0, black_box(&dv), black_box(&av), 1.0);
            black_box(&*gm);
        });
    });
    let mut g = vec![0.0_f32; OUT * IN];
    group.bench_function(BenchmarkId::new("baseline", &name), |bench| {
        bench.iter(|| {
            baseline::ger_f32(black_box(&delta), black_box(&a), &mut g);
            black_box(&g);
        });
    });
    group.bench_function(BenchmarkId::new("dispatched", &name), |bench| {
        bench.iter(|| {
            simd::ger_f32(black_box(&delta), black_box(&a), &mut g);
            black_box(&g);
        });
    });
    group.finish();
}

/// The fast tanh over 1024 floats in `[-8, 8]`.
fn tanh(c: &mut Criterion) {
    const N: usize = 1024;
    let xs: Vec<f32> = (0..N).map(|i| (i as f32 / N as f32) * 16.0 - 8.0).collect();
    let mut buf = xs.clone();
    let mut group = c.benchmark_group("tanh_1024");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function(BenchmarkId::new("fastmath_slice", N), |bench| {
        bench.iter(|| {
            buf.copy_from_slice(&xs);
            tanh_f32_slice(black_box(&mut buf));
            black_box(&buf);
        });
    });
    group.bench_function(BenchmarkId::new("dispatched", N), |bench| {
        bench.iter(|| {
            buf.copy_from_slice(&xs);
            simd::tanh_f32_in_place(black_box(&mut buf));
            black_box(&buf);
        });
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    println!("simd::has_avx2_fma() = {}", simd::has_avx2_fma());
    gemv::<128, 784>(c);
    gemv::<10, 128>(c);
    gemv_t::<128, 784>(c);
    ger::<128, 784>(c);
    tanh(c);
}

criterion_group! {
    name = group;
    config = config();
    targets = benches
}
criterion_main!(group);
