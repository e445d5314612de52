//! A trainer: epochs of online, minibatch or full-batch gradient descent
//! with seeded shuffling, validation, early stopping, learning-rate
//! schedules, gradient clipping, metrics and a history of every epoch.

use std::time::Instant;

use nalgebra::{Const, Dyn, OMatrix, SVector};
use rand::seq::SliceRandom;

use crate::data::Dataset;
use crate::loss::Loss;
use crate::metrics::{ConfusionMatrix, predicted_class, r_squared, rmse, to_f64};
use crate::network::{Network, Parameters};
use crate::optim::{Optimizer, clip_by_global_norm, clip_by_value, global_norm};
use crate::schedule::Schedule;
use crate::{Error, Result, Scalar};

/// Writes a checkpoint after an epoch.
type SaveCheckpoint<'a, N, T> = &'a mut dyn FnMut(&N, &TrainingState<T>) -> Result<()>;

/// What a checkpoint holds besides the network.
#[cfg(feature = "safetensors")]
use crate::checkpoint::TrainingState;
#[cfg(not(feature = "safetensors"))]
#[allow(dead_code)] // only checkpoints read all of it
struct TrainingState<T> {
    epoch: usize,
    learning_rate: T,
    optimizer: crate::optim::OptimizerState<T>,
    schedule: Vec<f64>,
    best: Option<(f64, usize, Vec<T>)>,
    stopped_early: bool,
    history: Vec<EpochRecord>,
}

/// How many samples each optimizer step sees.
///
/// ```
/// use staticnet::train::{Batching, Trainer};
/// use staticnet::prelude::*;
///
/// let trainer = Trainer::new(Sgd::new(0.1_f32), SquaredError).batching(Batching::Online);
/// # let _ = trainer;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Batching {
    /// One sample per step (online, or stochastic, gradient descent).
    Online,
    /// `n` samples per step; the last batch of an epoch may be smaller.
    MiniBatch(usize),
    /// The whole training set per step (batch gradient descent).
    FullBatch,
}

/// Gradient clipping applied before every optimizer step.
///
/// ```
/// use staticnet::prelude::*;
///
/// let trainer = Trainer::new(Sgd::new(0.1_f32), SquaredError).clip(Clip::Value(0.5));
/// # let _ = trainer;
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Scale all gradients down when their global L2 norm exceeds this.
    GlobalNorm(f64),
    /// Clamp every gradient component to `[−v, v]`.
    Value(f64),
}

/// How much the trainer prints.
///
/// ```
/// use staticnet::prelude::*;
///
/// // a progress bar on a terminal, one line per epoch when piped
/// let trainer = Trainer::new(Sgd::new(0.1_f32), SquaredError).progress(Progress::Auto);
/// # let _ = trainer;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Nothing.
    Silent,
    /// One line per epoch.
    Lines,
    /// A progress bar on a terminal (with the `progress` feature), one line
    /// per epoch otherwise.
    Auto,
}

/// What one epoch reached.
///
/// ```
/// # use staticnet::prelude::*;
/// # use staticnet::data::Dataset;
/// # use nalgebra::{Const, Dyn, OMatrix};
/// # network! { struct Line<f64> { input: 1, out: dense(1) } }
/// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
/// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
/// let history = Trainer::new(Sgd::new(0.1), SquaredError).epochs(2).fit(&mut Line::zeros(), &data)?;
/// let first = &history.epochs[0];
/// assert_eq!((first.epoch, first.learning_rate), (1, 0.1));
/// assert!(first.validation_loss.is_none() && first.train_accuracy.is_none());
/// # Ok::<(), staticnet::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct EpochRecord {
    /// The epoch, counting from 1.
    pub epoch: usize,
    /// The learning rate used.
    pub learning_rate: f64,
    /// The mean training loss over the epoch's steps.
    pub train_loss: f64,
    /// Training accuracy after the epoch (classification sets only).
    pub train_accuracy: Option<f64>,
    /// Validation loss after the epoch.
    pub validation_loss: Option<f64>,
    /// Validation accuracy after the epoch (classification sets only).
    pub validation_accuracy: Option<f64>,
    /// Wall-clock seconds the epoch took.
    pub seconds: f64,
}

