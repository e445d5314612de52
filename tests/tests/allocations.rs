//! No allocation where users expect none: for a network small enough to
//! live inline, the forward pass, the traced forward pass, the backward
//! pass, the gradients and an optimizer step allocate nothing (optimizers
//! with per-parameter state allocate it once, on their first step). Counted
//! with a counting global allocator, per thread, so that tests running in
//! parallel do not disturb each other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use nalgebra::SVector;
use staticnet::optim::{Adagrad, AdamW, Momentum, Nesterov, RmsProp};
use staticnet::prelude::*;

/// Counts the allocations (and reallocations) of the current thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the thread-local may be gone while a thread shuts down
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every method forwards to `System`, which upholds the contract;
// the counter is a thread-local `Cell` with a const initializer, which
// itself never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The allocations that `f` makes on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let result = std::hint::black_box(f());
    (ALLOCATIONS.with(Cell::get) - before, result)
}

network! {
    /// 8-32-32-4 with every kind of activation path: element-wise (tanh,
    /// GELU) and a full Jacobian (softmax).
    #[derive(Clone, Copy)]
    struct Mlp {
        input: 8,
        hidden1: dense(32) -> tanh,
        hidden2: dense(32) -> gelu,
        output: dense(4) -> softmax,
    }
}

network! {
    /// A convolution, a pool and a dense layer, inline.
    #[derive(Clone, Copy)]
    struct Cnn {
        input: [1, 6, 6],
        conv: conv2d(4, kernel = 3, padding = 1) -> relu,
        pool: max_pool(2),
        flatten,
        output: dense(3) -> softmax,
    }
}

fn sample() -> (SVector<f32, 8>, SVector<f32, 4>) {
    let x = SVector::from_fn(|i, _| (i as f32 * 0.37).sin());
    let y = SVector::from([0.0, 1.0, 0.0, 0.0]);
    (x, y)
}

#[test]
fn the_counter_counts() {
    let (n, v) = allocations(|| vec![1_u8; 10]);
    assert_eq!((n, v.len()), (1, 10));
}

#[test]
fn inline_passes_allocate_nothing() {
    let net = Mlp::from_seed(1);
    let (x, y) = sample();
    let (n, _) = allocations(|| net.forward(&x));
    assert_eq!(n, 0, "forward");
    let (n, trace) = allocations(|| net.forward_trace(&x));
    assert_eq!(n, 0, "forward_trace");
    let mut grads = Mlp::zero_gradients();
    let (n, _) = allocations(|| {
        let (_, delta) = CrossEntropy.delta(&Softmax, &trace.output.z, &trace.output.a, &y);
        net.backward(&trace, &delta, &mut grads)
    });
    assert_eq!(n, 0, "backward");
    let (n, _) = allocations(|| net.accumulate_gradients(&x, &y, CrossEntropy, &mut grads));
    assert_eq!(n, 0, "accumulate_gradients");
    let (n, _) = allocations(|| net.gradients(&x, &y, CrossEntropy));
    assert_eq!(n, 0, "gradients");
}

#[test]
#[ignore = "issue 7: with `alloc`, a convolution builds its patch matrix (im2col) on the heap at every call"]
fn inline_convolution_passes_allocate_nothing() {
    let cnn = Cnn::from_seed(2);
    let image = SVector::<f32, 36>::from_fn(|i, _| (i % 5) as f32 / 5.0);
    let target = SVector::from([0.0, 0.0, 1.0]);
    let (n, _) = allocations(|| cnn.forward(&image));
    assert_eq!(n, 0, "convolution forward");
    let (n, _) = allocations(|| cnn.gradients(&image, &target, CrossEntropy));
    assert_eq!(n, 0, "convolution gradients");
}

/// `steps` optimizer steps after a first one: the first may allocate the
/// optimizer's state, the rest must not.
fn steps_allocate_nothing_after_the_first<O: Optimizer<f32>>(name: &str, mut optimizer: O) {
    let mut net = Mlp::from_seed(3);
    let (x, y) = sample();
    let (_, grads) = net.gradients(&x, &y, CrossEntropy);
    optimizer.step(&mut net, &grads);
    let (n, ()) = allocations(|| {
        for _ in 0..5 {
            let (_, grads) = net.gradients(&x, &y, CrossEntropy);
            optimizer.step(&mut net, &grads);
        }
    });
    assert_eq!(n, 0, "{name}: online training steps after the first");
}

#[test]
fn optimizer_steps_allocate_nothing_after_the_first() {
    let mut net = Mlp::from_seed(3);
    let (x, y) = sample();
    let (_, grads) = net.gradients(&x, &y, CrossEntropy);
    let mut sgd = Sgd::new(0.1);
    let (n, ()) = allocations(|| sgd.step(&mut net, &grads));
    assert_eq!(
        n, 0,
        "sgd keeps no state: not even its first step allocates"
    );

    steps_allocate_nothing_after_the_first("sgd", Sgd::new(0.1));
    steps_allocate_nothing_after_the_first("momentum", Momentum::new(0.1));
    steps_allocate_nothing_after_the_first("nesterov", Nesterov::new(0.1));
    steps_allocate_nothing_after_the_first("adagrad", Adagrad::new(0.1));
    steps_allocate_nothing_after_the_first("rmsprop", RmsProp::new(0.01));
    steps_allocate_nothing_after_the_first("adam", Adam::new(0.01));
    steps_allocate_nothing_after_the_first("adamw", AdamW::new(0.01));
}
