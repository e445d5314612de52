//! The convolution workloads of `cargo bench --bench conv` and their
//! baselines.
//!
//! - [`Lecture`], the lecture's layer (3×32×32 → 10 filters of 5×5,
//!   padding 2), one sample: hand-written as a [`PlainConv`], and with
//!   nalgebra as im2col into a `DMatrix` and one product
//!   ([`nalgebra_conv`]).
//! - [`MnistCnn`], the `cnn_mnist` example's network: one-sample inference
//!   hand-written ([`PlainCnn`]: direct convolution, ReLU and max pool,
//!   dense and softmax in plain loops over slices) and with nalgebra
//!   ([`GemmCnn::forward`]); and one SGD step on a batch with nalgebra
//!   ([`GemmCnn`]: im2col into `DMatrix`es and `gemm`, like
//!   [`GemmMlp`](crate::GemmMlp) for the dense network).
//!
//! [`LectureCase::check`] and [`CnnCase::check`] assert that each baseline
//! computes what staticnet computes, to [`TOLERANCE`]; the unit tests call
//! them and so does the bench before it times anything. There is no
//! hand-written training step for the CNN.

use nalgebra::{Const, DMatrix, DVector, Dyn, OMatrix, SVector};
use rand::RngExt;
use staticnet::init::seeded_rng;
use staticnet::prelude::*;

use crate::{Act, BATCHES, LEARNING_RATE, PlainLayer, TOLERANCE};

network! {
    /// The lecture's worked example: one convolution, nothing else.
    #[derive(Clone, Debug)]
    pub struct Lecture {
        input: [3, 32, 32],
        conv: conv2d(10, kernel = 5, stride = 1, padding = 2),
    }
}

network! {
    /// The `cnn_mnist` example's network.
    #[derive(Clone, Debug)]
    pub struct MnistCnn {
        input: [1, 28, 28],
        conv1: conv2d(8, kernel = 3, padding = same) -> relu,
        pool1: max_pool(2),
        conv2: conv2d(16, kernel = 3, padding = same) -> relu,
        pool2: max_pool(2),
        flatten,
        output: dense(10) -> softmax,
    }
}

// ---------------------------------------------------------------------------
// The hand-written convolution
// ---------------------------------------------------------------------------

/// A convolution with stride 1 and zero padding, written by hand: sizes
/// known only at run time, the weights in a `Vec<f32>`, plain loops over
/// slices.
///
/// It works on a zero-padded copy of the input (`C` planes of
/// `Hp × Wp = (H + 2p) × (W + 2p)`, then `K − 1` zeros) and writes *wide*
/// output planes of `OH × Wp` values: output `(oh, ow)` at `oh·Wp + ow`,
/// where the columns `ow ≥ OW` hold garbage. Then for every kernel tap
/// `(i, j)` the inputs of a whole output plane are one contiguous run,
/// `padded[i·Wp + j ..][.. OH·Wp]`, and the innermost loop runs over
/// `OH·Wp` contiguous outputs (840 for a 28×28 plane with a 3×3 kernel)
/// instead of over one row of `OW`. For 3×3 and 5×5 kernels all `K²` taps
/// of one filter and channel are added in the same pass (`taps`, the
/// kernel size a const parameter so that the taps unroll), so each output
/// is loaded and stored once per input channel; other sizes take one pass
/// per tap.
#[derive(Clone, Debug)]
pub struct PlainConv {
    /// Channels of the input.
    pub in_channels: usize,
    /// Rows of the input.
    pub in_height: usize,
    /// Columns of the input.
    pub in_width: usize,
    /// Filters.
    pub out_channels: usize,
    /// The kernel is `kernel × kernel`.
    pub kernel: usize,
    /// Zeros added on each side.
    pub padding: usize,
    /// `weight[((o·C + c)·K + i)·K + j]`: filter `o`, input channel `c`,
    /// tap `(i, j)` (PyTorch's order).
    pub weight: Vec<f32>,
    /// One bias per filter.
    pub bias: Vec<f32>,
}

/// `out[q] += Σᵢⱼ w[i·K + j] · x[i·stride + j + q]` for every `q`: all taps
/// of one `K × K` filter over one channel in one pass.
#[inline]
fn taps<const K: usize>(w: &[f32], x: &[f32], stride: usize, out: &mut [f32]) {
    let n = out.len();
    let w: [[f32; K]; K] = core::array::from_fn(|i| core::array::from_fn(|j| w[i * K + j]));
    let rows: [&[f32]; K] = core::array::from_fn(|i| &x[i * stride..i * stride + n + K - 1]);
    for (q, out) in out.iter_mut().enumerate() {
        // One partial sum per kernel row, added at the end: K short
        // dependency chains instead of one of K² additions, which made the
        // loop wait on latency.
        let part: [f32; K] = core::array::from_fn(|i| {
            let (w, row) = (&w[i], &rows[i][q..q + K]);
            let mut s = w[0] * row[0];
            for j in 1..K {
                s += w[j] * row[j];
            }
            s
        });
        let mut s = *out;
        for p in part {
            s += p;
        }
        *out = s;
    }
}