/// Every epoch of a training run.
///
/// ```
/// # use staticnet::prelude::*;
/// # use staticnet::data::Dataset;
/// # use nalgebra::{Const, Dyn, OMatrix};
/// # network! { struct Line<f64> { input: 1, out: dense(1) } }
/// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
/// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
/// let history = Trainer::new(Sgd::new(0.1), SquaredError).epochs(4).fit(&mut Line::zeros(), &data)?;
/// assert_eq!((history.epochs.len(), history.best_epoch, history.stopped_early), (4, 4, false));
/// # Ok::<(), staticnet::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The epochs in order.
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose weights the network holds at the end (the best
    /// validation loss when early stopping restored them, else the last).
    pub best_epoch: usize,
    /// Whether early stopping ended training before the last epoch.
    pub stopped_early: bool,
}

impl History {
    /// The record of the last epoch.
    ///
    /// ```
    /// assert!(staticnet::train::History::default().last().is_none());
    /// ```
    #[must_use]
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }
}

/// A network's loss and metrics on a data set, from [`evaluate`].
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::data::Dataset;
/// use nalgebra::{Const, Dyn, OMatrix};
///
/// network! { struct Net<f64> { input: 1, out: dense(2) -> softmax } }
/// let x = OMatrix::<f64, Const<1>, Dyn>::from_row_slice(&[-1.0, 1.0]);
/// let data = Dataset::classification(x, vec![0, 1]).unwrap();
/// let mut net = Net::zeros();
/// net.out.weight[(1, 0)] = 5.0; // class 1 for positive x
/// let e = staticnet::train::evaluate(&net, &data, CrossEntropy);
/// assert_eq!(e.accuracy(), Some(1.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The mean loss.
    pub loss: f64,
    /// For classification sets (with labels): the confusion matrix.
    pub confusion: Option<ConfusionMatrix>,
    /// Root mean squared error over all outputs.
    pub rmse: f64,
    /// The coefficient of determination over all outputs.
    pub r_squared: f64,
}

impl Evaluation {
    /// The accuracy, for classification sets (`None` without labels).
    ///
    /// ```
    /// let e = staticnet::train::Evaluation { loss: 0.0, confusion: None, rmse: 0.0, r_squared: 1.0 };
    /// assert_eq!(e.accuracy(), None);
    /// ```
    #[must_use]
    pub fn accuracy(&self) -> Option<f64> {
        self.confusion.as_ref().map(ConfusionMatrix::accuracy)
    }
}

/// Samples per forward pass when evaluating, to bound memory.
const EVALUATION_CHUNK: usize = 2048;

/// Copies the columns `indices` of a column-major matrix of `rows` rows
/// into `into`, which keeps its capacity from step to step.
fn gather<T: Copy>(into: &mut Vec<T>, data: &[T], rows: usize, indices: &[usize]) {
    into.clear();
    for &i in indices {
        into.extend_from_slice(&data[i * rows..(i + 1) * rows]);
    }
}

/// The loss and metrics of `network` on `data`, computed in batches.
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::data::Dataset;
/// use nalgebra::{Const, Dyn, OMatrix};
///
/// network! { struct Net<f64> { input: 1, out: dense(1) } }
/// let mut net = Net::zeros();
/// net.out.weight[0] = 2.0;
/// let x = OMatrix::<f64, Const<1>, Dyn>::from_row_slice(&[1.0, 2.0]);
/// let y = OMatrix::<f64, Const<1>, Dyn>::from_row_slice(&[2.0, 5.0]);
/// let data = Dataset::new(x, y).unwrap();
/// let e = staticnet::train::evaluate(&net, &data, SquaredError);
/// assert!((e.loss - 0.25).abs() < 1e-12); // ½ (0² + 1²) / 2
/// assert!((e.rmse - 0.5_f64.sqrt()).abs() < 1e-12);
/// ```
pub fn evaluate<N, L, T, const I: usize, const O: usize>(
    network: &N,
    data: &Dataset<T, I, O>,
    loss: L,
) -> Evaluation
where
    N: Network<I, O, Scalar = T>,
    L: Loss,
    T: Scalar,
{
    let n = data.len();
    let mut predictions = OMatrix::<T, Const<O>, Dyn>::zeros(n);
    let mut total = 0.0;
    for start in (0..n).step_by(EVALUATION_CHUNK) {
        let count = EVALUATION_CHUNK.min(n - start);
        let x = data.inputs.columns(start, count).into_owned();
        let out = network.forward_batch(&x);
        for j in 0..count {
            let y: SVector<T, O> = data.targets.column(start + j).into_owned();
            let a: SVector<T, O> = out.column(j).into_owned();
            total += to_f64(loss.loss(&a, &y));
        }
        predictions.columns_mut(start, count).copy_from(&out);
    }
    let confusion = data.labels.as_ref().map(|labels| {
        let mut m = ConfusionMatrix::new(O);
        for (j, truth) in labels.iter().enumerate() {
            m.add(*truth, predicted_class(predictions.column(j).as_slice()));
        }
        m
    });
    Evaluation {
        loss: if n == 0 { 0.0 } else { total / n as f64 },
        confusion,
        rmse: rmse(&predictions, &data.targets),
        r_squared: r_squared(&predictions, &data.targets),
    }
}

