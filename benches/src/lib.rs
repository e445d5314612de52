//! The networks and baselines that `cargo bench -p staticnet-benches` times;
//! the results are in `BENCHMARKS.md` at the workspace root.
//!
//! Four networks are declared with `network!` (f32, weights from
//! `from_seed`). Each has two twins with the same weights: [`PlainMlp`], the
//! same math in plain loops over slices written as well as I could (the
//! practical limit of runtime-sized plain Rust, default target, no
//! intrinsics), and [`NalgebraMlp`], the straightforward version with
//! nalgebra's `DMatrix`/`DVector` API. The 784-128-10 network also has
//! [`GemmMlp`], the same minibatch step written with nalgebra's `DMatrix`
//! and `gemm`, on one thread and on two. [`Case::check`] and
//! [`BatchCase::check`] assert that twins and network agree to 1e-4; the
//! unit tests call them and so does every bench before it times anything.
//! The convolution workloads and their baselines are in [`cnn`].

use nalgebra::{Const, DMatrix, DVector, Dyn, Matrix, OMatrix, SVector, Storage};
use rand::RngExt;
use staticnet::fastmath::{exp_f32, tanh_f32};
use staticnet::init::{SeededRng, seeded_rng};
use staticnet::prelude::*;

pub mod cnn;

network! {
    /// 2-16-16-1: tanh hidden layers and a linear output, for squared error.
    #[derive(Clone, Debug)]
    pub struct Net2x16x16x1 {
        input: 2,
        hidden1: dense(16) -> tanh,
        hidden2: dense(16) -> tanh,
        output: dense(1),
    }
}

network! {
    /// 8-32-32-4: ReLU hidden layers and a softmax output.
    #[derive(Clone, Debug)]
    pub struct Net8x32x32x4 {
        input: 8,
        hidden1: dense(32) -> relu,
        hidden2: dense(32) -> relu,
        output: dense(4) -> softmax,
    }
}

network! {
    /// 64-128-128-10: ReLU hidden layers and a softmax output.
    #[derive(Clone, Debug)]
    pub struct Net64x128x128x10 {
        input: 64,
        hidden1: dense(128) -> relu,
        hidden2: dense(128) -> relu,
        output: dense(10) -> softmax,
    }
}

network! {
    /// 784-128-10 (MNIST-sized): a ReLU hidden layer and a softmax output.
    #[derive(Clone, Debug)]
    pub struct Net784x128x10 {
        input: 784,
        hidden: dense(128) -> relu,
        output: dense(10) -> softmax,
    }
}

/// The learning rate of every SGD step the benches take.
pub const LEARNING_RATE: f32 = 0.01;

/// How many samples a one-sample SGD bench cycles through, so that it does
/// not fit a single point and drive its gradients towards zero.
pub const SAMPLES: usize = 64;

/// How many batches a minibatch bench cycles through.
pub const BATCHES: usize = 4;

/// The largest difference [`Case::check`] and [`BatchCase::check`] accept.
pub const TOLERANCE: f32 = 1e-4;

// ---------------------------------------------------------------------------
// The hand-written baseline
// ---------------------------------------------------------------------------

/// An activation of the hand-written baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// `a = z`.
    Identity,
    /// `a = tanh z`.
    Tanh,
    /// `a = max(z, 0)`.
    Relu,
    /// `a = softmax(z)` over the layer.
    Softmax,
}

impl Act {
    /// `a = f(z)`; for softmax returns `(max z, Σ e^(z − max z))`, from
    /// which the cross-entropy takes `ln Σ e^z` (the logarithm is left to
    /// the training step, inference does not need it), and `(0, 1)`
    /// otherwise.
    ///
    /// tanh and the exponentials of softmax use staticnet's
    /// [`fastmath`](staticnet::fastmath) kernels (branch-free, vectorisable,
    /// within about 1e-7 of the exact function), not libm's `tanhf`/`expf`
    /// (about 24 ns a call here). That is fair: it is the same math with the
    /// kernels that staticnet's own activations are to use (they are in the
    /// runtime but, at this commit, not yet wired into `Tanh` and
    /// `Softmax`, which still call libm), and a careful hand-written version
    /// would pick a vectorisable approximation too. The nalgebra baseline
    /// calls `f32::tanh`/`f32::exp`, as a typical user would. The results
    /// still agree with staticnet's to 1e-4.
    fn forward(self, z: &[f32], a: &mut [f32]) -> (f32, f32) {
        match self {
            Act::Identity => a.copy_from_slice(z),
            Act::Tanh => map(z, a, tanh_f32),
            Act::Relu => {
                for (a, &z) in a.iter_mut().zip(z) {
                    *a = if z <= 0.0 { 0.0 } else { z };
                }
            }
            Act::Softmax => {
                let max = z
                    .iter()
                    .fold(f32::NEG_INFINITY, |m, &z| if z > m { z } else { m });
                map(z, a, |z| exp_f32(z - max));
                let sum: f32 = a.iter().sum();
                let inv = 1.0 / sum;
                for a in a.iter_mut() {
                    *a *= inv;
                }
                return (max, sum);
            }
        }
        (0.0, 1.0)
    }

    /// Multiplies `grad` (`∂L/∂a`) by `f'(z)` in place.
    fn backward(self, z: &[f32], a: &[f32], grad: &mut [f32]) {
        match self {
            Act::Identity => {}
            Act::Tanh => {
                for (g, &a) in grad.iter_mut().zip(a) {
                    *g *= 1.0 - a * a;
                }
            }
            Act::Relu => {
                for (g, &z) in grad.iter_mut().zip(z) {
                    if z <= 0.0 {
                        *g = 0.0;
                    }
                }
            }
            Act::Softmax => unimplemented!("softmax is only an output activation here"),
        }
    }
}

/// `a[k] = f(z[k])` for every `k`. A plain loop over the slices, which the
/// compiler vectorises eight at a time; a layer of fewer than 8 outputs
/// (such as a softmax over 4) would run that loop's scalar remainder only,
/// so it goes through a local `[f32; 8]` padded with zeros, whose loop of
/// constant length is vectorised.
#[inline(always)]
fn map(z: &[f32], a: &mut [f32], f: impl Fn(f32) -> f32) {
    assert_eq!(z.len(), a.len());
    if z.len() >= 8 {
        for (a, &z) in a.iter_mut().zip(z) {
            *a = f(z);
        }
    } else {
        let mut buffer = [0.0_f32; 8];
        for (b, &z) in buffer.iter_mut().zip(z) {
            *b = z;
        }
        for x in &mut buffer {
            *x = f(*x);
        }
        for (a, b) in a.iter_mut().zip(buffer) {
            *a = b;
        }
    }
}

