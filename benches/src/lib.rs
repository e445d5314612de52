//! The networks and baselines that `cargo bench -p staticnet-benches` times;
//! the results are in `BENCHMARKS.md` at the workspace root.
//!
//! Four networks are declared with `network!` (f32, weights from
//! `from_seed`). Each has a hand-written twin, [`PlainMlp`]: the same
//! weights in `Vec<f32>`s and the same math in plain loops over slices. The
//! 784-128-10 network also has [`GemmMlp`], the same minibatch step written
//! with nalgebra's `DMatrix` and `gemm`. [`Case::check`] and
//! [`BatchCase::check`] assert that twin and network agree to 1e-4; the unit
//! tests call them and so does every bench before it times anything.

use nalgebra::{Const, DMatrix, DVector, Dyn, OMatrix, SVector};
use rand::RngExt;
use staticnet::init::{SeededRng, seeded_rng};
use staticnet::prelude::*;

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
    fn forward(self, z: &[f32], a: &mut [f32]) {
        match self {
            Act::Identity => a.copy_from_slice(z),
            Act::Tanh => {
                for (a, &z) in a.iter_mut().zip(z) {
                    *a = z.tanh();
                }
            }
            Act::Relu => {
                for (a, &z) in a.iter_mut().zip(z) {
                    *a = if z <= 0.0 { 0.0 } else { z };
                }
            }
            Act::Softmax => {
                let max = z.iter().fold(f32::NEG_INFINITY, |m, &z| m.max(z));
                let mut sum = 0.0;
                for (a, &z) in a.iter_mut().zip(z) {
                    *a = (z - max).exp();
                    sum += *a;
                }
                let inv = 1.0 / sum;
                for a in a.iter_mut() {
                    *a *= inv;
                }
            }
        }
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
/// slices and vectorise (axpy loops, and dot products with two 4-lane
/// accumulators); each layer is laid out for its shape ([`Layout`]). Nothing
/// is allocated after [`scratch`](Self::scratch) and
/// [`zero_gradients`](Self::zero_gradients).
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

impl PlainLayer {
    /// `z = W a + b`.
    fn affine(&self, input: &[f32], z: &mut [f32]) {
        assert_eq!(input.len(), self.inputs);
        assert_eq!(z.len(), self.outputs);
        match self.layout {
            Layout::RowMajor => {
                for ((z, row), b) in z
                    .iter_mut()
                    .zip(self.weight.chunks_exact(self.inputs))
                    .zip(&self.bias)
                {
                    *z = b + dot(row, input);
                }
            }
            Layout::ColumnMajor => {
                z.copy_from_slice(&self.bias);
                for (&a, column) in input.iter().zip(self.weight.chunks_exact(self.outputs)) {
                    axpy(a, column, z);
                }
            }
        }
    }

    /// Adds `δ aᵀ` to `weight` and `δ` to `bias`, and when `back` is given
    /// sets it to `Wᵀ δ`.
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
        for (g, &d) in bias.iter_mut().zip(delta) {
            *g += d;
        }
        match self.layout {
            Layout::RowMajor => {
                let rows = weight.chunks_exact_mut(self.inputs);
                match back {
                    None => {
                        for (&d, g) in delta.iter().zip(rows) {
                            axpy(d, input, g);
                        }
                    }
                    Some(back) => {
                        back.fill(0.0);
                        for ((&d, g), w) in delta
                            .iter()
                            .zip(rows)
                            .zip(self.weight.chunks_exact(self.inputs))
                        {
                            axpy(d, input, g);
                            axpy(d, w, back);
                        }
                    }
                }
            }
            Layout::ColumnMajor => {
                let columns = weight.chunks_exact_mut(self.outputs);
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
                            .zip(self.weight.chunks_exact(self.outputs))
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
            let mut layer = PlainLayer {
                inputs: fan_in,
                outputs,
                layout: Layout::for_outputs(outputs),
                weight: vec![0.0; w.len()],
                bias: b.clone(),
                activation,
            };
            for o in 0..outputs {
                for i in 0..fan_in {
                    let at = layer.index(o, i);
                    layer.weight[at] = w[o + i * outputs];
                }
            }
            plain.push(layer);
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
            layer.activation.forward(z, &mut from[0]);
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
        let PlainScratch { z, a, delta, back } = scratch;
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
                let max = z_out.iter().fold(f32::NEG_INFINITY, |m, &z| m.max(z));
                let lse = max + z_out.iter().map(|&z| (z - max).exp()).sum::<f32>().ln();
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
    pub fn batch_gradients(&self, x: &DMatrix<f32>, y: &DMatrix<f32>, grads: &mut Self) -> f32 {
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

/// One network, its hand-written twin, its loss and the samples the benches
/// feed both.
#[derive(Clone, Debug)]
pub struct Case<N, L, const IN: usize, const OUT: usize> {
    /// The shape, as `2-16-16-1`.
    pub name: &'static str,
    /// The staticnet network, from `from_seed`.
    pub net: N,
    /// Its twin, with the same weights.
    pub plain: PlainMlp,
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
            loss,
            samples,
        }
    }

    /// The samples as the twin takes them.
    #[must_use]
    pub fn plain_samples(&self) -> Vec<(Vec<f32>, Vec<f32>)> {
        self.samples
            .iter()
            .map(|(x, y)| (x.as_slice().to_vec(), y.as_slice().to_vec()))
            .collect()
    }

    /// Asserts that network and twin give the same outputs for every sample,
    /// and the same loss and parameters over three one-sample SGD steps,
    /// to [`TOLERANCE`].
    ///
    /// # Panics
    ///
    /// If they differ by more.
    pub fn check(&self) {
        let mut scratch = self.plain.scratch();
        for (x, _) in &self.samples {
            let ours = self.plain.forward(x.as_slice(), &mut scratch);
            let theirs = self.net.forward(x);
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

    /// Asserts that network and twin give the same loss and parameters over
    /// three minibatch SGD steps, to [`TOLERANCE`].
    ///
    /// # Panics
    ///
    /// If they differ by more.
    pub fn check(&self) {
        let (mut net, mut gemm) = (self.net.clone(), self.gemm.clone());
        let mut grads = Net784x128x10::zero_gradients();
        let mut gemm_grads = gemm.zero_gradients();
        let mut sgd = Sgd::new(LEARNING_RATE);
        for ((x, y), (dx, dy)) in self.batches.iter().zip(&self.dynamic).take(3) {
            grads.set_zero();
            let theirs = net.accumulate_batch_gradients(x, y, CrossEntropy, &mut grads);
            sgd.step(&mut net, &grads);
            let ours = gemm.batch_gradients(dx, dy, &mut gemm_grads);
            gemm.step(LEARNING_RATE, &gemm_grads);
            assert!(
                (ours - theirs).abs() <= TOLERANCE,
                "batch loss {ours} vs {theirs}"
            );
            let worst = gemm.parameter_difference(&net);
            assert!(worst <= TOLERANCE, "batch parameters differ by {worst}");
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
        case_2_16_16_1().check();
        case_8_32_32_4().check();
        case_64_128_128_10().check();
        case_784_128_10().check();
    }

    network! {
        /// Odd sizes, and both layouts with and without backpropagation.
        #[derive(Clone, Debug)]
        struct Odd {
            input: 5,
            narrow: dense(3) -> tanh,
            wide: dense(17) -> relu,
            out: dense(2),
        }
    }

    #[test]
    fn both_layouts_compute_what_staticnet_computes() {
        let case = Case::new(
            "5-3-17-2",
            Odd::from_seed(5),
            &[(3, Act::Tanh), (17, Act::Relu), (2, Act::Identity)],
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
}