/// [`taps`] for any kernel size: one pass (an axpy) per tap.
fn taps_any(kernel: usize, w: &[f32], x: &[f32], stride: usize, out: &mut [f32]) {
    let n = out.len();
    for i in 0..kernel {
        for j in 0..kernel {
            let w = w[i * kernel + j];
            let x = &x[i * stride + j..][..n];
            for (out, x) in out.iter_mut().zip(x) {
                *out += w * x;
            }
        }
    }
}

/// `max(0, max of each 2 × 2 window)` of one channel: ReLU, then max
/// pooling with a 2 × 2 window and stride 2 (the two commute, so the ReLU
/// is taken once per window). `input` holds `rows` rows of `stride`
/// values of which the first `cols` count; row `r` of the result goes to
/// `out[r·out_stride ..][.. cols / 2]`.
fn relu_max_pool2(
    input: &[f32],
    rows: usize,
    cols: usize,
    stride: usize,
    out: &mut [f32],
    out_stride: usize,
) {
    let max = |a: f32, b: f32| if a > b { a } else { b };
    for (r, out) in out.chunks_mut(out_stride).take(rows / 2).enumerate() {
        let top = &input[2 * r * stride..][..cols];
        let bottom = &input[(2 * r + 1) * stride..][..cols];
        for ((out, t), b) in out[..cols / 2]
            .iter_mut()
            .zip(top.as_chunks::<2>().0)
            .zip(bottom.as_chunks::<2>().0)
        {
            *out = max(max(max(t[0], t[1]), max(b[0], b[1])), 0.0);
        }
    }
}

impl PlainConv {
    /// A convolution of `in_channels × in_height × in_width` inputs from
    /// staticnet's weight (`C_OUT × K_LEN`, column-major, row `o` filter
    /// `o` in `(c, i, j)` order) and bias.
    ///
    /// # Panics
    ///
    /// If the sizes do not match.
    #[must_use]
    pub fn from_staticnet(
        (in_channels, in_height, in_width): (usize, usize, usize),
        kernel: usize,
        padding: usize,
        weight: &[f32],
        bias: &[f32],
    ) -> Self {
        let out_channels = bias.len();
        let filter = in_channels * kernel * kernel;
        assert_eq!(weight.len(), out_channels * filter);
        let mut ours = vec![0.0; weight.len()];
        for o in 0..out_channels {
            for k in 0..filter {
                ours[o * filter + k] = weight[o + k * out_channels];
            }
        }
        Self {
            in_channels,
            in_height,
            in_width,
            out_channels,
            kernel,
            padding,
            weight: ours,
            bias: bias.to_vec(),
        }
    }

    /// `Wp`, the width of a padded input row and of a wide output row.
    #[must_use]
    pub fn padded_width(&self) -> usize {
        self.in_width + 2 * self.padding
    }

    /// `Hp`.
    #[must_use]
    pub fn padded_height(&self) -> usize {
        self.in_height + 2 * self.padding
    }

    /// `OH`.
    #[must_use]
    pub fn out_height(&self) -> usize {
        self.padded_height() + 1 - self.kernel
    }

    /// `OW`.
    #[must_use]
    pub fn out_width(&self) -> usize {
        self.padded_width() + 1 - self.kernel
    }

    /// The length of the padded input: `C · Hp · Wp + K − 1` (the last
    /// plane's garbage columns read `K − 1` values past it).
    #[must_use]
    pub fn padded_len(&self) -> usize {
        self.in_channels * self.padded_height() * self.padded_width() + self.kernel - 1
    }

    /// The length of the wide output: `C_OUT · OH · Wp`.
    #[must_use]
    pub fn wide_len(&self) -> usize {
        self.out_channels * self.out_height() * self.padded_width()
    }

    /// Copies `x` (`C × H × W`, row-major) into the interior of `padded`,
    /// whose border must be zero (as [`padded_len`](Self::padded_len)
    /// zeros are).
    pub fn pad(&self, x: &[f32], padded: &mut [f32]) {
        let (w, wp, p) = (self.in_width, self.padded_width(), self.padding);
        let plane = self.padded_height() * wp;
        for (channel, padded) in x
            .chunks_exact(self.in_height * w)
            .zip(padded.chunks_mut(plane))
        {
            for (row, padded) in channel
                .chunks_exact(w)
                .zip(padded[p * wp + p..].chunks_mut(wp))
            {
                padded[..w].copy_from_slice(row);
            }
        }
    }