/// The loss of the hand-written baseline, fused with its output activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlainLoss {
    /// `½ Σ (a − y)²` after an identity output: `δ = a − y`.
    SquaredError,
    /// `−Σ y ln softmax(z)` after a softmax output: `δ = a − y` (one-hot `y`).
    CrossEntropy,
}

/// How a [`PlainLayer`] stores its `outputs × inputs` weight matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Row `o` (the weights into output `o`) is contiguous: the forward pass
    /// takes one dot product per output, backpropagation adds one scaled row
    /// per output. For layers with few outputs.
    RowMajor,
    /// Column `i` (the weights out of input `i`) is contiguous: the forward
    /// pass adds one scaled column per input, backpropagation takes one dot
    /// product per input. For layers with many outputs; staticnet's layout.
    ColumnMajor,
}

impl Layout {
    /// The layout whose inner loops run over the longer, or at least a
    /// vector-friendly, dimension: column-major from 16 outputs up.
    ///
    /// (Measured on the layers benchmarked: column-major is as fast or
    /// faster from 16 outputs up, 2 to 5 times slower below, where each
    /// column is shorter than a couple of vectors.)
    #[must_use]
    pub fn for_outputs(outputs: usize) -> Self {
        if outputs >= 16 {
            Layout::ColumnMajor
        } else {
            Layout::RowMajor
        }
    }
}

/// A dense layer of the hand-written baseline.
#[derive(Clone, Debug)]
pub struct PlainLayer {
    /// Inputs.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// How [`weight`](Self::weight) is laid out.
    pub layout: Layout,
    /// The `outputs × inputs` weights.
    pub weight: Vec<f32>,
    /// One bias per output.
    pub bias: Vec<f32>,
    /// The activation after the affine map.
    pub activation: Act,
}

/// A multilayer perceptron written by hand: `Vec<f32>` weights, sizes known
/// only at run time, and plain loops whose inner loops run over contiguous
/// slices and vectorise (axpy loops, four columns or rows per pass where
/// the same vector is updated, `axpy4`; dot products with two 4-lane
/// accumulators, `dot`); each layer is laid out for its shape
/// ([`Layout`]); tanh and the exponentials of softmax use staticnet's
/// vectorisable [`fastmath`](staticnet::fastmath) kernels (see
/// [`Act`]). Nothing is allocated after [`scratch`](Self::scratch) and
/// [`zero_gradients`](Self::zero_gradients).
///
/// What I tried and measured that did not help (min of 150 interleaved
/// rounds, same harness): keeping a block of 16 outputs in registers over
/// all inputs of a column-major layer (slower on 784-128-10, where it
/// walks the weights with a 512-byte stride, and no faster elsewhere); four
/// dot products in one pass over the input (LLVM's loop vectoriser
/// vectorised it across the four rows, with shuffles, and it was slower
/// than one `dot` per row). What it leaves out: dispatching to AVX2/FMA,
/// sizes known at compile time, and fusing the update into
/// backpropagation (the SGD step keeps staticnet's three phases).
#[derive(Clone, Debug)]
pub struct PlainMlp {
    /// The layers, input first.
    pub layers: Vec<PlainLayer>,
    /// The loss its training step uses.
    pub loss: PlainLoss,
}

/// Gradients of a [`PlainMlp`], in its layout.
#[derive(Clone, Debug)]
pub struct PlainGradients {
    /// Per layer, laid out as the layer's weight.
    pub weight: Vec<Vec<f32>>,
    /// Per layer.
    pub bias: Vec<Vec<f32>>,
}

impl PlainGradients {
    /// Sets every gradient to zero.
    pub fn set_zero(&mut self) {
        for g in self.weight.iter_mut().chain(&mut self.bias) {
            g.fill(0.0);
        }
    }
}

/// The buffers of a [`PlainMlp`]'s passes.
#[derive(Clone, Debug)]
pub struct PlainScratch {
    z: Vec<Vec<f32>>,
    a: Vec<Vec<f32>>,
    delta: Vec<f32>,
    back: Vec<f32>,
    /// The maximum and the sum of exponentials of a softmax output, for
    /// the cross-entropy.
    softmax: (f32, f32),
}

/// `Σ aᵢ bᵢ` with two 4-lane accumulators, taken in turn, so that the loop
/// vectorises (one SSE register each). Written with one 8-lane accumulator,
/// LLVM vectorised it two lanes at a time instead.
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let (a4, a_tail) = a.as_chunks::<4>();
    let (b4, b_tail) = b.as_chunks::<4>();
    let mut acc = [[0.0_f32; 4]; 2];
    for (k, (x, y)) in a4.iter().zip(b4).enumerate() {
        for ((s, x), y) in acc[k & 1].iter_mut().zip(x).zip(y) {
            *s += x * y;
        }
    }
    let mut sum = 0.0;
    for (x, y) in a_tail.iter().zip(b_tail) {
        sum += x * y;
    }
    // The partial sums added as a tree, not as a chain.
    let q: [f32; 4] = core::array::from_fn(|l| acc[0][l] + acc[1][l]);
    sum + ((q[0] + q[2]) + (q[1] + q[3]))
}

/// `y ← y + α x`.
#[inline]
fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len());
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// `y ← y + Σₖ αₖ xₖ` for four `x`s in one pass, so that `y` is loaded and
/// stored once for four columns instead of four times.
#[inline]
fn axpy4(alpha: [f32; 4], x: [&[f32]; 4], y: &mut [f32]) {
    let n = y.len();
    let [x0, x1, x2, x3] = x.map(|x| &x[..n]);
    let [a0, a1, a2, a3] = alpha;
    for ((((y, x0), x1), x2), x3) in y.iter_mut().zip(x0).zip(x1).zip(x2).zip(x3) {
        *y += (a0 * x0 + a1 * x1) + (a2 * x2 + a3 * x3);
    }
}

/// Splits four consecutive runs of `len` off `data`: four rows of a
/// row-major matrix or four columns of a column-major one.
#[inline]
fn four(data: &[f32], len: usize) -> [&[f32]; 4] {
    let (a, rest) = data.split_at(len);
    let (b, rest) = rest.split_at(len);
    let (c, d) = rest.split_at(len);
    [a, b, c, &d[..len]]
}

