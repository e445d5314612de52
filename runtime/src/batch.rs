//! Minibatch gradients with a reused workspace, on one thread or several.
//!
//! A batch pass needs room for every layer's pre-activations, activations
//! and deltas: `rows × batch` values each. [`BatchNetwork`] (implemented by
//! every network that `network!` declares) computes the gradients of a
//! batch into a workspace that it keeps between calls, so a training loop
//! allocates nothing after its first step with a given batch size.
//! [`BatchRunner`] holds that workspace and, with the `std` feature, splits
//! a batch across threads.
//!
//! ```
//! use nalgebra::Matrix2xX;
//! use staticnet::batch::BatchRunner;
//! use staticnet::prelude::*;
//!
//! network! {
//!     pub struct Xor<f64> {
//!         input: 2,
//!         hidden: dense(4) -> tanh,
//!         output: dense(2) -> softmax,
//!     }
//! }
//!
//! let net = Xor::from_seed(1);
//! let x = Matrix2xX::from_column_slice(&[0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
//! let y = Matrix2xX::from_column_slice(&[1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
//! let mut runner = BatchRunner::<Xor>::new(1);
//! let mut gradients = Xor::zero_gradients();
//! let loss = runner.accumulate_gradients(&net, &x, &y, CrossEntropy, &mut gradients);
//! // the same mean loss and gradients as the network's own batch method
//! let (expected_loss, expected) = net.batch_gradients(&x, &y, CrossEntropy);
//! assert_eq!(loss, expected_loss);
//! assert_eq!(gradients, expected);
//! ```

use alloc::vec::Vec;
use core::fmt;

use nalgebra::{Const, Dyn, OMatrix};

use crate::Scalar;
use crate::loss::Loss;
#[cfg(feature = "std")]
use crate::network::Parameters;
use crate::network::{Network, Trainable};

/// A network that computes batch gradients into a reusable workspace.
/// `network!` implements it for every network (with the `alloc` feature).
///
/// Batches are column-major slices, one sample per column: `x` holds
/// `INPUT × batch` values and `y` `OUTPUT × batch`.
///
/// ```
/// use staticnet::batch::BatchNetwork;
/// use staticnet::prelude::*;
///
/// network! {
///     struct Line<f64> {
///         input: 1,
///         output: dense(1) -> identity,
///     }
/// }
///
/// let mut net = Line::zeros();
/// net.output.weight[0] = 2.0;
/// let mut workspace = <Line as BatchNetwork>::Workspace::default();
/// let mut gradients = Line::zero_gradients();
/// // two samples, x = 1 and x = 2, targets 0: outputs 2 and 4
/// let loss = net.accumulate_columns(&[1.0, 2.0], &[0.0, 0.0], SquaredError, 0.5, &mut gradients, &mut workspace);
/// assert_eq!(loss, 0.5 * (0.5 * 4.0 + 0.5 * 16.0));
/// // ∂L/∂w = ½ (2 · 1 + 4 · 2)
/// assert_eq!(gradients.output.weight[0], 5.0);
/// ```
pub trait BatchNetwork: Trainable {
    /// The number of inputs of one sample.
    ///
    /// ```
    /// use staticnet::batch::BatchNetwork;
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f32> { input: 3, out: dense(2) -> identity } }
    /// assert_eq!(<Net as BatchNetwork>::INPUT, 3);
    /// ```
    const INPUT: usize;
    /// The number of outputs of one sample.
    ///
    /// ```
    /// use staticnet::batch::BatchNetwork;
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f32> { input: 3, out: dense(2) -> identity } }
    /// assert_eq!(<Net as BatchNetwork>::OUTPUT, 2);
    /// ```
    const OUTPUT: usize;
    /// The buffers of a batch pass: every layer's pre-activations,
    /// activations and deltas (and the patches of convolutions). They grow
    /// to the largest batch seen and are reused.
    type Workspace: Default + Send + fmt::Debug;

    /// Adds `scale · Σ_j ∂L_j/∂θ` over the samples `j` of the batch to
    /// `gradients` and returns `scale · Σ_j L_j`. With `scale = 1 / batch`
    /// these are the mean loss and its gradients; a batch split into parts
    /// passes `1 / whole batch` to each part, so the parts add up to the
    /// mean. Allocates only when `workspace` has not yet seen this many
    /// samples.
    ///
    /// # Panics
    ///
    /// If `x` and `y` are not `INPUT × batch` and `OUTPUT × batch` long for
    /// one batch size.
    ///
    /// ```
    /// use staticnet::batch::BatchNetwork;
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f64> { input: 2, out: dense(1) -> identity } }
    ///
    /// let net = Net::from_seed(3);
    /// let (x, y) = ([0.5, -1.0, 2.0, 0.25], [1.0, -1.0]);
    /// let mut workspace = Default::default();
    /// let mut whole = Net::zero_gradients();
    /// let loss = net.accumulate_columns(&x, &y, SquaredError, 0.5, &mut whole, &mut workspace);
    /// // the same batch in two parts of one sample each
    /// let mut parts = Net::zero_gradients();
    /// let first = net.accumulate_columns(&x[..2], &y[..1], SquaredError, 0.5, &mut parts, &mut workspace);
    /// let second = net.accumulate_columns(&x[2..], &y[1..], SquaredError, 0.5, &mut parts, &mut workspace);
    /// assert!((loss - (first + second)).abs() < 1e-15);
    /// assert!((*whole.out.weight - *parts.out.weight).abs().max() < 1e-15);
    /// ```
    fn accumulate_columns<L: Loss>(
        &self,
        x: &[Self::Scalar],
        y: &[Self::Scalar],
        loss: L,
        scale: Self::Scalar,
        gradients: &mut Self::Gradients,
        workspace: &mut Self::Workspace,
    ) -> Self::Scalar;
}

