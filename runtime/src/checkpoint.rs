//! Checkpoints of a training run: the network, the optimizer's state, the
//! schedule's state, early stopping's best epoch and the history so far, in
//! one safetensors file, so that a run resumed from it continues exactly as
//! if it had not stopped. Written and read by
//! [`Trainer::checkpoint`](crate::train::Trainer::checkpoint) and
//! [`Trainer::resume`](crate::train::Trainer::resume).
//!
//! Layout: the network's tensors under their usual names (so a checkpoint
//! loads as a network with [`Weights::load`](crate::weights::Weights::load)),
//! `optimizer.<vector>` (flat, one value per parameter in visiting order),
//! `optimizer.learning_rate`, `checkpoint.schedule`, `checkpoint.history`
//! (`F64 [epochs, 7]`: epoch, learning rate, training loss, training
//! accuracy, validation loss, validation accuracy, seconds; NaN for none),
//! `best.parameters` when early stopping keeps a best epoch, and the epoch,
//! optimizer kind and step count in the metadata.

use std::path::Path;

use safetensors::Dtype;

use crate::network::Parameters;
use crate::optim::OptimizerState;
use crate::train::EpochRecord;
use crate::weights::{self, Element, File, Tensor};
use crate::{Error, Result};

/// The metadata key that marks a file as a checkpoint; its value is the
/// number of epochs done.
pub(crate) const EPOCH_KEY: &str = "staticnet.checkpoint.epoch";
const OPTIMIZER_KEY: &str = "staticnet.checkpoint.optimizer";
const STEPS_KEY: &str = "staticnet.checkpoint.optimizer_steps";
const BEST_KEY: &str = "staticnet.checkpoint.best";
const STOPPED_KEY: &str = "staticnet.checkpoint.stopped_early";
const HISTORY_COLUMNS: usize = 7;