    /// The convolution (before any activation) of a padded input into wide
    /// output planes.
    pub fn forward_wide(&self, padded: &[f32], wide: &mut [f32]) {
        assert_eq!(padded.len(), self.padded_len());
        assert_eq!(wide.len(), self.wide_len());
        let (k, wp) = (self.kernel, self.padded_width());
        let in_plane = self.padded_height() * wp;
        let filter = k * k;
        for ((plane, weights), &b) in wide
            .chunks_exact_mut(self.out_height() * wp)
            .zip(self.weight.chunks_exact(self.in_channels * filter))
            .zip(&self.bias)
        {
            plane.fill(b);
            for (c, w) in weights.chunks_exact(filter).enumerate() {
                let x = &padded[c * in_plane..];
                match k {
                    3 => taps::<3>(w, x, wp, plane),
                    5 => taps::<5>(w, x, wp, plane),
                    _ => taps_any(k, w, x, wp, plane),
                }
            }
        }
    }

    /// The wide output's first `OW` columns of each row, as a
    /// `C_OUT × OH × OW` row-major output.
    pub fn compact(&self, wide: &[f32], out: &mut [f32]) {
        let (ow, wp) = (self.out_width(), self.padded_width());
        for (out, wide) in out.chunks_exact_mut(ow).zip(wide.chunks_exact(wp)) {
            out.copy_from_slice(&wide[..ow]);
        }
    }
}

/// The buffers of [`PlainConv::forward`].
#[derive(Clone, Debug)]
pub struct PlainConvScratch {
    padded: Vec<f32>,
    wide: Vec<f32>,
}

impl PlainConv {
    /// Buffers for [`forward`](Self::forward), the padding zeroed.
    #[must_use]
    pub fn scratch(&self) -> PlainConvScratch {
        PlainConvScratch {
            padded: vec![0.0; self.padded_len()],
            wide: vec![0.0; self.wide_len()],
        }
    }

    /// The convolution of one sample `x` (`C × H × W`) into `out`
    /// (`C_OUT × OH × OW`): pad, convolve, compact.
    pub fn forward(&self, x: &[f32], scratch: &mut PlainConvScratch, out: &mut [f32]) {
        self.pad(x, &mut scratch.padded);
        self.forward_wide(&scratch.padded, &mut scratch.wide);
        self.compact(&scratch.wide, out);
    }
}

// ---------------------------------------------------------------------------
// The hand-written CNN (inference)
// ---------------------------------------------------------------------------

/// [`MnistCnn`] written by hand for one sample: two [`PlainConv`]s, ReLU
/// and 2 × 2 max pooling fused into one pass (`relu_max_pool2`) that
/// reads the wide output of a convolution and writes straight into the
/// padded input of the next, and the dense softmax layer of the MLP
/// baseline ([`PlainLayer`]: row-major, four dot products at a time).
/// Nothing is allocated after [`scratch`](Self::scratch).
#[derive(Clone, Debug)]
pub struct PlainCnn {
    /// 1×28×28 → 8×28×28, 3×3, padding 1.
    pub conv1: PlainConv,
    /// 8×14×14 → 16×14×14, 3×3, padding 1.
    pub conv2: PlainConv,
    /// 784 → 10, softmax.
    pub output: PlainLayer,
}

/// The buffers of [`PlainCnn::forward`].
#[derive(Clone, Debug)]
pub struct PlainCnnScratch {
    padded1: Vec<f32>,
    wide1: Vec<f32>,
    padded2: Vec<f32>,
    wide2: Vec<f32>,
    flat: Vec<f32>,
    z: Vec<f32>,
    a: Vec<f32>,
}

impl PlainCnn {
    /// The twin of `network`.
    #[must_use]
    pub fn from_network(network: &MnistCnn) -> Self {
        let conv1 = PlainConv::from_staticnet(
            (1, 28, 28),
            3,
            1,
            network.conv1.weight.as_slice(),
            network.conv1.bias.as_slice(),
        );
        let conv2 = PlainConv::from_staticnet(
            (8, 14, 14),
            3,
            1,
            network.conv2.weight.as_slice(),
            network.conv2.bias.as_slice(),
        );
        let output = PlainLayer::from_column_major(
            784,
            network.output.weight.as_slice(),
            network.output.bias.as_slice(),
            Act::Softmax,
        );
        Self {
            conv1,
            conv2,
            output,
        }
    }