/// One layer's buffers in a batch workspace: pre-activations `z`,
/// activations `a` and deltas `∂L/∂z`, each `rows × batch`, column-major.
/// Code generated by `network!` keeps one per layer; not needed otherwise.
///
/// ```
/// use staticnet::batch::LayerBuffers;
///
/// let mut buffers = LayerBuffers::<f32>::default();
/// buffers.resize(3, 4);
/// assert_eq!((buffers.z.len(), buffers.a.len(), buffers.delta.len()), (12, 12, 12));
/// ```
#[derive(Clone, Debug, Default)]
pub struct LayerBuffers<T> {
    /// The pre-activations.
    pub z: Vec<T>,
    /// The activations.
    pub a: Vec<T>,
    /// The deltas `∂L/∂z`.
    pub delta: Vec<T>,
}

impl<T: Scalar> LayerBuffers<T> {
    /// Makes each buffer `rows × batch` long. Allocates only to grow past
    /// the largest size seen; new values are zero, kept values stale.
    ///
    /// ```
    /// use staticnet::batch::LayerBuffers;
    ///
    /// let mut buffers = LayerBuffers::<f64>::default();
    /// buffers.resize(2, 8);
    /// let capacity = buffers.z.capacity();
    /// buffers.resize(2, 3);
    /// buffers.resize(2, 8);
    /// assert_eq!(buffers.z.capacity(), capacity);
    /// ```
    pub fn resize(&mut self, rows: usize, batch: usize) {
        let len = rows * batch;
        for buffer in [&mut self.z, &mut self.a, &mut self.delta] {
            buffer.resize(len, T::zero());
        }
    }
}