/// Whether a tensor name belongs to a checkpoint's training state rather
/// than to the network.
pub(crate) fn is_training_state(name: &str) -> bool {
    ["optimizer.", "checkpoint.", "best."]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// Everything besides the network that a resumed run needs.
pub(crate) struct TrainingState<T> {
    /// Epochs done.
    pub(crate) epoch: usize,
    pub(crate) learning_rate: T,
    pub(crate) optimizer: OptimizerState<T>,
    pub(crate) schedule: Vec<f64>,
    /// Early stopping's best: monitored loss, epoch, flat parameters.
    pub(crate) best: Option<(f64, usize, Vec<T>)>,
    pub(crate) stopped_early: bool,
    pub(crate) history: Vec<EpochRecord>,
}

fn vector<T: Element>(values: &[T]) -> Tensor {
    let mut bytes = Vec::with_capacity(values.len() * T::BYTES);
    values.iter().for_each(|v| v.write_le(&mut bytes));
    Tensor {
        dtype: T::DTYPE,
        shape: vec![values.len()],
        bytes,
    }
}

fn optional(value: Option<f64>) -> f64 {
    value.unwrap_or(f64::NAN)
}

#[allow(clippy::cast_precision_loss)] // epochs are far below 2^53
fn history_tensor(history: &[EpochRecord]) -> Tensor {
    let mut bytes = Vec::with_capacity(history.len() * HISTORY_COLUMNS * 8);
    for r in history {
        for v in [
            r.epoch as f64,
            r.learning_rate,
            r.train_loss,
            optional(r.train_accuracy),
            optional(r.validation_loss),
            optional(r.validation_accuracy),
            r.seconds,
        ] {
            v.write_le(&mut bytes);
        }
    }
    Tensor {
        dtype: Dtype::F64,
        shape: vec![history.len(), HISTORY_COLUMNS],
        bytes,
    }
}

/// Writes `network` and `state` to `path`, atomically.
pub(crate) fn save<N>(path: &Path, network: &N, state: &TrainingState<N::Scalar>) -> Result<()>
where
    N: Parameters,
    N::Scalar: Element,
{
    let mut tensors = weights::tensors_of(network, &[]);
    for (name, values) in &state.optimizer.vectors {
        tensors.push((format!("optimizer.{name}"), vector(values)));
    }
    tensors.push((
        "optimizer.learning_rate".into(),
        vector(&[state.learning_rate]),
    ));
    tensors.push(("checkpoint.schedule".into(), vector(&state.schedule)));
    tensors.push(("checkpoint.history".into(), history_tensor(&state.history)));
    let mut metadata = weights::metadata_of::<N>();
    metadata.push((EPOCH_KEY.into(), state.epoch.to_string()));
    metadata.push((OPTIMIZER_KEY.into(), state.optimizer.kind.into()));
    metadata.push((STEPS_KEY.into(), state.optimizer.steps.to_string()));
    metadata.push((STOPPED_KEY.into(), state.stopped_early.to_string()));
    if let Some((loss, epoch, parameters)) = &state.best {
        // `{:?}` of an f64 reads back to the same bits
        metadata.push((BEST_KEY.into(), format!("{loss:?} {epoch}")));
        tensors.push(("best.parameters".into(), vector(parameters)));
    }
    let file = path.display().to_string();
    let bytes = weights::encode(&tensors, metadata, &file)?;
    crate::io::write_atomically(path, &bytes)
}

/// Reads the checkpoint at `path` for a network of type `N` trained by an
/// optimizer whose current state is `template` (its kind and vector names
/// are what the file must hold), allowing `epochs` records of history.
/// Nothing is changed: the caller applies the result.
pub(crate) fn load<N>(
    path: &Path,
    template: &OptimizerState<N::Scalar>,
    epochs: usize,
) -> Result<(N, TrainingState<N::Scalar>)>
where
    N: Parameters,
    N::Scalar: Element,
{
    let file_name = path.display().to_string();
    let per_parameter = N::Scalar::BYTES * N::PARAMETER_COUNT;
    let budget = per_parameter * (template.vectors.len() + 2)
        + epochs.saturating_add(1).saturating_mul(HISTORY_COLUMNS * 8)
        + 4096;
    let bytes = weights::read_bounded(path, budget)?;
    let file = File::parse(&bytes, &file_name)?;
    let mut problems = Vec::new();
    problems.extend(file.architecture_problem::<N>());
    file.check::<N>(&[], &is_training_state, &mut problems);
    let mismatch = |problems| Error::Mismatch {
        file: file_name.clone(),
        network: N::ARCHITECTURE.name,
        problems,
    };
    if !problems.is_empty() {
        return Err(mismatch(problems));
    }
    let meta = |key: &str| file.metadata.get(key).map(String::as_str);
    let Some(epoch) = meta(EPOCH_KEY) else {
        return Err(Error::Format {
            file: file_name,
            message: format!("not a checkpoint: the metadata has no `{EPOCH_KEY}`"),
        });
    };
    let mut number = |key: &str, text: Option<&str>| -> Option<u64> {
        let parsed = text.and_then(|t| t.parse().ok());
        if parsed.is_none() {
            problems.push(format!(
                "metadata `{key}`: expected a count, found {text:?}"
            ));
        }
        parsed
    };
    let epoch = number(EPOCH_KEY, Some(epoch)).unwrap_or(0);
    let steps = number(STEPS_KEY, meta(STEPS_KEY)).unwrap_or(0);
    let kind = meta(OPTIMIZER_KEY).unwrap_or("(none)");
    if kind != template.kind {
        problems.push(format!(
            "optimizer: the checkpoint was made with `{kind}`, this trainer uses `{}`",
            template.kind
        ));
    }
    let count = N::PARAMETER_COUNT;
    let mut read = |name: &str, lengths: &[usize]| -> Option<Vec<N::Scalar>> {
        read_vector::<N::Scalar>(&file, name, lengths, &mut problems)
    };
    let vectors: Vec<(&'static str, Vec<N::Scalar>)> = template
        .vectors
        .iter()
        .filter_map(|(name, _)| Some((*name, read(&format!("optimizer.{name}"), &[0, count])?)))
        .collect();
    let learning_rate = read("optimizer.learning_rate", &[1]).map(|v| v[0]);
    let best_parameters = meta(BEST_KEY).map(|_| read("best.parameters", &[count]));
    let schedule = read_f64s(&file, "checkpoint.schedule", None, &mut problems);
    let history = read_f64s(
        &file,
        "checkpoint.history",
        Some(HISTORY_COLUMNS),
        &mut problems,
    );
    let best = match (meta(BEST_KEY), best_parameters) {
        (Some(text), Some(Some(parameters))) => {
            let mut parts = text.split(' ');
            let loss = parts.next().and_then(|t| t.parse::<f64>().ok());
            let best_epoch = parts.next().and_then(|t| t.parse::<usize>().ok());
            match (loss, best_epoch) {
                (Some(loss), Some(e)) => Some((loss, e, parameters)),
                _ => {
                    problems.push(format!(
                        "metadata `{BEST_KEY}`: expected a loss and an epoch, found {text:?}"
                    ));
                    None
                }
            }
        }
        _ => None,
    };
    let stopped_early = meta(STOPPED_KEY) == Some("true");
    let vectors_lengths: Vec<usize> = vectors.iter().map(|(_, v)| v.len()).collect();
    if vectors_lengths.windows(2).any(|w| w[0] != w[1]) {
        problems.push(format!(
            "optimizer vectors differ in length: {vectors_lengths:?}"
        ));
    }
    if !problems.is_empty() {
        return Err(mismatch(problems));
    }
    let (Some(learning_rate), Some(schedule), Some(history)) = (learning_rate, schedule, history)
    else {
        return Err(mismatch(vec!["incomplete checkpoint".into()]));
    };
    let epoch = usize::try_from(epoch).unwrap_or(usize::MAX);
    let history = history_records(&history);
    if history.len() != epoch {
        return Err(mismatch(vec![format!(
            "checkpoint.history: {} epochs recorded, the metadata says {epoch} were done",
            history.len()
        )]));
    }
    let mut network = N::zeroed();
    file.read_into(&mut network, &[]);
    Ok((
        network,
        TrainingState {
            epoch,
            learning_rate,
            optimizer: OptimizerState {
                kind: template.kind,
                steps,
                vectors,
            },
            schedule,
            best,
            stopped_early,
            history,
        },
    ))
}

/// A 1-D tensor of `T` whose length is one of `lengths`.
fn read_vector<T: Element>(
    file: &File<'_>,
    name: &str,
    lengths: &[usize],
    problems: &mut Vec<String>,
) -> Option<Vec<T>> {
    let Ok(view) = file.tensors.tensor(name) else {
        problems.push(format!("{name}: missing"));
        return None;
    };
    match view.shape() {
        [n] if view.dtype() == T::DTYPE && lengths.contains(n) => {
            Some(view.data().chunks_exact(T::BYTES).map(T::read_le).collect())
        }
        shape => {
            problems.push(format!(
                "{name}: expected {} with length {}, found {} {shape:?}",
                T::DTYPE,
                lengths
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" or "),
                view.dtype()
            ));
            None
        }
    }
}

/// An F64 tensor, 1-D or with `columns` columns, flat.
fn read_f64s(
    file: &File<'_>,
    name: &str,
    columns: Option<usize>,
    problems: &mut Vec<String>,
) -> Option<Vec<f64>> {
    let Ok(view) = file.tensors.tensor(name) else {
        problems.push(format!("{name}: missing"));
        return None;
    };
    let fits = match (view.shape(), columns) {
        ([_], None) => true,
        ([_, c], Some(columns)) => *c == columns,
        _ => false,
    };
    if view.dtype() != Dtype::F64 || !fits {
        problems.push(format!(
            "{name}: expected F64 {}, found {} {:?}",
            columns.map_or("[n]".to_string(), |c| format!("[n, {c}]")),
            view.dtype(),
            view.shape()
        ));
        return None;
    }
    Some(view.data().chunks_exact(8).map(f64::read_le).collect())
}

fn present(value: f64) -> Option<f64> {
    (!value.is_nan()).then_some(value)
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn history_records(values: &[f64]) -> Vec<EpochRecord> {
    values
        .chunks_exact(HISTORY_COLUMNS)
        .map(|r| EpochRecord {
            epoch: r[0] as usize,
            learning_rate: r[1],
            train_loss: r[2],
            train_accuracy: present(r[3]),
            validation_loss: present(r[4]),
            validation_accuracy: present(r[5]),
            seconds: r[6],
        })
        .collect()
}