    /// Buffers for [`forward`](Self::forward), the padding zeroed.
    #[must_use]
    pub fn scratch(&self) -> PlainCnnScratch {
        PlainCnnScratch {
            padded1: vec![0.0; self.conv1.padded_len()],
            wide1: vec![0.0; self.conv1.wide_len()],
            padded2: vec![0.0; self.conv2.padded_len()],
            wide2: vec![0.0; self.conv2.wide_len()],
            flat: vec![0.0; self.output.inputs],
            z: vec![0.0; self.output.outputs],
            a: vec![0.0; self.output.outputs],
        }
    }

    /// The class probabilities of one 28×28 image.
    pub fn forward<'s>(&self, image: &[f32], s: &'s mut PlainCnnScratch) -> &'s [f32] {
        let (c1, c2) = (&self.conv1, &self.conv2);
        c1.pad(image, &mut s.padded1);
        c1.forward_wide(&s.padded1, &mut s.wide1);
        // ReLU and pool into the interior of conv2's padded input.
        let (rows, cols, stride) = (c1.out_height(), c1.out_width(), c1.padded_width());
        let (wp2, p2) = (c2.padded_width(), c2.padding);
        let plane2 = c2.padded_height() * wp2;
        for (c, wide) in s.wide1.chunks_exact(rows * stride).enumerate() {
            let out = &mut s.padded2[c * plane2 + p2 * wp2 + p2..];
            relu_max_pool2(wide, rows, cols, stride, out, wp2);
        }
        c2.forward_wide(&s.padded2, &mut s.wide2);
        // ReLU and pool into the flattened input of the dense layer.
        let (rows, cols, stride) = (c2.out_height(), c2.out_width(), c2.padded_width());
        let pooled = (rows / 2) * (cols / 2);
        for (wide, out) in s
            .wide2
            .chunks_exact(rows * stride)
            .zip(s.flat.chunks_exact_mut(pooled))
        {
            relu_max_pool2(wide, rows, cols, stride, out, cols / 2);
        }
        self.output.affine(&s.flat, &mut s.z);
        self.output.activation.forward(&s.z, &mut s.a);
        &s.a
    }
}

// ---------------------------------------------------------------------------
// The nalgebra versions: im2col into a `DMatrix` and `gemm`
// ---------------------------------------------------------------------------

/// The patches of a batch for a `kernel × kernel` convolution with stride
/// 1 and `padding` zeros: `input` has one row per channel and one column
/// per position and sample (`b·H·W + h·W + w`); the result has one row per
/// `(c, i, j)` (`(c·K + i)·K + j`, the order of staticnet's weight
/// columns) and one column per output position and sample. Written the
/// straightforward way, with indexed loops.
#[must_use]
pub fn im2col(
    input: &DMatrix<f32>,
    (height, width): (usize, usize),
    kernel: usize,
    padding: usize,
) -> DMatrix<f32> {
    let channels = input.nrows();
    let batch = input.ncols() / (height * width);
    let (out_h, out_w) = (
        height + 2 * padding + 1 - kernel,
        width + 2 * padding + 1 - kernel,
    );
    let mut cols = DMatrix::<f32>::zeros(channels * kernel * kernel, out_h * out_w * batch);
    for b in 0..batch {
        for c in 0..channels {
            for i in 0..kernel {
                for j in 0..kernel {
                    let row = (c * kernel + i) * kernel + j;
                    for oh in 0..out_h {
                        let Some(h) = (oh + i).checked_sub(padding).filter(|&h| h < height) else {
                            continue;
                        };
                        for ow in 0..out_w {
                            let Some(w) = (ow + j).checked_sub(padding).filter(|&w| w < width)
                            else {
                                continue;
                            };
                            cols[(row, b * out_h * out_w + oh * out_w + ow)] =
                                input[(c, b * height * width + h * width + w)];
                        }
                    }
                }
            }
        }
    }
    cols
}

/// The adjoint of [`im2col`] (padding `kernel / 2`, output size = input
/// size): each column's values added back to the input positions they
/// came from.
fn col2im(
    cols: &DMatrix<f32>,
    channels: usize,
    (height, width): (usize, usize),
    kernel: usize,
    padding: usize,
) -> DMatrix<f32> {
    let batch = cols.ncols() / (height * width);
    let mut input = DMatrix::<f32>::zeros(channels, height * width * batch);
    for b in 0..batch {
        for c in 0..channels {
            for i in 0..kernel {
                for j in 0..kernel {
                    let row = (c * kernel + i) * kernel + j;
                    for oh in 0..height {
                        let Some(h) = (oh + i).checked_sub(padding).filter(|&h| h < height) else {
                            continue;
                        };
                        for ow in 0..width {
                            let Some(w) = (ow + j).checked_sub(padding).filter(|&w| w < width)
                            else {
                                continue;
                            };
                            input[(c, b * height * width + h * width + w)] +=
                                cols[(row, b * height * width + oh * width + ow)];
                        }
                    }
                }
            }
        }
    }
    input
}

