//! Proof that `staticnet` works without std and without an allocator: this
//! crate is `no_std`, depends on `staticnet` with default features off,
//! declares small networks (one with a convolution, one with a size from a
//! named constant), builds them from a seed and runs their forward passes.
//!
//! With its feature `panic-handler` it brings its own `#[panic_handler]`,
//! so that its build fails ("found duplicate lang item `panic_impl`") if
//! std is anywhere in the dependency graph. CI builds it so, as a static
//! library, which is linked whole and has no `#[global_allocator]`, so that
//! the build also fails ("no global memory allocator found") if anything in
//! the graph uses `alloc`, and then runs it from C, with no Rust standard
//! library in the program:
//!
//! ```sh
//! cargo rustc -p staticnet-nostd --features panic-handler --lib --crate-type staticlib -- -C panic=abort
//! cc nostd/smoke.c target/debug/libstaticnet_nostd.a -o target/debug/nostd-smoke
//! target/debug/nostd-smoke
//! ```
//!
//! The feature is off by default because in workspace-wide builds
//! (`cargo test --workspace`) the other members turn on staticnet's `std`:
//! features unify, and std brings a panic handler of its own. (No doctests
//! here: they would link std.)
#![no_std]
#![deny(missing_docs)]

use core::fmt::{self, Write as _};

use nalgebra::SVector;
use staticnet::prelude::*;

network! {
    /// A 2-8-8-1 network: two tanh layers and a sigmoid output.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Tiny {
        input: 2,
        hidden1: dense(8) -> tanh,
        hidden2: dense(8) -> tanh,
        output: dense(1) -> sigmoid,
    }
}

/// The width of [`Glyph`]'s hidden layer, a named constant.
pub const WIDTH: usize = 16;

network! {
    /// A network whose hidden width is a named constant (the macro checks
    /// it with a const assertion) and whose first layer is a convolution.
    #[derive(Clone, Debug)]
    pub struct Glyph<f64> {
        input: [1, 6, 6],
        conv: conv2d(2, kernel = 3, padding = 1) -> relu,
        pool: max_pool(2),
        flatten,
        hidden: dense(WIDTH) -> relu,
        output: dense(3) -> softmax,
    }
}

/// The output of [`Tiny`] seeded with `seed` for the input `(x, y)`.
#[must_use]
pub fn tiny(seed: u64, x: f32, y: f32) -> f32 {
    let net = Tiny::from_seed(seed);
    net.forward(&SVector::from([x, y]))[0]
}

/// The class that [`Glyph`] seeded with `seed` predicts for a 6 × 6 image
/// (row-major), and that class's probability.
#[must_use]
pub fn classify(seed: u64, image: &[f64; 36]) -> (usize, f64) {
    let net = Glyph::from_seed(seed);
    let p = net.forward(&SVector::from(*image));
    let class = p.imax();
    (class, p[class])
}

/// Trains [`Tiny`] (seeded with `seed`) on XOR for `epochs` passes of
/// per-sample gradient descent at `rate`, without a heap: single-sample
/// gradients and a hand-written update (the optimizers need std). Returns
/// the mean loss of the last pass and the trained network.
#[must_use]
pub fn train_xor(seed: u64, epochs: u32, rate: f32) -> (f32, Tiny) {
    let points = [
        ([0.0, 0.0], 0.0),
        ([1.0, 0.0], 1.0),
        ([0.0, 1.0], 1.0),
        ([1.0, 1.0], 0.0),
    ];
    let mut net = Tiny::from_seed(seed);
    let mut mean = f32::NAN;
    for _ in 0..epochs {
        mean = 0.0;
        for (x, y) in points {
            let (x, y) = (SVector::from(x), SVector::from([y]));
            let (loss, gradients) = net.gradients(&x, &y, BinaryCrossEntropy);
            net.for_each_parameter_and_gradient(&gradients, |_, theta, g| {
                theta.iter_mut().zip(g).for_each(|(t, g)| *t -= rate * g);
            });
            mean += loss / 4.0;
        }
    }
    (mean, net)
}

/// The number of characters of [`Glyph`]'s summary table, written out
/// without allocating.
#[must_use]
pub fn summary_chars() -> usize {
    struct Count(usize);
    impl fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0 += s.chars().count();
            Ok(())
        }
    }
    let mut count = Count(0);
    // counting cannot fail
    let _ = write!(count, "{}", Glyph::summary());
    count.0
}

/// [`tiny`] for C callers of the static library.
#[unsafe(no_mangle)]
pub extern "C" fn staticnet_nostd_tiny(seed: u64, x: f32, y: f32) -> f32 {
    tiny(seed, x, y)
}

/// [`classify`] for C callers: `image` points to 36 values; the class's
/// probability goes to `probability`.
///
/// # Safety
///
/// `image` must point to 36 readable `double`s and `probability` to a
/// writable one.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn staticnet_nostd_classify(
    seed: u64,
    image: *const f64,
    probability: *mut f64,
) -> usize {
    // SAFETY: the caller promises 36 readable values and one writable.
    let image = unsafe { &*image.cast::<[f64; 36]>() };
    let (class, p) = classify(seed, image);
    // SAFETY: as above.
    unsafe { probability.write(p) };
    class
}

/// [`train_xor`] for C callers: the final mean loss; the trained network's
/// outputs for the four XOR inputs go to `outputs`.
///
/// # Safety
///
/// `outputs` must point to 4 writable `float`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn staticnet_nostd_train_xor(
    seed: u64,
    epochs: u32,
    rate: f32,
    outputs: *mut f32,
) -> f32 {
    let (loss, net) = train_xor(seed, epochs, rate);
    for (i, x) in [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
        .into_iter()
        .enumerate()
    {
        // SAFETY: the caller promises 4 writable values.
        unsafe { outputs.add(i).write(net.forward(&SVector::from(x))[0]) };
    }
    loss
}

/// [`summary_chars`] for C callers.
#[unsafe(no_mangle)]
pub extern "C" fn staticnet_nostd_summary_chars() -> usize {
    summary_chars()
}

/// Loops forever: there is nothing to unwind to and no one to report to.
#[cfg(feature = "panic-handler")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