impl PlainLayer {
    /// `z = W a + b`. Row-major: one [`dot`] per row; column-major: the
    /// scaled columns added four at a time ([`axpy4`]).
    fn affine(&self, input: &[f32], z: &mut [f32]) {
        assert_eq!(input.len(), self.inputs);
        assert_eq!(z.len(), self.outputs);
        let (n, m) = (self.inputs, self.outputs);
        match self.layout {
            Layout::RowMajor => {
                for ((z, row), b) in z
                    .iter_mut()
                    .zip(self.weight.chunks_exact(n))
                    .zip(&self.bias)
                {
                    *z = b + dot(row, input);
                }
            }
            Layout::ColumnMajor => {
                z.copy_from_slice(&self.bias);
                let (a4, a_tail) = input.as_chunks::<4>();
                let mut columns = self.weight.chunks_exact(4 * m);
                for (a, columns) in a4.iter().zip(&mut columns) {
                    axpy4(*a, four(columns, m), z);
                }
                let columns = columns.remainder().chunks_exact(m);
                for (&a, column) in a_tail.iter().zip(columns) {
                    axpy(a, column, z);
                }
            }
        }
    }

    /// Adds `δ aᵀ` to `weight` and `δ` to `bias`, and when `back` is given
    /// sets it to `Wᵀ δ` (row-major: the scaled rows added four at a time;
    /// column-major: one [`dot`] per column, in the same pass as the
    /// column's gradient).
    fn backward(
        &self,
        input: &[f32],
        delta: &[f32],
        weight: &mut [f32],
        bias: &mut [f32],
        back: Option<&mut [f32]>,
    ) {
        assert_eq!(input.len(), self.inputs);
        assert_eq!(delta.len(), self.outputs);
        let (n, m) = (self.inputs, self.outputs);
        for (g, &d) in bias.iter_mut().zip(delta) {
            *g += d;
        }
        match self.layout {
            Layout::RowMajor => {
                for (&d, g) in delta.iter().zip(weight.chunks_exact_mut(n)) {
                    axpy(d, input, g);
                }
                if let Some(back) = back {
                    back.fill(0.0);
                    let (d4, d_tail) = delta.as_chunks::<4>();
                    let mut rows = self.weight.chunks_exact(4 * n);
                    for (d, rows) in d4.iter().zip(&mut rows) {
                        axpy4(*d, four(rows, n), back);
                    }
                    let rows = rows.remainder().chunks_exact(n);
                    for (&d, row) in d_tail.iter().zip(rows) {
                        axpy(d, row, back);
                    }
                }
            }
            Layout::ColumnMajor => {
                let columns = weight.chunks_exact_mut(m);
                match back {
                    None => {
                        for (&a, g) in input.iter().zip(columns) {
                            axpy(a, delta, g);
                        }
                    }
                    Some(back) => {
                        for (((&a, g), w), b) in input
                            .iter()
                            .zip(columns)
                            .zip(self.weight.chunks_exact(m))
                            .zip(back.iter_mut())
                        {
                            axpy(a, delta, g);
                            *b = dot(w, delta);
                        }
                    }
                }
            }
        }
    }

    /// A layer of `inputs` inputs and `bias.len()` outputs from an
    /// `outputs × inputs` column-major weight (staticnet's), laid out by
    /// [`Layout::for_outputs`].
    ///
    /// # Panics
    ///
    /// If the weight is not `outputs × inputs`.
    #[must_use]
    pub fn from_column_major(inputs: usize, weight: &[f32], bias: &[f32], activation: Act) -> Self {
        let outputs = bias.len();
        assert_eq!(weight.len(), inputs * outputs, "an outputs × inputs weight");
        let mut layer = PlainLayer {
            inputs,
            outputs,
            layout: Layout::for_outputs(outputs),
            weight: vec![0.0; weight.len()],
            bias: bias.to_vec(),
            activation,
        };
        for o in 0..outputs {
            for i in 0..inputs {
                let at = layer.index(o, i);
                layer.weight[at] = weight[o + i * outputs];
            }
        }
        layer
    }

    /// The weight `(o, i)` in `weight`, laid out as this layer's.
    fn index(&self, o: usize, i: usize) -> usize {
        match self.layout {
            Layout::RowMajor => o * self.inputs + i,
            Layout::ColumnMajor => o + i * self.outputs,
        }
    }
}

impl PlainMlp {
    /// The twin of `network`: its parameters (in declaration order, each
    /// weight `OUT × IN` column-major as staticnet keeps it) copied into
    /// layers of the given `(outputs, activation)`, each laid out by
    /// [`Layout::for_outputs`].
    ///
    /// # Panics
    ///
    /// If the shapes do not match the network's parameters.
    pub fn from_network<N: Parameters<Scalar = f32>>(
        network: &N,
        inputs: usize,
        layers: &[(usize, Act)],
        loss: PlainLoss,
    ) -> Self {
        let mut tensors = Vec::new();
        network.for_each_parameter(|_, values| tensors.push(values.to_vec()));
        assert_eq!(
            tensors.len(),
            2 * layers.len(),
            "a weight and a bias per layer"
        );
        let mut fan_in = inputs;
        let mut plain = Vec::new();
        for (&(outputs, activation), tensors) in layers.iter().zip(tensors.chunks_exact(2)) {
            let (w, b) = (&tensors[0], &tensors[1]);
            assert_eq!((w.len(), b.len()), (fan_in * outputs, outputs));
            plain.push(PlainLayer::from_column_major(fan_in, w, b, activation));
            fan_in = outputs;
        }
        Self {
            layers: plain,
            loss,
        }
    }

    /// The buffers for [`forward`](Self::forward) and
    /// [`accumulate_gradients`](Self::accumulate_gradients).
    #[must_use]
    pub fn scratch(&self) -> PlainScratch {
        let widest = self
            .layers
            .iter()
            .map(|l| l.inputs.max(l.outputs))
            .max()
            .unwrap_or(0);
        PlainScratch {
            z: self.layers.iter().map(|l| vec![0.0; l.outputs]).collect(),
            a: self.layers.iter().map(|l| vec![0.0; l.outputs]).collect(),
            delta: vec![0.0; widest],
            back: vec![0.0; widest],
            softmax: (0.0, 1.0),
        }
    }

    /// Gradients of all zeros.
    #[must_use]
    pub fn zero_gradients(&self) -> PlainGradients {
        PlainGradients {
            weight: self
                .layers
                .iter()
                .map(|l| vec![0.0; l.weight.len()])
                .collect(),
            bias: self
                .layers
                .iter()
                .map(|l| vec![0.0; l.bias.len()])
                .collect(),
        }
    }