/// Trains networks: configure with the builder methods, then call
/// [`fit`](Trainer::fit) or [`fit_with_validation`](Trainer::fit_with_validation).
///
/// ```
/// use staticnet::prelude::*;
/// use staticnet::data::Dataset;
/// use staticnet::train::Trainer;
/// use nalgebra::{Const, Dyn, OMatrix};
///
/// network! { struct Line<f64> { input: 1, out: dense(1) } }
///
/// // y = 2x + 1
/// let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(64, |_, j| j as f64 / 32.0 - 1.0);
/// let y = x.map(|v| 2.0 * v + 1.0);
/// let data = Dataset::new(x, y).unwrap();
/// let mut net = Line::zeros();
/// let history = Trainer::new(Sgd::new(0.1), SquaredError)
///     .epochs(50)
///     .batch_size(8)
///     .seed(1)
///     .fit(&mut net, &data)
///     .unwrap();
/// assert!(history.last().unwrap().train_loss < 1e-6);
/// assert!((net.out.weight[0] - 2.0).abs() < 1e-3);
/// ```
pub struct Trainer<Opt, L> {
    optimizer: Opt,
    loss: L,
    epochs: usize,
    batching: Batching,
    seed: u64,
    shuffle: bool,
    schedule: Option<Box<dyn Schedule>>,
    validation_split: Option<f64>,
    patience: Option<usize>,
    clip: Option<Clip>,
    progress: Progress,
    train_metrics: bool,
    threads: usize,
}

impl<Opt, L: Loss + Send> Trainer<Opt, L> {
    /// A trainer with `optimizer` and `loss`: 10 epochs of minibatches of
    /// 32, shuffled from seed 0, silent.
    ///
    /// ```
    /// use staticnet::prelude::*;
    ///
    /// let trainer = Trainer::new(Adam::new(1e-3_f32), CrossEntropy).epochs(20);
    /// # let _ = trainer;
    /// ```
    #[must_use]
    pub fn new(optimizer: Opt, loss: L) -> Self {
        Self {
            optimizer,
            loss,
            epochs: 10,
            batching: Batching::MiniBatch(32),
            seed: 0,
            shuffle: true,
            schedule: None,
            validation_split: None,
            patience: None,
            clip: None,
            progress: Progress::Silent,
            train_metrics: true,
            threads: 1,
        }
    }

