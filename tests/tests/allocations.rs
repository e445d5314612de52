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

network! {
    /// 784-128-10, as in the benchmarks: its first layer lives on the heap.
    struct Wide {
        input: 784,
        hidden: dense(128) -> relu,
        output: dense(10) -> softmax,
    }
}

/// A batch of `n` samples for a network of `I` inputs and `O` classes.
fn batch<const I: usize, const O: usize>(
    n: usize,
) -> (
    nalgebra::OMatrix<f32, nalgebra::Const<I>, nalgebra::Dyn>,
    nalgebra::OMatrix<f32, nalgebra::Const<O>, nalgebra::Dyn>,
) {
    let x = nalgebra::OMatrix::<f32, nalgebra::Const<I>, nalgebra::Dyn>::from_fn(n, |i, j| {
        ((i * 13 + j * 7) % 17) as f32 / 17.0
    });
    let y = nalgebra::OMatrix::<f32, nalgebra::Const<O>, nalgebra::Dyn>::from_fn(n, |i, j| {
        f32::from(u8::from(i == j % O))
    });
    (x, y)
}

/// Minibatch SGD steps through a one-thread `BatchRunner`: the first call
/// with the largest batch allocates the workspace; after it, with that
/// batch size or a smaller one, staticnet allocates nothing of its own. What
/// remains is matrixmultiply's: every matrix product allocates its packing
/// buffer (one allocation, freed when the product returns), and its API
/// offers no way to pass one in. So a step makes exactly `products`
/// allocations, one per product, and no more.
fn minibatch_steps_allocate_only_packing_buffers<N, const I: usize, const O: usize>(
    name: &str,
    mut net: N,
    products: usize,
) where
    N: Network<I, O, Scalar = f32> + staticnet::batch::BatchNetwork + Sync,
    N::Gradients: Send,
{
    use staticnet::batch::BatchRunner;
    let (x, y) = batch::<I, O>(64);
    let (small_x, small_y) = batch::<I, O>(17);
    let mut runner = BatchRunner::<N>::new(1);
    let mut grads = net.zero_gradients();
    let mut sgd = Sgd::new(0.01);
    let (first, _) =
        allocations(|| runner.accumulate_gradients(&net, &x, &y, CrossEntropy, &mut grads));
    assert!(
        first > products,
        "{name}: the first step sets up the workspace"
    );
    let steps = 6;
    let (n, ()) = allocations(|| {
        for step in 0..steps {
            grads.set_zero();
            let (x, y) = if step % 3 == 2 {
                (&small_x, &small_y)
            } else {
                (&x, &y)
            };
            runner.accumulate_gradients(&net, x, y, CrossEntropy, &mut grads);
            sgd.step(&mut net, &grads);
        }
    });
    assert_eq!(
        n,
        steps * products,
        "{name}: minibatch steps after the first allocate only matrixmultiply's packing buffers"
    );
}

#[test]
fn minibatch_steps_allocate_only_packing_buffers_after_the_first() {
    // dense layers: L products forward, L for the weight gradients and
    // L - 1 going back
    minibatch_steps_allocate_only_packing_buffers::<_, 8, 4>("8-32-32-4", Mlp::from_seed(4), 8);
    minibatch_steps_allocate_only_packing_buffers::<_, 784, 10>(
        "784-128-10",
        Wide::from_seed(5),
        5,
    );
    // the convolution: one product forward and one for its gradients (it
    // is the first layer: nothing goes back); the dense layer: one each way
    // and one for its gradients
    minibatch_steps_allocate_only_packing_buffers::<_, 36, 3>("cnn", Cnn::from_seed(6), 5);
}

#[test]
fn a_kept_workspace_allocates_only_packing_buffers_after_the_first_call() {
    let net = Mlp::from_seed(7);
    let (x, y) = batch::<8, 4>(32);
    let mut workspace = MlpBatchWorkspace::default();
    let mut grads = Mlp::zero_gradients();
    let _ = net.accumulate_batch_gradients_with(&x, &y, CrossEntropy, &mut grads, &mut workspace);
    let (n, _) = allocations(|| {
        net.accumulate_batch_gradients_with(&x, &y, CrossEntropy, &mut grads, &mut workspace)
    });
    assert_eq!(
        n, 8,
        "accumulate_batch_gradients_with: one per matrix product"
    );
    // without a kept workspace, every call allocates its buffers as well
    let (n, _) = allocations(|| net.accumulate_batch_gradients(&x, &y, CrossEntropy, &mut grads));
    assert!(n > 8);
}