/// Computes minibatch gradients with a workspace kept between calls, on
/// one thread or split across several.
///
/// - **One thread** (`BatchRunner::new(1)`): after the first call with a
///   given batch size, a call allocates nothing.
/// - **Several threads** (with the `std` feature): the batch is cut into
///   parts of at least [`min_columns`](Self::min_columns) samples, one per
///   thread; the calling thread takes the first part and scoped threads
///   the others, each into its own workspace and gradients, which are then
///   added up. Every call starts its threads afresh (the allocations of a
///   thread start, nothing else). Batches too small to split run on the
///   calling thread alone, so threads never slow them down.
///
/// Results do not depend on the machine, only on the number of parts: with
/// several parts the sum runs in a different order than on one thread, so
/// the last bits may differ.
///
/// ```
/// use nalgebra::{Matrix1xX, Matrix2xX};
/// use staticnet::batch::BatchRunner;
/// use staticnet::prelude::*;
///
/// network! { struct Net<f64> { input: 2, out: dense(1) -> identity } }
///
/// let net = Net::from_seed(2);
/// let x = Matrix2xX::from_fn(256, |i, j| (i + j) as f64 / 256.0);
/// let y = Matrix1xX::from_fn(256, |_, j| (j % 3) as f64);
/// let mut one = BatchRunner::<Net>::new(1);
/// let mut two = BatchRunner::<Net>::new(2);
/// let (mut g1, mut g2) = (Net::zero_gradients(), Net::zero_gradients());
/// let l1 = one.accumulate_gradients(&net, &x, &y, SquaredError, &mut g1);
/// let l2 = two.accumulate_gradients(&net, &x, &y, SquaredError, &mut g2);
/// assert!((l1 - l2).abs() < 1e-12);
/// assert!((*g1.out.weight - *g2.out.weight).abs().max() < 1e-12);
/// ```
pub struct BatchRunner<N: BatchNetwork> {
    threads: usize,
    min_columns: usize,
    workspace: N::Workspace,
    // without std there are no threads, hence no workers
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    workers: Vec<Worker<N>>,
}

/// What each extra thread keeps: its workspace, its gradients and the loss
/// of its part.
#[cfg_attr(not(feature = "std"), allow(dead_code))]
struct Worker<N: BatchNetwork> {
    workspace: N::Workspace,
    gradients: N::Gradients,
    loss: N::Scalar,
}

impl<N: BatchNetwork> fmt::Debug for BatchRunner<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchRunner")
            .field("threads", &self.threads)
            .field("min_columns", &self.min_columns)
            .finish_non_exhaustive()
    }
}

impl<N: BatchNetwork> Default for BatchRunner<N> {
    /// One thread.
    fn default() -> Self {
        Self::new(1)
    }
}