/// 2 × 2 max pooling with stride 2 of every channel (row) of a batch
/// (columns as in [`im2col`]), and for each output the column of the
/// largest input (the first of equal ones), in the output's element order.
fn max_pool(a: &DMatrix<f32>, (height, width): (usize, usize)) -> (DMatrix<f32>, Vec<usize>) {
    let channels = a.nrows();
    let batch = a.ncols() / (height * width);
    let (ph, pw) = (height / 2, width / 2);
    let mut pooled = DMatrix::<f32>::zeros(channels, ph * pw * batch);
    let mut argmax = vec![0; pooled.len()];
    for b in 0..batch {
        for y in 0..ph {
            for x in 0..pw {
                let out = b * ph * pw + y * pw + x;
                for c in 0..channels {
                    let first = b * height * width + 2 * y * width + 2 * x;
                    let mut best = first;
                    for other in [first + 1, first + width, first + width + 1] {
                        if a[(c, other)] > a[(c, best)] {
                            best = other;
                        }
                    }
                    pooled[(c, out)] = a[(c, best)];
                    argmax[out * channels + c] = best;
                }
            }
        }
    }
    (pooled, argmax)
}

/// The adjoint of [`max_pool`]: each output's delta added to its largest
/// input.
fn unpool(delta: &DMatrix<f32>, argmax: &[usize], input_columns: usize) -> DMatrix<f32> {
    let channels = delta.nrows();
    let mut back = DMatrix::<f32>::zeros(channels, input_columns);
    for (k, &i) in argmax.iter().enumerate() {
        let (c, out) = (k % channels, k / channels);
        back[(c, i)] += delta[(c, out)];
    }
    back
}

/// The lecture layer with nalgebra: `x` as a `DMatrix` of one row per
/// channel, [`im2col`], then `Z = W · cols` with `gemm` onto the bias
/// broadcast over the columns; one row per filter, one column per
/// position.
#[must_use]
pub fn nalgebra_conv(
    weight: &DMatrix<f32>,
    bias: &DVector<f32>,
    x: &DMatrix<f32>,
    size: (usize, usize),
    kernel: usize,
    padding: usize,
) -> DMatrix<f32> {
    let cols = im2col(x, size, kernel, padding);
    let mut z = DMatrix::<f32>::zeros(weight.nrows(), cols.ncols());
    for mut column in z.column_iter_mut() {
        column.copy_from(bias);
    }
    z.gemm(1.0, weight, &cols, 1.0);
    z
}

/// [`MnistCnn`] with nalgebra's dynamically sized matrices, the
/// straightforward way, for a batch (one sample per column): each
/// convolution is [`im2col`] and one `gemm` (8 × 9 by 9 × 784·B, then
/// 16 × 72 by 72 × 196·B); ReLU with `map`, max pooling, flattening and
/// their adjoints with indexed loops; the weight gradients `gemm`s against
/// `.transpose()` copies with `β = 0` (no zeroing); backpropagation with
/// `tr_mul`; intermediates allocated on every step; the update with
/// `zip_apply`.
#[derive(Clone, Debug)]
pub struct GemmCnn {
    /// `8 × 9`.
    pub w1: DMatrix<f32>,
    /// 8.
    pub b1: DVector<f32>,
    /// `16 × 72`.
    pub w2: DMatrix<f32>,
    /// 16.
    pub b2: DVector<f32>,
    /// `10 × 784`.
    pub w3: DMatrix<f32>,
    /// 10.
    pub b3: DVector<f32>,
}

/// What [`GemmCnn`]'s forward pass keeps for backpropagation.
struct GemmCnnTrace {
    cols1: DMatrix<f32>,
    z1: DMatrix<f32>,
    argmax1: Vec<usize>,
    cols2: DMatrix<f32>,
    z2: DMatrix<f32>,
    argmax2: Vec<usize>,
    flat: DMatrix<f32>,
    z3: DMatrix<f32>,
}