    /// The output for one sample.
    pub fn forward<'s>(&self, x: &[f32], scratch: &'s mut PlainScratch) -> &'s [f32] {
        for (l, layer) in self.layers.iter().enumerate() {
            let (before, from) = scratch.a.split_at_mut(l);
            let input = if l == 0 { x } else { &before[l - 1] };
            let z = &mut scratch.z[l];
            layer.affine(input, z);
            scratch.softmax = layer.activation.forward(z, &mut from[0]);
        }
        scratch.a.last().map_or(&[], Vec::as_slice)
    }

    /// Adds the gradients of one sample's loss to `grads` and returns the
    /// loss.
    ///
    /// # Panics
    ///
    /// If the loss does not fit the output activation (squared error needs
    /// an identity output, cross-entropy a softmax one).
    pub fn accumulate_gradients(
        &self,
        x: &[f32],
        y: &[f32],
        scratch: &mut PlainScratch,
        grads: &mut PlainGradients,
    ) -> f32 {
        self.forward(x, scratch);
        let PlainScratch {
            z,
            a,
            delta,
            back,
            softmax,
        } = scratch;
        let last = self.layers.len() - 1;
        let out = &self.layers[last];
        let (z_out, a_out) = (&z[last], &a[last]);
        let mut loss = 0.0;
        match (self.loss, out.activation) {
            (PlainLoss::SquaredError, Act::Identity) => {
                for ((d, &a), &y) in delta.iter_mut().zip(a_out).zip(y) {
                    let r = a - y;
                    *d = r;
                    loss += r * r;
                }
                loss *= 0.5;
            }
            (PlainLoss::CrossEntropy, Act::Softmax) => {
                // ln Σ e^z from the forward pass: no exponential again.
                let lse = softmax.0 + softmax.1.ln();
                for (((d, &a), &y), &z) in delta.iter_mut().zip(a_out).zip(y).zip(z_out) {
                    *d = a - y;
                    loss += y * (lse - z);
                }
            }
            pair => panic!("unsupported output and loss: {pair:?}"),
        }
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let (gw, gb) = (&mut grads.weight[l], &mut grads.bias[l]);
            let d = &delta[..layer.outputs];
            if l == 0 {
                // No gradient with respect to the input.
                layer.backward(x, d, gw, gb, None);
                break;
            }
            let b = &mut back[..layer.inputs];
            layer.backward(&a[l - 1], d, gw, gb, Some(&mut *b));
            self.layers[l - 1]
                .activation
                .backward(&z[l - 1], &a[l - 1], b);
            std::mem::swap(delta, back);
        }
        loss
    }

    /// `θ ← θ − η g`.
    pub fn step(&mut self, learning_rate: f32, grads: &PlainGradients) {
        for ((layer, gw), gb) in self.layers.iter_mut().zip(&grads.weight).zip(&grads.bias) {
            for (w, g) in layer.weight.iter_mut().zip(gw) {
                *w -= learning_rate * g;
            }
            for (b, g) in layer.bias.iter_mut().zip(gb) {
                *b -= learning_rate * g;
            }
        }
    }

    /// The largest difference between a parameter of `network` and the
    /// same parameter of `self`.
    pub fn parameter_difference<N: Parameters<Scalar = f32>>(&self, network: &N) -> f32 {
        let mut tensors = Vec::new();
        network.for_each_parameter(|_, values| tensors.push(values.to_vec()));
        let mut worst = 0.0_f32;
        for (layer, tensors) in self.layers.iter().zip(tensors.chunks_exact(2)) {
            let (w, b) = (&tensors[0], &tensors[1]);
            for o in 0..layer.outputs {
                for i in 0..layer.inputs {
                    let ours = layer.weight[layer.index(o, i)];
                    worst = worst.max((ours - w[o + i * layer.outputs]).abs());
                }
            }
            for (ours, theirs) in layer.bias.iter().zip(b) {
                worst = worst.max((ours - theirs).abs());
            }
        }
        worst
    }
}

// ---------------------------------------------------------------------------
// The nalgebra-API baseline for single samples
// ---------------------------------------------------------------------------

/// A dense layer of [`NalgebraMlp`].
#[derive(Clone, Debug)]
pub struct NalgebraLayer {
    /// `outputs × inputs`, as staticnet keeps it.
    pub weight: DMatrix<f32>,
    /// One bias per output.
    pub bias: DVector<f32>,
    /// The activation after the affine map.
    pub activation: Act,
}

impl NalgebraLayer {
    /// `z = b + Σⱼ aⱼ W[:, j]`: the bias cloned, then one `axpy` per column.
    fn affine(&self, a: &DVector<f32>) -> DVector<f32> {
        let mut z = self.bias.clone();
        for j in 0..a.len() {
            z.axpy(a[j], &self.weight.column(j), 1.0);
        }
        z
    }
}

/// `f(z)` in place, with `f32::tanh`/`f32::exp` (libm) as a typical user
/// writes it.
fn activate(activation: Act, z: &mut DVector<f32>) {
    match activation {
        Act::Identity => {}
        Act::Tanh => z.apply(|x| *x = x.tanh()),
        Act::Relu => z.apply(|x| *x = x.max(0.0)),
        Act::Softmax => {
            let max = z.max();
            z.apply(|x| *x = (*x - max).exp());
            let sum = z.sum();
            *z /= sum;
        }
    }
}

/// A multilayer perceptron written the straightforward way with nalgebra's
/// runtime-sized types: `DMatrix<f32>` weights (`outputs × inputs`) and
/// `DVector<f32>` biases; the forward pass clones the bias and adds one
/// `axpy` of a column view per input, then applies the activation with
/// `apply` (`f32::tanh`, `f32::exp`); backpropagation uses `tr_mul`, the
/// weight gradients `ger` and the update `zip_apply`. Every intermediate
/// vector is allocated as it is computed, as such code does.
#[derive(Clone, Debug)]
pub struct NalgebraMlp {
    /// The layers, input first.
    pub layers: Vec<NalgebraLayer>,
    /// The loss its training step uses.
    pub loss: PlainLoss,
}

/// Gradients of a [`NalgebraMlp`]: a weight and a bias per layer.
#[derive(Clone, Debug)]
pub struct NalgebraGradients {
    /// Per layer, `outputs × inputs`.
    pub weight: Vec<DMatrix<f32>>,
    /// Per layer.
    pub bias: Vec<DVector<f32>>,
}