    /// The number of threads a minibatch may be split across (default 1;
    /// 0 counts as 1). Parts are at least
    /// [`BatchRunner::MIN_COLUMNS`](crate::batch::BatchRunner::MIN_COLUMNS)
    /// samples, so smaller batches stay on one thread. With more than one
    /// part the gradients are summed in a different order, so the last bits
    /// of the weights depend on the number of threads (never on the
    /// machine).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(256, |_, j| j as f64 / 128.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// let trainer = || Trainer::new(Sgd::new(0.5), SquaredError).batch_size(256).epochs(100);
    /// let (mut one, mut two) = (Line::zeros(), Line::zeros());
    /// trainer().fit(&mut one, &data)?;
    /// trainer().threads(2).fit(&mut two, &data)?;
    /// assert!((one.out.weight[0] - two.out.weight[0]).abs() < 1e-12);
    /// assert!((two.out.weight[0] - 3.0).abs() < 1e-3);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The number of passes over the training set.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// # let mut net = Line::zeros();
    /// let history = Trainer::new(Sgd::new(0.1), SquaredError).epochs(3).fit(&mut net, &data)?;
    /// assert_eq!(history.epochs.len(), 3);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Minibatches of `size` samples (1 is online learning).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// # let mut net = Line::zeros();
    /// // 20 samples in batches of 8: steps of 8, 8 and 4 samples
    /// let history = Trainer::new(Sgd::new(0.1), SquaredError).batch_size(8).epochs(1).fit(&mut net, &data)?;
    /// assert_eq!(history.epochs.len(), 1);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batching = if size <= 1 {
            Batching::Online
        } else {
            Batching::MiniBatch(size)
        };
        self
    }

    /// Online, minibatch or full-batch updates.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// # let mut net = Line::zeros();
    /// let history = Trainer::new(Sgd::new(0.5), SquaredError)
    ///     .batching(Batching::FullBatch)
    ///     .epochs(200)
    ///     .fit(&mut net, &data)?;
    /// assert!(history.last().unwrap().train_loss < 1e-6);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn batching(mut self, batching: Batching) -> Self {
        self.batching = batching;
        self
    }

    /// The seed for shuffling and for splitting off validation data: the
    /// same seed gives the same training, bit for bit.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// # let mut net = Line::zeros();
    /// let mut other = Line::zeros();
    /// Trainer::new(Sgd::new(0.1), SquaredError).seed(5).fit(&mut net, &data)?;
    /// Trainer::new(Sgd::new(0.1), SquaredError).seed(5).fit(&mut other, &data)?;
    /// assert_eq!(net.out.weight[0].to_bits(), other.out.weight[0].to_bits());
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Whether to shuffle the training set every epoch (on by default).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// # let mut net = Line::zeros();
    /// let history = Trainer::new(Sgd::new(0.1), SquaredError).shuffle(false).fit(&mut net, &data)?;
    /// assert_eq!(history.epochs.len(), 10);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// A learning-rate schedule, asked at the start of every epoch; it
    /// overrides the optimizer's own rate.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// # let mut net = Line::zeros();
    /// use staticnet::schedule::InverseTimeDecay;
    ///
    /// let history = Trainer::new(Sgd::new(0.1), SquaredError)
    ///     .epochs(3)
    ///     .schedule(InverseTimeDecay::new(0.1, 1.0))
    ///     .fit(&mut net, &data)?;
    /// let rates: Vec<f64> = history.epochs.iter().map(|e| e.learning_rate).collect();
    /// assert_eq!(rates, [0.1, 0.05, 0.1 / 3.0]);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn schedule(mut self, schedule: impl Schedule + 'static) -> Self {
        self.schedule = Some(Box::new(schedule));
        self
    }

    /// Splits this fraction off the training set (stratified when it has
    /// labels) for validation, when [`fit`](Self::fit) is given no
    /// validation set.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// # let mut net = Line::zeros();
    /// let history = Trainer::new(Sgd::new(0.1), SquaredError).validation_split(0.25).fit(&mut net, &data)?;
    /// assert!(history.epochs.iter().all(|e| e.validation_loss.is_some()));
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation_split = Some(fraction);
        self
    }

    /// Stops when the validation loss (the training loss without validation
    /// data) has not improved for `patience` epochs, and restores the
    /// weights of the best epoch.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// # let mut net = Line::zeros();
    /// let history = Trainer::new(Sgd::new(0.1), SquaredError)
    ///     .epochs(10_000)
    ///     .early_stopping(3)
    ///     .fit(&mut net, &data)?;
    /// assert!(history.stopped_early);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn early_stopping(mut self, patience: usize) -> Self {
        self.patience = Some(patience);
        self
    }

    /// Clips gradients before every step.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// # let mut net = Line::zeros();
    /// let history = Trainer::new(Sgd::new(0.1), SquaredError).clip(Clip::GlobalNorm(1.0)).fit(&mut net, &data)?;
    /// assert!(history.last().unwrap().train_loss.is_finite());
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn clip(mut self, clip: Clip) -> Self {
        self.clip = Some(clip);
        self
    }

    /// How much to print.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// # let mut net = Line::zeros();
    /// // one line per epoch on standard error
    /// Trainer::new(Sgd::new(0.1), SquaredError).epochs(2).progress(Progress::Lines).fit(&mut net, &data)?;
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Whether to evaluate accuracy on the training set after each epoch
    /// (a forward pass over it; on by default).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// # let mut net = Line::zeros();
    /// let history = Trainer::new(Sgd::new(0.1), SquaredError).train_metrics(false).fit(&mut net, &data)?;
    /// assert_eq!(history.epochs[0].train_accuracy, None);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn train_metrics(mut self, on: bool) -> Self {
        self.train_metrics = on;
        self
    }

    /// The optimizer, with its state.
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// # use staticnet::data::Dataset;
    /// # use nalgebra::{Const, Dyn, OMatrix};
    /// # network! { struct Line<f64> { input: 1, out: dense(1) } }
    /// # let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// # let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v)).unwrap();
    /// # let mut net = Line::zeros();
    /// let trainer = Trainer::new(Adam::new(0.001_f64), SquaredError);
    /// assert_eq!(trainer.optimizer().learning_rate, 0.001);
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[must_use]
    pub fn optimizer(&self) -> &Opt {
        &self.optimizer
    }

    /// Trains `network` on `train`, with validation data split off when
    /// [`validation_split`](Self::validation_split) was set.
    ///
    /// # Errors
    ///
    /// [`Error::NonFinite`] when a loss is NaN or infinite (the network
    /// keeps the weights of the last finite step), [`Error::Invalid`] for an
    /// empty training set or a bad validation fraction.
    pub fn fit<N, T, const I: usize, const O: usize>(
        &mut self,
        network: &mut N,
        train: &Dataset<T, I, O>,
    ) -> Result<History>
    where
        N: Network<I, O, Scalar = T>,
        N: crate::batch::BatchNetwork + Sync,
        N::Gradients: Send,
        T: Scalar,
        Opt: Optimizer<T>,
    {
        match self.validation_split {
            Some(fraction) => {
                let (fit_set, validation) = if train.labels.is_some() {
                    train.stratified_split(1.0 - fraction, self.seed)?
                } else {
                    train.split(1.0 - fraction, self.seed)?
                };
                self.run(network, &fit_set, Some(&validation), None, None)
            }
            None => self.run(network, train, None, None, None),
        }
    }

    /// As [`fit`](Self::fit), with a checkpoint at `path` written
    /// (atomically) after every epoch; when `path` already holds a
    /// checkpoint, training resumes from it: the network, the optimizer's
    /// state, the schedule's state, early stopping's best epoch and the
    /// history are restored, and the run continues with the next epoch
    /// exactly as if it had not stopped (same shuffles, same steps, same
    /// weights bit for bit), up to [`epochs`](Self::epochs) in all. A
    /// checkpoint of a run that is already complete returns its history and
    /// changes nothing. Resuming assumes the same trainer settings (seed,
    /// batching, loss, optimizer hyper-parameters) as the run that wrote the
    /// checkpoint; the optimizer's kind and the network's architecture are
    /// checked.
    ///
    /// The checkpoint also loads as a network alone with
    /// [`Weights::load`](crate::weights::Weights::load). Feature
    /// `safetensors`; `f32` and `f64` networks.
    ///
    /// # Errors
    ///
    /// As [`fit`](Self::fit); [`Error::Io`] when the checkpoint cannot be
    /// written or read, [`Error::Format`] or [`Error::Mismatch`] when the
    /// file at `path` is not a checkpoint of this network and optimizer (the
    /// network and the trainer are unchanged then).
    ///
    /// ```
    /// use staticnet::prelude::*;
    /// use staticnet::data::Dataset;
    /// use nalgebra::{Const, Dyn, OMatrix};
    ///
    /// network! { #[derive(Debug, PartialEq)] struct Line<f64> { input: 1, out: dense(1) } }
    ///
    /// let x = OMatrix::<f64, Const<1>, Dyn>::from_fn(20, |_, j| j as f64 / 10.0 - 1.0);
    /// let data = Dataset::new(x.clone(), x.map(|v| 3.0 * v + 1.0))?;
    /// let path = std::env::temp_dir().join("staticnet-doc-checkpoint.safetensors");
    /// # std::fs::remove_file(&path).ok();
    ///
    /// // four epochs straight
    /// let mut straight = Line::zeros();
    /// Trainer::new(Adam::new(0.05), SquaredError).epochs(4).fit(&mut straight, &data)?;
    ///
    /// // two epochs, stop, then resume for the other two
    /// let mut first = Line::zeros();
    /// Trainer::new(Adam::new(0.05), SquaredError).epochs(2).fit_with_checkpoints(&mut first, &data, &path)?;
    /// let mut resumed = Line::zeros();
    /// let history = Trainer::new(Adam::new(0.05), SquaredError)
    ///     .epochs(4)
    ///     .fit_with_checkpoints(&mut resumed, &data, &path)?;
    /// assert_eq!(history.epochs.len(), 4);
    /// assert_eq!(resumed, straight);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), staticnet::Error>(())
    /// ```
    #[cfg(feature = "safetensors")]
    pub fn fit_with_checkpoints<N, T, const I: usize, const O: usize>(
        &mut self,
        network: &mut N,
        train: &Dataset<T, I, O>,
        path: impl AsRef<std::path::Path>,
    ) -> Result<History>
    where
        N: Network<I, O, Scalar = T>,
        N: crate::batch::BatchNetwork + Sync,
        N::Gradients: Send,
        T: crate::weights::Element,
        Opt: Optimizer<T>,
    {
        let path = path.as_ref();
        let resume = if path.exists() {
            let template = self.optimizer.state();
            let (restored, state) = crate::checkpoint::load::<N>(path, &template, self.epochs)?;
            // nothing is changed until everything has been read and checked
            if let Some(schedule) = self.schedule.as_mut() {
                schedule.restore_state(&state.schedule)?;
            } else if !state.schedule.is_empty() {
                return Err(Error::Invalid(format!(
                    "{}: the checkpoint holds a schedule's state, but this trainer has no schedule",
                    path.display()
                )));
            }
            self.optimizer.restore_state(state.optimizer.clone())?;
            self.optimizer.set_learning_rate(state.learning_rate);
            *network = restored;
            Some(state)
        } else {
            None
        };
        let mut save = |net: &N, state: &crate::checkpoint::TrainingState<T>| {
            crate::checkpoint::save(path, net, state)
        };
        match self.validation_split {
            Some(fraction) => {
                let (fit_set, validation) = if train.labels.is_some() {
                    train.stratified_split(1.0 - fraction, self.seed)?
                } else {
                    train.split(1.0 - fraction, self.seed)?
                };
                self.run(
                    network,
                    &fit_set,
                    Some(&validation),
                    resume,
                    Some(&mut save),
                )
            }
            None => self.run(network, train, None, resume, Some(&mut save)),
        }
    }

    /// Trains `network` on `train` and evaluates on `validation` after every
    /// epoch.
    ///
    /// # Errors
    ///
    /// As [`fit`](Self::fit).
    pub fn fit_with_validation<N, T, const I: usize, const O: usize>(
        &mut self,
        network: &mut N,
        train: &Dataset<T, I, O>,
        validation: &Dataset<T, I, O>,
    ) -> Result<History>
    where
        N: Network<I, O, Scalar = T>,
        N: crate::batch::BatchNetwork + Sync,
        N::Gradients: Send,
        T: Scalar,
        Opt: Optimizer<T>,
    {
        self.run(network, train, Some(validation), None, None)
    }

    fn run<N, T, const I: usize, const O: usize>(
        &mut self,
        network: &mut N,
        train: &Dataset<T, I, O>,
        validation: Option<&Dataset<T, I, O>>,
        resume: Option<TrainingState<T>>,
        mut save: Option<SaveCheckpoint<'_, N, T>>,
    ) -> Result<History>
    where
        N: Network<I, O, Scalar = T>,
        N: crate::batch::BatchNetwork + Sync,
        N::Gradients: Send,
        T: Scalar,
        Opt: Optimizer<T>,
    {
        let n = train.len();
        if n == 0 {
            return Err(Error::Invalid("the training set is empty".into()));
        }
        if let Some(Clip::GlobalNorm(limit) | Clip::Value(limit)) = self.clip
            && !(limit.is_finite() && limit > 0.0)
        {
            return Err(Error::Invalid(format!(
                "a gradient clipping limit must be a positive finite number, found {limit}"
            )));
        }
        let batch = match self.batching {
            Batching::Online => 1,
            Batching::MiniBatch(size) => size.max(1),
            Batching::FullBatch => n,
        };
        let steps = n.div_ceil(batch);
        let mut order: Vec<usize> = (0..n).collect();
        let mut history = History::default();
        // the best epoch's weights, flat in visiting order (any network can
        // be snapshot this way, without requiring `Clone`)
        let mut best: Option<(f64, usize, Vec<T>)> = None;
        let mut first = 1;
        if let Some(state) = resume {
            first = state.epoch + 1;
            history.epochs = state.history;
            history.best_epoch = state.epoch;
            history.stopped_early = state.stopped_early;
            best = state.best;
            if state.stopped_early {
                first = usize::MAX;
            }
        }
        let mut gradients = network.zero_gradients();
        let mut runner = crate::batch::BatchRunner::<N>::new(self.threads);
        let (mut batch_x, mut batch_y) = (Vec::new(), Vec::new());
        let mut reporter = Reporter::new(self.progress, self.epochs, steps);

        for epoch in first..=self.epochs {
            let started = Instant::now();
            if let Some(schedule) = self.schedule.as_mut() {
                let rate = schedule.rate(epoch - 1);
                self.optimizer
                    .set_learning_rate(crate::scalar::constant(rate));
            }
            let learning_rate = to_f64(self.optimizer.learning_rate());
            if self.shuffle {
                // each epoch's order depends on the seed and the epoch
                // alone, so a run resumed at any epoch shuffles as the
                // uninterrupted run did
                let mut rng = crate::init::seeded_rng(self.seed);
                rng.set_stream(epoch as u64);
                order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
                order.shuffle(&mut rng);
            }
            reporter.start_epoch(epoch);
            let mut loss_sum = 0.0;
            for (step, indices) in order.chunks(batch).enumerate() {
                gradients.set_zero();
                let loss = if let [i] = indices {
                    let (x, y) = train.sample(*i);
                    network.accumulate_gradients(&x, &y, self.loss, &mut gradients)
                } else {
                    // gathered into buffers kept across steps
                    gather(&mut batch_x, train.inputs.as_slice(), I, indices);
                    gather(&mut batch_y, train.targets.as_slice(), O, indices);
                    runner.accumulate_slices(network, &batch_x, &batch_y, self.loss, &mut gradients)
                };
                // nothing non-finite reaches the weights: they stay those of
                // the last good step
                let loss = to_f64(loss);
                let norm = to_f64(global_norm(&gradients));
                for (what, value) in [("loss", loss), ("gradient norm", norm)] {
                    if !value.is_finite() {
                        reporter.finish();
                        return Err(Error::NonFinite {
                            what,
                            epoch,
                            step: step + 1,
                            value,
                        });
                    }
                }
                match self.clip {
                    Some(Clip::GlobalNorm(max)) => {
                        clip_by_global_norm(&mut gradients, crate::scalar::constant(max));
                    }
                    Some(Clip::Value(limit)) => {
                        clip_by_value(&mut gradients, crate::scalar::constant(limit));
                    }
                    None => {}
                }
                self.optimizer.step(network, &gradients);
                loss_sum += loss;
                reporter.step(loss_sum / (step + 1) as f64);
            }
            let train_loss = loss_sum / steps as f64;
            let train_accuracy = if self.train_metrics && train.labels.is_some() {
                evaluate(network, train, self.loss).accuracy()
            } else {
                None
            };
            let evaluation = validation.map(|v| evaluate(network, v, self.loss));
            let record = EpochRecord {
                epoch,
                learning_rate,
                train_loss,
                train_accuracy,
                validation_loss: evaluation.as_ref().map(|e| e.loss),
                validation_accuracy: evaluation.as_ref().and_then(Evaluation::accuracy),
                seconds: started.elapsed().as_secs_f64(),
            };
            reporter.end_epoch(&record);
            let monitored = record.validation_loss.unwrap_or(train_loss);
            if let Some(schedule) = self.schedule.as_mut() {
                schedule.observe(monitored);
            }
            history.epochs.push(record);
            history.best_epoch = epoch;
            if let Some(patience) = self.patience {
                match &best {
                    Some((loss, _, _)) if monitored >= *loss => {}
                    _ => best = Some((monitored, epoch, snapshot(network))),
                }
                let best_epoch = best.as_ref().map_or(epoch, |b| b.1);
                if epoch - best_epoch >= patience && epoch < self.epochs {
                    history.stopped_early = true;
                }
            }
            if let Some(save) = save.as_mut() {
                let state = TrainingState {
                    epoch,
                    learning_rate: self.optimizer.learning_rate(),
                    optimizer: self.optimizer.state(),
                    schedule: self
                        .schedule
                        .as_ref()
                        .map(|s| s.state())
                        .unwrap_or_default(),
                    best: best.clone(),
                    stopped_early: history.stopped_early,
                    history: history.epochs.clone(),
                };
                if let Err(e) = save(network, &state) {
                    reporter.finish();
                    return Err(e);
                }
            }
            if history.stopped_early {
                break;
            }
        }
        reporter.finish();
        if let Some((_, epoch, weights)) = best {
            restore(network, &weights);
            history.best_epoch = epoch;
        }
        Ok(history)
    }
}