impl<N: BatchNetwork> BatchRunner<N> {
    /// The smallest part of a batch given to a thread by default: 64
    /// samples. Smaller parts lose more to starting a thread and to adding
    /// up the gradients than the thread gains (measured on the 784-128-10
    /// network of `BENCHMARKS.md`).
    ///
    /// ```
    /// use staticnet::batch::BatchRunner;
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f32> { input: 2, out: dense(1) -> identity } }
    /// assert_eq!(BatchRunner::<Net>::new(2).min_columns(), BatchRunner::<Net>::MIN_COLUMNS);
    /// ```
    pub const MIN_COLUMNS: usize = 64;

    /// A runner on up to `threads` threads (the calling one included; 0
    /// counts as 1). Without the `std` feature there are no threads and
    /// every batch runs on the calling one.
    ///
    /// ```
    /// use staticnet::batch::BatchRunner;
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f32> { input: 2, out: dense(1) -> identity } }
    /// assert_eq!(BatchRunner::<Net>::new(0).threads(), 1);
    /// ```
    #[must_use]
    pub fn new(threads: usize) -> Self {
        let threads = if cfg!(feature = "std") {
            threads.max(1)
        } else {
            1
        };
        Self {
            threads,
            min_columns: Self::MIN_COLUMNS,
            workspace: N::Workspace::default(),
            workers: Vec::new(),
        }
    }

    /// Sets the smallest part of a batch that goes to a thread (0 counts as
    /// 1).
    ///
    /// ```
    /// use staticnet::batch::BatchRunner;
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f32> { input: 2, out: dense(1) -> identity } }
    /// assert_eq!(BatchRunner::<Net>::new(2).with_min_columns(8).min_columns(), 8);
    /// ```
    #[must_use]
    pub fn with_min_columns(mut self, columns: usize) -> Self {
        self.min_columns = columns.max(1);
        self
    }

    /// The number of threads a batch may use.
    ///
    /// ```
    /// use staticnet::batch::BatchRunner;
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f32> { input: 2, out: dense(1) -> identity } }
    /// assert_eq!(BatchRunner::<Net>::new(1).threads(), 1);
    /// ```
    #[must_use]
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The smallest part of a batch that goes to a thread.
    ///
    /// ```
    /// use staticnet::batch::BatchRunner;
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f32> { input: 2, out: dense(1) -> identity } }
    /// assert_eq!(BatchRunner::<Net>::new(1).min_columns(), 64);
    /// ```
    #[must_use]
    pub fn min_columns(&self) -> usize {
        self.min_columns
    }

    /// The number of parts a batch of `batch` samples is cut into.
    ///
    /// ```
    /// use staticnet::batch::BatchRunner;
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f32> { input: 2, out: dense(1) -> identity } }
    /// let runner = BatchRunner::<Net>::new(2);
    /// assert_eq!(runner.parts(32), 1);
    /// assert_eq!(runner.parts(128), if cfg!(feature = "std") { 2 } else { 1 });
    /// ```
    #[must_use]
    pub fn parts(&self, batch: usize) -> usize {
        (batch / self.min_columns).clamp(1, self.threads)
    }

    /// Adds the mean gradients of the batch's loss to `gradients` and
    /// returns the mean loss, as the network's `accumulate_batch_gradients`
    /// does, but with this runner's workspace and threads.
    ///
    /// # Panics
    ///
    /// If `x` and `y` have different numbers of columns.
    ///
    /// ```
    /// use nalgebra::{Matrix1xX, Matrix2xX};
    /// use staticnet::batch::BatchRunner;
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f32> { input: 2, out: dense(1) -> identity } }
    ///
    /// let net = Net::from_seed(5);
    /// let x = Matrix2xX::from_column_slice(&[1.0, 0.0, 0.0, 1.0]);
    /// let y = Matrix1xX::from_row_slice(&[1.0, 2.0]);
    /// let mut runner = BatchRunner::<Net>::new(1);
    /// let mut gradients = Net::zero_gradients();
    /// let loss = runner.accumulate_gradients(&net, &x, &y, SquaredError, &mut gradients);
    /// assert_eq!((loss, gradients), net.batch_gradients(&x, &y, SquaredError));
    /// ```
    pub fn accumulate_gradients<L, const IN: usize, const OUT: usize>(
        &mut self,
        net: &N,
        x: &OMatrix<N::Scalar, Const<IN>, Dyn>,
        y: &OMatrix<N::Scalar, Const<OUT>, Dyn>,
        loss: L,
        gradients: &mut N::Gradients,
    ) -> N::Scalar
    where
        N: Network<IN, OUT> + Sync,
        N::Gradients: Send,
        L: Loss + Send,
    {
        assert_eq!(
            x.ncols(),
            y.ncols(),
            "the batch has {} samples but {} targets",
            x.ncols(),
            y.ncols()
        );
        self.accumulate_slices(net, x.as_slice(), y.as_slice(), loss, gradients)
    }

    /// [`accumulate_gradients`](Self::accumulate_gradients) for a batch
    /// held column-major in slices: `x` is `INPUT × batch` long, `y`
    /// `OUTPUT × batch`.
    ///
    /// # Panics
    ///
    /// If `x` and `y` do not hold the same number of samples.
    ///
    /// ```
    /// use staticnet::batch::BatchRunner;
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f64> { input: 2, out: dense(1) } }
    ///
    /// let mut net = Net::zeros();
    /// net.out.weight[0] = 1.0;
    /// let mut runner = BatchRunner::<Net>::new(1);
    /// let mut gradients = Net::zero_gradients();
    /// // two samples, (1, 0) and (3, 0), targets 0: outputs 1 and 3
    /// let loss = runner.accumulate_slices(&net, &[1.0, 0.0, 3.0, 0.0], &[0.0, 0.0], SquaredError, &mut gradients);
    /// assert_eq!(loss, (0.5 + 4.5) / 2.0);
    /// assert_eq!(gradients.out.weight[0], (1.0 + 9.0) / 2.0);
    /// ```
    pub fn accumulate_slices<L>(
        &mut self,
        net: &N,
        x: &[N::Scalar],
        y: &[N::Scalar],
        loss: L,
        gradients: &mut N::Gradients,
    ) -> N::Scalar
    where
        N: Sync,
        N::Gradients: Send,
        L: Loss + Send,
    {
        let batch = x.len() / N::INPUT.max(1);
        let targets = y.len() / N::OUTPUT.max(1);
        assert!(
            batch == targets && x.len() == N::INPUT * batch && y.len() == N::OUTPUT * batch,
            "a batch of {} input and {} target values is not {} × batch and {} × batch",
            x.len(),
            y.len(),
            N::INPUT,
            N::OUTPUT,
        );
        if batch == 0 {
            return nalgebra::zero::<N::Scalar>();
        }
        let scale =
            nalgebra::one::<N::Scalar>() / nalgebra::convert::<f64, N::Scalar>(batch as f64);
        // without std there is one thread, hence one part
        #[cfg(feature = "std")]
        {
            let parts = self.parts(batch);
            if parts > 1 {
                return self.accumulate_in_parts(net, x, y, batch, parts, loss, scale, gradients);
            }
        }
        net.accumulate_columns(x, y, loss, scale, gradients, &mut self.workspace)
    }

    /// The batch in `parts` parts, all but the first on scoped threads.
    #[cfg(feature = "std")]
    #[allow(clippy::too_many_arguments)]
    fn accumulate_in_parts<L>(
        &mut self,
        net: &N,
        x: &[N::Scalar],
        y: &[N::Scalar],
        batch: usize,
        parts: usize,
        loss: L,
        scale: N::Scalar,
        gradients: &mut N::Gradients,
    ) -> N::Scalar
    where
        N: Sync,
        N::Gradients: Send,
        L: Loss + Send,
    {
        while self.workers.len() < parts - 1 {
            self.workers.push(Worker {
                workspace: N::Workspace::default(),
                gradients: N::Gradients::zeroed(),
                loss: nalgebra::zero::<N::Scalar>(),
            });
        }
        // part p holds samples [start(p), start(p + 1)): sizes differ by
        // at most one
        let start = |p: usize| p * batch / parts;
        let (rows_in, rows_out) = (N::INPUT, N::OUTPUT);
        fn columns<T>(data: &[T], rows: usize, from: usize, to: usize) -> &[T] {
            &data[from * rows..to * rows]
        }
        let workspace = &mut self.workspace;
        let first = std::thread::scope(|scope| {
            for (p, worker) in self.workers[..parts - 1].iter_mut().enumerate() {
                let (from, to) = (start(p + 1), start(p + 2));
                let (x, y) = (
                    columns(x, rows_in, from, to),
                    columns(y, rows_out, from, to),
                );
                scope.spawn(move || {
                    // the gradients are zero: `take_into` left them so
                    worker.loss = net.accumulate_columns(
                        x,
                        y,
                        loss,
                        scale,
                        &mut worker.gradients,
                        &mut worker.workspace,
                    );
                });
            }
            net.accumulate_columns(
                columns(x, rows_in, 0, start(1)),
                columns(y, rows_out, 0, start(1)),
                loss,
                scale,
                gradients,
                workspace,
            )
        });
        let mut total = first;
        for worker in &mut self.workers[..parts - 1] {
            take_into(gradients, &mut worker.gradients);
            total += worker.loss;
        }
        total
    }
}