impl NalgebraMlp {
    /// The twin of `network`, with layers of the given
    /// `(outputs, activation)`.
    ///
    /// # Panics
    ///
    /// If the shapes do not match the network's parameters.
    pub fn from_network<N: Parameters<Scalar = f32>>(
        network: &N,
        inputs: usize,
        layers: &[(usize, Act)],
        loss: PlainLoss,
    ) -> Self {
        let mut tensors = Vec::new();
        network.for_each_parameter(|_, values| tensors.push(values.to_vec()));
        assert_eq!(
            tensors.len(),
            2 * layers.len(),
            "a weight and a bias per layer"
        );
        let mut fan_in = inputs;
        let mut ours = Vec::new();
        for (&(outputs, activation), tensors) in layers.iter().zip(tensors.chunks_exact(2)) {
            ours.push(NalgebraLayer {
                weight: DMatrix::from_column_slice(outputs, fan_in, &tensors[0]),
                bias: DVector::from_column_slice(&tensors[1]),
                activation,
            });
            fan_in = outputs;
        }
        Self { layers: ours, loss }
    }

    /// Gradients of all zeros, of the layers' shapes.
    #[must_use]
    pub fn zero_gradients(&self) -> NalgebraGradients {
        NalgebraGradients {
            weight: self
                .layers
                .iter()
                .map(|l| DMatrix::zeros(l.weight.nrows(), l.weight.ncols()))
                .collect(),
            bias: self
                .layers
                .iter()
                .map(|l| DVector::zeros(l.bias.len()))
                .collect(),
        }
    }

    /// The output for one sample.
    #[must_use]
    pub fn forward(&self, x: &DVector<f32>) -> DVector<f32> {
        let mut a = x.clone();
        for layer in &self.layers {
            a = layer.affine(&a);
            activate(layer.activation, &mut a);
        }
        a
    }

    /// Writes the gradients of one sample's loss into `grads` (`ger` and
    /// `copy_from` with nothing added, so `grads` need no zeroing, as
    /// [`GemmMlp::batch_gradients`] does) and returns the loss.
    ///
    /// # Panics
    ///
    /// If the loss does not fit the output activation.
    pub fn gradients(
        &self,
        x: &DVector<f32>,
        y: &DVector<f32>,
        grads: &mut NalgebraGradients,
    ) -> f32 {
        // The forward pass, keeping every pre-activation and activation.
        let mut zs: Vec<DVector<f32>> = Vec::with_capacity(self.layers.len());
        let mut activations: Vec<DVector<f32>> = Vec::with_capacity(self.layers.len() + 1);
        activations.push(x.clone());
        for layer in &self.layers {
            let z = layer.affine(&activations[activations.len() - 1]);
            let mut a = z.clone();
            activate(layer.activation, &mut a);
            zs.push(z);
            activations.push(a);
        }
        let last = self.layers.len() - 1;
        let (z_out, a_out) = (&zs[last], &activations[last + 1]);
        let mut delta = a_out - y;
        let loss = match (self.loss, self.layers[last].activation) {
            (PlainLoss::SquaredError, Act::Identity) => 0.5 * delta.norm_squared(),
            (PlainLoss::CrossEntropy, Act::Softmax) => {
                let max = z_out.max();
                let lse = max + z_out.map(|z| (z - max).exp()).sum().ln();
                y.dot(&z_out.map(|z| lse - z))
            }
            pair => panic!("unsupported output and loss: {pair:?}"),
        };
        for l in (0..self.layers.len()).rev() {
            grads.weight[l].ger(1.0, &delta, &activations[l], 0.0);
            grads.bias[l].copy_from(&delta);
            if l == 0 {
                break;
            }
            let mut back = self.layers[l].weight.tr_mul(&delta);
            match self.layers[l - 1].activation {
                Act::Identity => {}
                Act::Tanh => back.zip_apply(&activations[l], |g, a| *g *= 1.0 - a * a),
                Act::Relu => back.zip_apply(&zs[l - 1], |g, z| {
                    if z <= 0.0 {
                        *g = 0.0;
                    }
                }),
                Act::Softmax => unimplemented!("softmax is only an output activation here"),
            }
            delta = back;
        }
        loss
    }

    /// `θ ← θ − η g`.
    pub fn step(&mut self, learning_rate: f32, grads: &NalgebraGradients) {
        let update = |w: &mut f32, g: f32| *w -= learning_rate * g;
        for ((layer, gw), gb) in self.layers.iter_mut().zip(&grads.weight).zip(&grads.bias) {
            layer.weight.zip_apply(gw, update);
            layer.bias.zip_apply(gb, update);
        }
    }

    /// The largest difference between a parameter of `network` and the
    /// same parameter of `self`.
    pub fn parameter_difference<N: Parameters<Scalar = f32>>(&self, network: &N) -> f32 {
        let mut theirs = Vec::new();
        network.for_each_parameter(|_, values| theirs.push(values.to_vec()));
        let ours = self
            .layers
            .iter()
            .flat_map(|l| [l.weight.as_slice(), l.bias.as_slice()]);
        ours.zip(&theirs)
            .flat_map(|(ours, theirs)| ours.iter().zip(theirs))
            .fold(0.0, |worst, (a, b)| worst.max((a - b).abs()))
    }
}

// ---------------------------------------------------------------------------
// The nalgebra `DMatrix` + `gemm` baseline for the minibatch step
// ---------------------------------------------------------------------------

/// 784-128-10 written with nalgebra's dynamically sized matrices, the
/// straightforward way: `Z = W·X` with `gemm`, transposes with
/// `.transpose()`, intermediates allocated on every step.
#[derive(Clone, Debug)]
pub struct GemmMlp {
    /// `128 × 784`.
    pub w1: DMatrix<f32>,
    /// 128.
    pub b1: DVector<f32>,
    /// `10 × 128`.
    pub w2: DMatrix<f32>,
    /// 10.
    pub b2: DVector<f32>,
}

impl GemmMlp {
    /// The twin of `network`.
    #[must_use]
    pub fn from_network(network: &Net784x128x10) -> Self {
        Self {
            w1: DMatrix::from_column_slice(128, 784, network.hidden.weight.as_slice()),
            b1: DVector::from_column_slice(network.hidden.bias.as_slice()),
            w2: DMatrix::from_column_slice(10, 128, network.output.weight.as_slice()),
            b2: DVector::from_column_slice(network.output.bias.as_slice()),
        }
    }

    /// Gradients of all zeros, of the same shapes.
    #[must_use]
    pub fn zero_gradients(&self) -> Self {
        Self {
            w1: DMatrix::zeros(self.w1.nrows(), self.w1.ncols()),
            b1: DVector::zeros(self.b1.len()),
            w2: DMatrix::zeros(self.w2.nrows(), self.w2.ncols()),
            b2: DVector::zeros(self.b2.len()),
        }
    }