/// `Z = W · cols + b` (the bias broadcast over the columns).
fn affine(w: &DMatrix<f32>, b: &DVector<f32>, cols: &DMatrix<f32>) -> DMatrix<f32> {
    let mut z = DMatrix::<f32>::zeros(w.nrows(), cols.ncols());
    for mut column in z.column_iter_mut() {
        column.copy_from(b);
    }
    z.gemm(1.0, w, cols, 1.0);
    z
}

fn relu(z: &DMatrix<f32>) -> DMatrix<f32> {
    z.map(|z| if z <= 0.0 { 0.0 } else { z })
}

fn relu_backward(delta: &mut DMatrix<f32>, z: &DMatrix<f32>) {
    delta.zip_apply(z, |d, z| {
        if z <= 0.0 {
            *d = 0.0;
        }
    });
}

impl GemmCnn {
    /// The twin of `network`.
    #[must_use]
    pub fn from_network(network: &MnistCnn) -> Self {
        Self {
            w1: DMatrix::from_column_slice(8, 9, network.conv1.weight.as_slice()),
            b1: DVector::from_column_slice(network.conv1.bias.as_slice()),
            w2: DMatrix::from_column_slice(16, 72, network.conv2.weight.as_slice()),
            b2: DVector::from_column_slice(network.conv2.bias.as_slice()),
            w3: DMatrix::from_column_slice(10, 784, network.output.weight.as_slice()),
            b3: DVector::from_column_slice(network.output.bias.as_slice()),
        }
    }

    /// Gradients of all zeros, of the same shapes.
    #[must_use]
    pub fn zero_gradients(&self) -> Self {
        let zeros = |m: &DMatrix<f32>| DMatrix::zeros(m.nrows(), m.ncols());
        Self {
            w1: zeros(&self.w1),
            b1: DVector::zeros(self.b1.len()),
            w2: zeros(&self.w2),
            b2: DVector::zeros(self.b2.len()),
            w3: zeros(&self.w3),
            b3: DVector::zeros(self.b3.len()),
        }
    }

    /// The forward pass of a batch `x` (784 × B), up to the output's
    /// pre-activation.
    fn trace(&self, x: &DMatrix<f32>) -> GemmCnnTrace {
        let batch = x.ncols();
        // One channel: the batch as one row of 784·B positions.
        let image = DMatrix::from_column_slice(1, 784 * batch, x.as_slice());
        let cols1 = im2col(&image, (28, 28), 3, 1);
        let z1 = affine(&self.w1, &self.b1, &cols1);
        let (p1, argmax1) = max_pool(&relu(&z1), (28, 28));
        let cols2 = im2col(&p1, (14, 14), 3, 1);
        let z2 = affine(&self.w2, &self.b2, &cols2);
        let (p2, argmax2) = max_pool(&relu(&z2), (14, 14));
        // Flatten: sample b's channel c, position q to row c·49 + q.
        let flat = DMatrix::from_fn(784, batch, |r, b| p2[(r / 49, b * 49 + r % 49)]);
        let z3 = affine(&self.w3, &self.b3, &flat);
        GemmCnnTrace {
            cols1,
            z1,
            argmax1,
            cols2,
            z2,
            argmax2,
            flat,
            z3,
        }
    }

    /// The class probabilities of a batch `x` (784 × B), one column per
    /// sample.
    #[must_use]
    pub fn forward(&self, x: &DMatrix<f32>) -> DMatrix<f32> {
        let mut z = self.trace(x).z3;
        for mut column in z.column_iter_mut() {
            let max = column.max();
            column.apply(|z| *z = (*z - max).exp());
            let sum = column.sum();
            column /= sum;
        }
        z
    }

    /// Writes the mean gradients of the cross-entropy of a batch (784 × B
    /// inputs, 10 × B targets) into `grads` and returns the mean loss.
    pub fn batch_gradients(&self, x: &DMatrix<f32>, y: &DMatrix<f32>, grads: &mut Self) -> f32 {
        let batch = x.ncols();
        let t = self.trace(x);
        let scale = 1.0 / batch as f32;
        let mut delta = DMatrix::<f32>::zeros(10, batch);
        let mut total = 0.0;
        for j in 0..batch {
            let z = t.z3.column(j);
            let max = z.max();
            let sum: f32 = z.iter().map(|&z| (z - max).exp()).sum();
            let (inv, lse) = (1.0 / sum, max + sum.ln());
            for i in 0..z.len() {
                let a = (z[i] - max).exp() * inv;
                delta[(i, j)] = (a - y[(i, j)]) * scale;
                total += y[(i, j)] * (lse - z[i]);
            }
        }

        grads.w3.gemm(1.0, &delta, &t.flat.transpose(), 0.0);
        grads.b3 = delta.column_sum();
        let d_flat = self.w3.tr_mul(&delta);
        let d_p2 = DMatrix::from_fn(16, 49 * batch, |c, col| {
            d_flat[(c * 49 + col % 49, col / 49)]
        });
        let mut d2 = unpool(&d_p2, &t.argmax2, 196 * batch);
        relu_backward(&mut d2, &t.z2);
        grads.w2.gemm(1.0, &d2, &t.cols2.transpose(), 0.0);
        grads.b2 = d2.column_sum();
        let d_cols2 = self.w2.tr_mul(&d2);
        let d_p1 = col2im(&d_cols2, 8, (14, 14), 3, 1);
        let mut d1 = unpool(&d_p1, &t.argmax1, 784 * batch);
        relu_backward(&mut d1, &t.z1);
        grads.w1.gemm(1.0, &d1, &t.cols1.transpose(), 0.0);
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
        self.w3.zip_apply(&grads.w3, update);
        self.b3.zip_apply(&grads.b3, update);
    }