/// Every parameter of `network`, flat in visiting order.
fn snapshot<P: Parameters>(network: &P) -> Vec<P::Scalar> {
    let mut values = Vec::with_capacity(P::PARAMETER_COUNT);
    network.for_each_parameter(|_, tensor| values.extend_from_slice(tensor));
    values
}

/// Puts back what [`snapshot`] took.
fn restore<P: Parameters>(network: &mut P, values: &[P::Scalar]) {
    let mut offset = 0;
    network.for_each_parameter_mut(|_, tensor| {
        tensor.copy_from_slice(&values[offset..offset + tensor.len()]);
        offset += tensor.len();
    });
}

/// Prints progress: a bar on a terminal with the `progress` feature, lines
/// otherwise.
struct Reporter {
    mode: Progress,
    epochs: usize,
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
    #[cfg(feature = "progress")]
    steps: usize,
}

impl Reporter {
    fn new(mode: Progress, epochs: usize, steps: usize) -> Self {
        #[cfg(not(feature = "progress"))]
        let _ = steps;
        Self {
            mode,
            epochs,
            #[cfg(feature = "progress")]
            bar: None,
            #[cfg(feature = "progress")]
            steps,
        }
    }

    #[cfg(feature = "progress")]
    fn wants_bar(&self) -> bool {
        use std::io::IsTerminal;
        self.mode == Progress::Auto && std::io::stderr().is_terminal()
    }