    /// Writes the mean gradients of the cross-entropy of a batch (one sample
    /// per column) into `grads` and returns the mean loss. The weight
    /// gradients are `gemm` products with `β = 0`, so `grads` need not be
    /// zeroed first. (Zeroing them with nalgebra's `fill`, which walks the
    /// matrix with its element iterator, took about 30% of this step at
    /// batch 32.)
    pub fn batch_gradients<SX, SY>(
        &self,
        x: &Matrix<f32, Dyn, Dyn, SX>,
        y: &Matrix<f32, Dyn, Dyn, SY>,
        grads: &mut Self,
    ) -> f32
    where
        SX: Storage<f32, Dyn, Dyn>,
        SY: Storage<f32, Dyn, Dyn>,
    {
        let n = x.ncols();
        let mut z1 = DMatrix::<f32>::zeros(self.w1.nrows(), n);
        for mut column in z1.column_iter_mut() {
            column.copy_from(&self.b1);
        }
        z1.gemm(1.0, &self.w1, x, 1.0);
        let a1 = z1.map(|z| if z <= 0.0 { 0.0 } else { z });
        let mut z2 = DMatrix::<f32>::zeros(self.w2.nrows(), n);
        for mut column in z2.column_iter_mut() {
            column.copy_from(&self.b2);
        }
        z2.gemm(1.0, &self.w2, &a1, 1.0);

        let scale = 1.0 / n as f32;
        let mut delta = DMatrix::<f32>::zeros(z2.nrows(), n);
        let mut total = 0.0;
        for j in 0..n {
            let z = z2.column(j);
            let max = z.max();
            let sum: f32 = z.iter().map(|&z| (z - max).exp()).sum();
            let (inv, lse) = (1.0 / sum, max + sum.ln());
            for i in 0..z.len() {
                let a = (z[i] - max).exp() * inv;
                delta[(i, j)] = (a - y[(i, j)]) * scale;
                total += y[(i, j)] * (lse - z[i]);
            }
        }

        grads.w2.gemm(1.0, &delta, &a1.transpose(), 0.0);
        grads.b2 = delta.column_sum();
        let mut d1 = DMatrix::<f32>::zeros(self.w1.nrows(), n);
        d1.gemm(1.0, &self.w2.transpose(), &delta, 0.0);
        d1.zip_apply(&z1, |d, z| {
            if z <= 0.0 {
                *d = 0.0;
            }
        });
        grads.w1.gemm(1.0, &d1, &x.transpose(), 0.0);
        grads.b1 = d1.column_sum();
        total * scale
    }

    /// [`batch_gradients`](Self::batch_gradients) on two threads, the
    /// straightforward way with the standard library: the batch split into
    /// two halves of columns (views, not copies), the second half's
    /// gradients computed on a thread spawned for this step
    /// (`std::thread::scope`) into `other` while this thread computes the
    /// first half's into `grads`; then `grads` becomes the mean of both,
    /// weighted by their sizes. (A persistent pool such as rayon's would
    /// save the spawn; the workspace has none for the benches.)
    ///
    /// # Panics
    ///
    /// If the spawned thread panics.
    pub fn batch_gradients_2_threads(
        &self,
        x: &DMatrix<f32>,
        y: &DMatrix<f32>,
        grads: &mut Self,
        other: &mut Self,
    ) -> f32 {
        let n = x.ncols();
        let half = n / 2;
        let (first, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| {
                self.batch_gradients(
                    &x.columns(half, n - half),
                    &y.columns(half, n - half),
                    other,
                )
            });
            let first = self.batch_gradients(&x.columns(0, half), &y.columns(0, half), grads);
            (first, second.join().expect("the second thread panicked"))
        });
        let (a, b) = (half as f32 / n as f32, (n - half) as f32 / n as f32);
        let mean = |g: &mut f32, h: f32| *g = a * *g + b * h;
        grads.w1.zip_apply(&other.w1, mean);
        grads.b1.zip_apply(&other.b1, mean);
        grads.w2.zip_apply(&other.w2, mean);
        grads.b2.zip_apply(&other.b2, mean);
        a * first + b * second
    }

    /// `θ ← θ − η g`.
    pub fn step(&mut self, learning_rate: f32, grads: &Self) {
        let update = |w: &mut f32, g: f32| *w -= learning_rate * g;
        self.w1.zip_apply(&grads.w1, update);
        self.b1.zip_apply(&grads.b1, update);
        self.w2.zip_apply(&grads.w2, update);
        self.b2.zip_apply(&grads.b2, update);
    }

    /// The largest difference between a parameter of `network` and the
    /// same parameter of `self`.
    #[must_use]
    pub fn parameter_difference(&self, network: &Net784x128x10) -> f32 {
        let pairs: [(&[f32], &[f32]); 4] = [
            (self.w1.as_slice(), network.hidden.weight.as_slice()),
            (self.b1.as_slice(), network.hidden.bias.as_slice()),
            (self.w2.as_slice(), network.output.weight.as_slice()),
            (self.b2.as_slice(), network.output.bias.as_slice()),
        ];
        pairs
            .iter()
            .flat_map(|(ours, theirs)| ours.iter().zip(theirs.iter()))
            .fold(0.0, |worst, (a, b)| worst.max((a - b).abs()))
    }
}

// ---------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------

/// A target: one-hot for a classifier, uniform in `[−1, 1)` otherwise.
fn target<const OUT: usize>(rng: &mut SeededRng, one_hot: bool) -> SVector<f32, OUT> {
    if one_hot {
        let mut y = SVector::zeros();
        y[rng.random_range(0..OUT)] = 1.0;
        y
    } else {
        SVector::from_fn(|_, _| rng.random_range(-1.0..1.0))
    }
}

/// One network, its hand-written and nalgebra twins, its loss and the
/// samples the benches feed all three.
#[derive(Clone, Debug)]
pub struct Case<N, L, const IN: usize, const OUT: usize> {
    /// The shape, as `2-16-16-1`.
    pub name: &'static str,
    /// The staticnet network, from `from_seed`.
    pub net: N,
    /// Its hand-written twin, with the same weights.
    pub plain: PlainMlp,
    /// Its nalgebra-API twin, with the same weights.
    pub nalgebra: NalgebraMlp,
    /// The loss of a training step.
    pub loss: L,
    /// [`SAMPLES`] inputs (uniform in `[−1, 1)`) and targets.
    pub samples: Vec<(SVector<f32, IN>, SVector<f32, OUT>)>,
}