/// `total += part`, then `part = 0`, in one pass, tensor by tensor (both
/// visit their tensors in the same order), so a worker's gradients are zero
/// for its next part without a pass of their own. Finds each of `part`'s
/// tensors by its position, which costs a walk over the tensor list per
/// tensor: a few dozen calls, no allocation.
#[cfg(feature = "std")]
fn take_into<P: Parameters>(total: &mut P, part: &mut P) {
    let mut index = 0;
    total.for_each_parameter_mut(|_, total| {
        let mut seen = 0;
        part.for_each_parameter_mut(|_, part| {
            if seen == index {
                for (t, p) in total.iter_mut().zip(part.iter_mut()) {
                    *t += *p;
                    *p = nalgebra::zero();
                }
            }
            seen += 1;
        });
        index += 1;
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use nalgebra::{Matrix3xX, Matrix4xX};

    network! {
        struct Mlp<f64> {
            input: 4,
            hidden: dense(7) -> tanh,
            more: dense(5) -> relu,
            output: dense(3) -> softmax,
        }
    }

    fn data(batch: usize) -> (Matrix4xX<f64>, Matrix3xX<f64>) {
        let x = Matrix4xX::from_fn(batch, |i, j| ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0);
        let y = Matrix3xX::from_fn(batch, |i, j| f64::from(u8::from(i == j % 3)));
        (x, y)
    }

    #[test]
    fn one_thread_matches_the_trace_path_bit_for_bit() {
        let net = Mlp::from_seed(9);
        let mut runner = BatchRunner::<Mlp>::new(1);
        for batch in [1, 2, 5, 64, 3, 64] {
            let (x, y) = data(batch);
            // the batch passes of the trace, as before the workspace
            let trace = net.forward_batch_trace(&x);
            let (expected_loss, delta) =
                CrossEntropy.delta_batch(&Softmax, &trace.output.z, &trace.output.a, &y);
            let mut expected = Mlp::zero_gradients();
            let _ = net.backward_batch(&trace, &delta, &mut expected);
            let mut gradients = Mlp::zero_gradients();
            let loss = runner.accumulate_gradients(&net, &x, &y, CrossEntropy, &mut gradients);
            assert_eq!(loss.to_bits(), expected_loss.to_bits(), "batch {batch}");
            assert_eq!(gradients, expected, "batch {batch}");
        }
    }

    #[test]
    #[cfg(feature = "std")]
    fn parts_add_up_to_the_whole_batch() {
        let net = Mlp::from_seed(4);
        for (threads, batch) in [(2, 128), (2, 129), (3, 200), (4, 64)] {
            let (x, y) = data(batch);
            let mut one = BatchRunner::<Mlp>::new(1);
            let mut many = BatchRunner::<Mlp>::new(threads).with_min_columns(16);
            let (mut g1, mut g2) = (Mlp::zero_gradients(), Mlp::zero_gradients());
            let l1 = one.accumulate_gradients(&net, &x, &y, CrossEntropy, &mut g1);
            let l2 = many.accumulate_gradients(&net, &x, &y, CrossEntropy, &mut g2);
            assert!(many.parts(batch) > 1);
            assert!((l1 - l2).abs() < 1e-14, "{l1} {l2}");
            let mut largest = 0.0_f64;
            g1.for_each_parameter(|name, a| {
                let mut index = 0;
                g2.for_each_parameter(|other, b| {
                    if other == name {
                        for (a, b) in a.iter().zip(b) {
                            largest = largest.max((a - b).abs());
                        }
                    }
                    index += 1;
                });
            });
            assert!(
                largest < 1e-14,
                "threads {threads}, batch {batch}: {largest}"
            );
            // a second call reuses the workers and adds again
            let l3 = many.accumulate_gradients(&net, &x, &y, CrossEntropy, &mut g2);
            assert!((l3 - l2).abs() < 1e-14);
            let doubled = *g1.hidden.weight * 2.0;
            assert!((*g2.hidden.weight - doubled).abs().max() < 1e-13);
        }
    }

    #[test]
    #[cfg(feature = "std")]
    fn small_batches_stay_on_one_thread() {
        let runner = BatchRunner::<Mlp>::new(8);
        assert_eq!(runner.parts(1), 1);
        assert_eq!(runner.parts(127), 1);
        assert_eq!(runner.parts(128), 2);
        assert_eq!(runner.parts(10_000), 8);
    }

    #[test]
    #[should_panic(expected = "the batch has 2 samples but 3 targets")]
    fn mismatched_batches_are_refused() {
        let (x, _) = data(2);
        let (_, y) = data(3);
        let mut runner = BatchRunner::<Mlp>::new(1);
        let mut g = Mlp::zero_gradients();
        let _ = runner.accumulate_gradients(&Mlp::zeros(), &x, &y, CrossEntropy, &mut g);
    }

    #[test]
    fn an_empty_batch_adds_nothing() {
        let (x, y) = data(0);
        let mut runner = BatchRunner::<Mlp>::new(2);
        let mut g = Mlp::zero_gradients();
        let loss = runner.accumulate_gradients(&Mlp::from_seed(1), &x, &y, CrossEntropy, &mut g);
        assert_eq!(loss, 0.0);
        assert_eq!(g, Mlp::zero_gradients());
    }
}