    fn start_epoch(&mut self, epoch: usize) {
        let _ = epoch;
        #[cfg(feature = "progress")]
        if self.wants_bar() {
            let bar = indicatif::ProgressBar::new(self.steps as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(format!("epoch {epoch}/{}", self.epochs));
            self.bar = Some(bar);
        }
    }

    fn step(&mut self, running_loss: f64) {
        let _ = running_loss;
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(format!("loss {running_loss:.4}"));
        }
    }

    fn end_epoch(&mut self, record: &EpochRecord) {
        #[cfg(feature = "progress")]
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.mode == Progress::Silent {
            return;
        }
        let mut line = format!(
            "epoch {}/{}: loss {:.4}",
            record.epoch, self.epochs, record.train_loss
        );
        if let Some(a) = record.train_accuracy {
            line.push_str(&format!(", accuracy {:.2}%", 100.0 * a));
        }
        if let Some(l) = record.validation_loss {
            line.push_str(&format!(", validation loss {l:.4}"));
        }
        if let Some(a) = record.validation_accuracy {
            line.push_str(&format!(", validation accuracy {:.2}%", 100.0 * a));
        }
        line.push_str(&format!(
            ", learning rate {:.3e}, {:.2} s",
            record.learning_rate, record.seconds
        ));
        eprintln!("{line}");
    }

    fn finish(&mut self) {
        #[cfg(feature = "progress")]
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