impl<N, L, const IN: usize, const OUT: usize> Case<N, L, IN, OUT>
where
    N: Network<IN, OUT, Scalar = f32> + Clone,
    L: Loss,
{
    fn new(name: &'static str, net: N, layers: &[(usize, Act)], loss: L) -> Self {
        let (plain_loss, one_hot) = match layers.last().map(|l| l.1) {
            Some(Act::Softmax) => (PlainLoss::CrossEntropy, true),
            _ => (PlainLoss::SquaredError, false),
        };
        let plain = PlainMlp::from_network(&net, IN, layers, plain_loss);
        let nalgebra = NalgebraMlp::from_network(&net, IN, layers, plain_loss);
        let mut rng = seeded_rng(7);
        let samples = (0..SAMPLES)
            .map(|_| {
                let x = SVector::from_fn(|_, _| rng.random_range(-1.0..1.0));
                (x, target(&mut rng, one_hot))
            })
            .collect();
        Self {
            name,
            net,
            plain,
            nalgebra,
            loss,
            samples,
        }
    }

    /// The samples as the nalgebra twin takes them.
    #[must_use]
    pub fn nalgebra_samples(&self) -> Vec<(DVector<f32>, DVector<f32>)> {
        self.samples
            .iter()
            .map(|(x, y)| {
                (
                    DVector::from_column_slice(x.as_slice()),
                    DVector::from_column_slice(y.as_slice()),
                )
            })
            .collect()
    }

    /// Asserts that the network and both twins agree, to [`TOLERANCE`]:
    /// [`check_plain`](Self::check_plain) and
    /// [`check_nalgebra`](Self::check_nalgebra).
    ///
    /// # Panics
    ///
    /// If they differ by more.
    pub fn check(&self) {
        self.check_plain();
        self.check_nalgebra();
    }

    /// Asserts that network and nalgebra twin give the same outputs for
    /// every sample, and the same loss and parameters over three
    /// one-sample SGD steps, to [`TOLERANCE`].
    ///
    /// # Panics
    ///
    /// If they differ by more.
    pub fn check_nalgebra(&self) {
        let samples = self.nalgebra_samples();
        for ((x, _), (dx, _)) in self.samples.iter().zip(&samples) {
            let ours = self.nalgebra.forward(dx);
            let theirs = self.net.forward(x);
            assert_eq!(ours.len(), OUT);
            for (a, b) in ours.iter().zip(theirs.iter()) {
                assert!(
                    (a - b).abs() <= TOLERANCE,
                    "{} (nalgebra): output {a} vs {b}",
                    self.name
                );
            }
        }
        let (mut net, mut nalgebra) = (self.net.clone(), self.nalgebra.clone());
        let mut grads = net.zero_gradients();
        let mut nalgebra_grads = nalgebra.zero_gradients();
        let mut sgd = Sgd::new(LEARNING_RATE);
        for ((x, y), (dx, dy)) in self.samples.iter().zip(&samples).take(3) {
            grads.set_zero();
            let theirs = net.accumulate_gradients(x, y, self.loss, &mut grads);
            sgd.step(&mut net, &grads);
            let ours = nalgebra.gradients(dx, dy, &mut nalgebra_grads);
            nalgebra.step(LEARNING_RATE, &nalgebra_grads);
            assert!(
                (ours - theirs).abs() <= TOLERANCE,
                "{} (nalgebra): loss {ours} vs {theirs}",
                self.name
            );
            let worst = nalgebra.parameter_difference(&net);
            assert!(
                worst <= TOLERANCE,
                "{} (nalgebra): parameters differ by {worst}",
                self.name
            );
        }
        assert!(
            nalgebra.parameter_difference(&self.net) > 0.0,
            "{} (nalgebra): the steps changed nothing",
            self.name
        );
    }

    /// The samples as the hand-written twin takes them.
    #[must_use]
    pub fn plain_samples(&self) -> Vec<(Vec<f32>, Vec<f32>)> {
        self.samples
            .iter()
            .map(|(x, y)| (x.as_slice().to_vec(), y.as_slice().to_vec()))
            .collect()
    }

    /// Asserts that network and hand-written twin give the same outputs for
    /// every sample, and the same loss and parameters over three one-sample
    /// SGD steps, to [`TOLERANCE`].
    ///
    /// # Panics
    ///
    /// If they differ by more.
    pub fn check_plain(&self) {
        let mut scratch = self.plain.scratch();
        for (x, _) in &self.samples {
            let ours = self.plain.forward(x.as_slice(), &mut scratch);
            let theirs = self.net.forward(x);
            assert_eq!(ours.len(), OUT);
            for (a, b) in ours.iter().zip(theirs.iter()) {
                assert!(
                    (a - b).abs() <= TOLERANCE,
                    "{}: output {a} vs {b}",
                    self.name
                );
            }
        }
        let (mut net, mut plain) = (self.net.clone(), self.plain.clone());
        let mut grads = net.zero_gradients();
        let mut plain_grads = plain.zero_gradients();
        let mut sgd = Sgd::new(LEARNING_RATE);
        for (x, y) in self.samples.iter().take(3) {
            grads.set_zero();
            let theirs = net.accumulate_gradients(x, y, self.loss, &mut grads);
            sgd.step(&mut net, &grads);
            plain_grads.set_zero();
            let ours = plain.accumulate_gradients(
                x.as_slice(),
                y.as_slice(),
                &mut scratch,
                &mut plain_grads,
            );
            plain.step(LEARNING_RATE, &plain_grads);
            assert!(
                (ours - theirs).abs() <= TOLERANCE,
                "{}: loss {ours} vs {theirs}",
                self.name
            );
            let worst = plain.parameter_difference(&net);
            assert!(
                worst <= TOLERANCE,
                "{}: parameters differ by {worst}",
                self.name
            );
        }
        assert!(
            plain.parameter_difference(&self.net) > 0.0,
            "{}: the steps changed nothing",
            self.name
        );
    }
}

/// 2-16-16-1 with squared error.
#[must_use]
pub fn case_2_16_16_1() -> Case<Net2x16x16x1, SquaredError, 2, 1> {
    Case::new(
        "2-16-16-1",
        Net2x16x16x1::from_seed(1),
        &[(16, Act::Tanh), (16, Act::Tanh), (1, Act::Identity)],
        SquaredError,
    )
}

/// 8-32-32-4 with cross-entropy.
#[must_use]
pub fn case_8_32_32_4() -> Case<Net8x32x32x4, CrossEntropy, 8, 4> {
    Case::new(
        "8-32-32-4",
        Net8x32x32x4::from_seed(2),
        &[(32, Act::Relu), (32, Act::Relu), (4, Act::Softmax)],
        CrossEntropy,
    )
}

/// 64-128-128-10 with cross-entropy.
#[must_use]
pub fn case_64_128_128_10() -> Case<Net64x128x128x10, CrossEntropy, 64, 10> {
    Case::new(
        "64-128-128-10",
        Net64x128x128x10::from_seed(3),
        &[(128, Act::Relu), (128, Act::Relu), (10, Act::Softmax)],
        CrossEntropy,
    )
}