    /// The largest difference between a parameter of `network` and the
    /// same parameter of `self`.
    #[must_use]
    pub fn parameter_difference(&self, network: &MnistCnn) -> f32 {
        let pairs: [(&[f32], &[f32]); 6] = [
            (self.w1.as_slice(), network.conv1.weight.as_slice()),
            (self.b1.as_slice(), network.conv1.bias.as_slice()),
            (self.w2.as_slice(), network.conv2.weight.as_slice()),
            (self.b2.as_slice(), network.conv2.bias.as_slice()),
            (self.w3.as_slice(), network.output.weight.as_slice()),
            (self.b3.as_slice(), network.output.bias.as_slice()),
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

/// Asserts that `ours` and `theirs` agree to [`TOLERANCE`].
fn assert_close(what: &str, ours: impl IntoIterator<Item = f32>, theirs: &[f32]) {
    let ours: Vec<f32> = ours.into_iter().collect();
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!((a - b).abs() <= TOLERANCE, "{what}: [{i}] {a} vs {b}");
    }
}

/// The lecture layer, its two baselines and one input.
#[derive(Clone, Debug)]
pub struct LectureCase {
    /// The staticnet network, `from_seed(1)`.
    pub net: Lecture,
    /// The hand-written twin.
    pub plain: PlainConv,
    /// The nalgebra twin's `10 × 75` weight.
    pub weight: DMatrix<f32>,
    /// The nalgebra twin's bias.
    pub bias: DVector<f32>,
    /// One input, values in `[−0.5, 0.5)`.
    pub x: SVector<f32, 3072>,
    /// The same input as a `3 × 1024` `DMatrix` (one row per channel).
    pub dynamic_x: DMatrix<f32>,
}

impl LectureCase {
    /// The layer and its input.
    #[must_use]
    pub fn new() -> Self {
        let net = Lecture::from_seed(1);
        let (w, b) = (net.conv.weight.as_slice(), net.conv.bias.as_slice());
        let plain = PlainConv::from_staticnet((3, 32, 32), 5, 2, w, b);
        let x = SVector::<f32, 3072>::from_fn(|i, _| ((i * 37) % 101) as f32 / 101.0 - 0.5);
        Self {
            weight: DMatrix::from_column_slice(10, 75, w),
            bias: DVector::from_column_slice(b),
            dynamic_x: DMatrix::from_row_slice(3, 1024, x.as_slice()),
            net,
            plain,
            x,
        }
    }

    /// The nalgebra twin's output for the input.
    #[must_use]
    pub fn nalgebra_forward(&self) -> DMatrix<f32> {
        nalgebra_conv(&self.weight, &self.bias, &self.dynamic_x, (32, 32), 5, 2)
    }

    /// Asserts that both baselines give staticnet's output to
    /// [`TOLERANCE`].
    ///
    /// # Panics
    ///
    /// If they differ by more.
    pub fn check(&self) {
        let theirs = self.net.forward(&self.x);
        let mut out = vec![0.0; 10 * 1024];
        self.plain
            .forward(self.x.as_slice(), &mut self.plain.scratch(), &mut out);
        assert_close("lecture (hand-written)", out, theirs.as_slice());
        // One row per filter: transposed to staticnet's `o·1024 + q`.
        let z = self.nalgebra_forward();
        assert_close(
            "lecture (nalgebra)",
            z.transpose().iter().copied(),
            theirs.as_slice(),
        );
    }
}

impl Default for LectureCase {
    fn default() -> Self {
        Self::new()
    }
}

/// A batch of the CNN as staticnet takes it: one sample per column.
pub type CnnBatch = (OMatrix<f32, Const<784>, Dyn>, OMatrix<f32, Const<10>, Dyn>);

/// [`MnistCnn`], its baselines, some single images and [`BATCHES`] batches
/// of one size (inputs uniform in `[0, 1)`, one-hot targets), in both
/// forms.
#[derive(Clone, Debug)]
pub struct CnnCase {
    /// The staticnet network, `from_seed(1)`.
    pub net: MnistCnn,
    /// The hand-written twin (inference only).
    pub plain: PlainCnn,
    /// The nalgebra twin.
    pub gemm: GemmCnn,
    /// Single images.
    pub images: Vec<SVector<f32, 784>>,
    /// The batches for the network.
    pub batches: Vec<CnnBatch>,
    /// The same batches for the nalgebra twin.
    pub dynamic: Vec<(DMatrix<f32>, DMatrix<f32>)>,
}

impl CnnCase {
    /// Batches of `size` samples.
    #[must_use]
    pub fn new(size: usize) -> Self {
        let net = MnistCnn::from_seed(1);
        let mut rng = seeded_rng(13);
        let images = (0..8)
            .map(|_| SVector::from_fn(|_, _| rng.random_range(0.0..1.0)))
            .collect();
        let batches: Vec<CnnBatch> = (0..BATCHES)
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
            plain: PlainCnn::from_network(&net),
            gemm: GemmCnn::from_network(&net),
            net,
            images,
            batches,
            dynamic,
        }
    }

    /// Asserts that both twins give staticnet's outputs for every image
    /// (the nalgebra twin also for the first batch), and that the nalgebra
    /// twin gives the same loss and parameters over three minibatch SGD
    /// steps, to [`TOLERANCE`].
    ///
    /// # Panics
    ///
    /// If they differ by more.
    pub fn check(&self) {
        let mut scratch = self.plain.scratch();
        for x in &self.images {
            let theirs = self.net.forward(x);
            let ours = self.plain.forward(x.as_slice(), &mut scratch);
            assert_close(
                "cnn (hand-written)",
                ours.iter().copied(),
                theirs.as_slice(),
            );
            let ours = self
                .gemm
                .forward(&DMatrix::from_column_slice(784, 1, x.as_slice()));
            assert_close("cnn (nalgebra)", ours.iter().copied(), theirs.as_slice());
        }
        let (x, _) = &self.batches[0];
        let ours = self.gemm.forward(&self.dynamic[0].0);
        for (j, x) in x.column_iter().enumerate() {
            let theirs = self.net.forward(&x.into_owned());
            assert_close(
                "cnn batch (nalgebra)",
                ours.column(j).iter().copied(),
                theirs.as_slice(),
            );
        }

        let (mut net, mut gemm) = (self.net.clone(), self.gemm.clone());
        let mut grads = MnistCnn::zero_gradients();
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
                "cnn batch loss {ours} vs {theirs}"
            );
            let worst = gemm.parameter_difference(&net);
            assert!(worst <= TOLERANCE, "cnn parameters differ by {worst}");
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
    fn the_lecture_baselines_compute_what_staticnet_computes() {
        LectureCase::new().check();
    }

    #[test]
    fn the_cnn_baselines_compute_what_staticnet_computes() {
        CnnCase::new(8).check();
    }

    network! {
        /// Other kernel sizes and paddings, for the one-pass-per-tap path
        /// and the five-tap one.
        #[derive(Clone, Debug)]
        struct Odd {
            input: [2, 9, 7],
            wide: conv2d(3, kernel = 5, padding = 2),
            narrow: conv2d(4, kernel = 2, padding = 0),
        }
    }

    #[test]
    fn the_hand_written_convolution_handles_other_sizes() {
        let net = Odd::from_seed(3);
        let x = SVector::<f32, 126>::from_fn(|i, _| ((i * 13) % 17) as f32 / 17.0 - 0.4);
        let wide = PlainConv::from_staticnet(
            (2, 9, 7),
            5,
            2,
            net.wide.weight.as_slice(),
            net.wide.bias.as_slice(),
        );
        let narrow = PlainConv::from_staticnet(
            (3, 9, 7),
            2,
            0,
            net.narrow.weight.as_slice(),
            net.narrow.bias.as_slice(),
        );
        let mut middle = vec![0.0; 3 * 9 * 7];
        wide.forward(x.as_slice(), &mut wide.scratch(), &mut middle);
        let mut out = vec![0.0; 4 * 8 * 6];
        narrow.forward(&middle, &mut narrow.scratch(), &mut out);
        assert_close("odd sizes", out, net.forward(&x).as_slice());
    }
}