/// 784-128-10 with cross-entropy.
#[must_use]
pub fn case_784_128_10() -> Case<Net784x128x10, CrossEntropy, 784, 10> {
    Case::new(
        "784-128-10",
        Net784x128x10::from_seed(4),
        &[(128, Act::Relu), (10, Act::Softmax)],
        CrossEntropy,
    )
}

/// A batch of 784-128-10 as staticnet takes it: one sample per column.
pub type Batch = (OMatrix<f32, Const<784>, Dyn>, OMatrix<f32, Const<10>, Dyn>);

/// 784-128-10, its nalgebra-`gemm` twin and [`BATCHES`] batches of one size
/// (inputs uniform in `[0, 1)`, one-hot targets), in both forms.
#[derive(Clone, Debug)]
pub struct BatchCase {
    /// Samples per batch.
    pub size: usize,
    /// The staticnet network, from `from_seed`.
    pub net: Net784x128x10,
    /// Its twin, with the same weights.
    pub gemm: GemmMlp,
    /// The batches for the network.
    pub batches: Vec<Batch>,
    /// The same batches for the twin.
    pub dynamic: Vec<(DMatrix<f32>, DMatrix<f32>)>,
}

impl BatchCase {
    /// Batches of `size` samples.
    #[must_use]
    pub fn new(size: usize) -> Self {
        let net = Net784x128x10::from_seed(4);
        let gemm = GemmMlp::from_network(&net);
        let mut rng = seeded_rng(11);
        let batches: Vec<Batch> = (0..BATCHES)
            .map(|_| {
                let x = OMatrix::<f32, Const<784>, Dyn>::from_fn(size, |_, _| {
                    rng.random_range(0.0..1.0)
                });
                let mut y = OMatrix::<f32, Const<10>, Dyn>::zeros(size);
                for mut column in y.column_iter_mut() {
                    column[rng.random_range(0..10)] = 1.0;
                }
                (x, y)
            })
            .collect();
        let dynamic = batches
            .iter()
            .map(|(x, y)| {
                (
                    DMatrix::from_column_slice(784, size, x.as_slice()),
                    DMatrix::from_column_slice(10, size, y.as_slice()),
                )
            })
            .collect();
        Self {
            size,
            net,
            gemm,
            batches,
            dynamic,
        }
    }

    /// Asserts that network and twin, on one thread and on two
    /// ([`GemmMlp::batch_gradients_2_threads`]), give the same loss and
    /// parameters over three minibatch SGD steps, to [`TOLERANCE`].
    ///
    /// # Panics
    ///
    /// If they differ by more.
    pub fn check(&self) {
        self.check_gemm(false);
        self.check_gemm(true);
    }

    fn check_gemm(&self, two_threads: bool) {
        let (mut net, mut gemm) = (self.net.clone(), self.gemm.clone());
        let mut grads = Net784x128x10::zero_gradients();
        let mut gemm_grads = gemm.zero_gradients();
        let mut other = gemm.zero_gradients();
        let mut sgd = Sgd::new(LEARNING_RATE);
        for ((x, y), (dx, dy)) in self.batches.iter().zip(&self.dynamic).take(3) {
            grads.set_zero();
            let theirs = net.accumulate_batch_gradients(x, y, CrossEntropy, &mut grads);
            sgd.step(&mut net, &grads);
            let ours = if two_threads {
                gemm.batch_gradients_2_threads(dx, dy, &mut gemm_grads, &mut other)
            } else {
                gemm.batch_gradients(dx, dy, &mut gemm_grads)
            };
            gemm.step(LEARNING_RATE, &gemm_grads);
            assert!(
                (ours - theirs).abs() <= TOLERANCE,
                "batch loss {ours} vs {theirs} (two threads: {two_threads})"
            );
            let worst = gemm.parameter_difference(&net);
            assert!(
                worst <= TOLERANCE,
                "batch parameters differ by {worst} (two threads: {two_threads})"
            );
        }
        assert!(
            gemm.parameter_difference(&self.net) > 0.0,
            "the steps changed nothing"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_written_twins_compute_what_staticnet_computes() {
        case_2_16_16_1().check_plain();
        case_8_32_32_4().check_plain();
        case_64_128_128_10().check_plain();
        case_784_128_10().check_plain();
    }

    #[test]
    fn the_nalgebra_twins_compute_what_staticnet_computes() {
        case_2_16_16_1().check_nalgebra();
        case_8_32_32_4().check_nalgebra();
        case_64_128_128_10().check_nalgebra();
        case_784_128_10().check_nalgebra();
    }

    network! {
        /// Odd sizes: both layouts, with and without backpropagation, each
        /// with four-wide blocks and a remainder.
        #[derive(Clone, Debug)]
        struct Odd {
            input: 7,
            narrow: dense(6) -> tanh,
            wide: dense(17) -> relu,
            out: dense(5),
        }
    }

    #[test]
    fn both_layouts_compute_what_staticnet_computes() {
        let case = Case::new(
            "7-6-17-5",
            Odd::from_seed(5),
            &[(6, Act::Tanh), (17, Act::Relu), (5, Act::Identity)],
            SquaredError,
        );
        let layouts: Vec<Layout> = case.plain.layers.iter().map(|l| l.layout).collect();
        assert_eq!(
            layouts,
            [Layout::RowMajor, Layout::ColumnMajor, Layout::RowMajor]
        );
        case.check();
    }

    #[test]
    fn the_gemm_twin_computes_what_staticnet_computes() {
        BatchCase::new(32).check();
        BatchCase::new(5).check();
    }

    #[test]
    fn dot_matches_a_plain_sum_at_every_length() {
        for n in 0..50 {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-5, "length {n}");
        }
    }

    #[test]
    fn axpy4_matches_plain_sums_at_every_length() {
        for n in 0..50 {
            let x: Vec<Vec<f32>> = (0..4)
                .map(|k| (0..n).map(|i| ((i * 7 + k) as f32 * 0.37).sin()).collect())
                .collect();
            let v: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let alpha = [0.5, -1.25, 2.0, 0.75];
            let mut y = v.clone();
            axpy4(alpha, [&x[0][..], &x[1], &x[2], &x[3]], &mut y);
            for i in 0..n {
                let plain = v[i] + (0..4).map(|k| alpha[k] * x[k][i]).sum::<f32>();
                assert!((y[i] - plain).abs() < 1e-5, "at {i}, length {n}");
            }
        }
    }
}
