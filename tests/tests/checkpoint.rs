//! Checkpoints: a run of N epochs and a run of N/2 epochs, stopped, then
//! resumed from its checkpoint for the other N/2, end with the same weights
//! bit for bit and the same history, for every optimizer, with shuffling,
//! minibatches, a validation split, a stateful schedule and early stopping.
//! A checkpoint that does not fit is refused and changes nothing.

use std::path::PathBuf;

use staticnet::data::{Dataset, Standardizer, sets};
use staticnet::optim::{Adagrad, AdamW, Momentum, Nesterov, RmsProp};
use staticnet::prelude::*;
use staticnet::schedule::ReduceOnPlateau;
use staticnet::train::{EpochRecord, History};
use staticnet::weights::Weights;

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct IrisNet {
        input: 4,
        hidden: dense(12) -> tanh,
        output: dense(3) -> softmax,
    }
}

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct OtherNet {
        input: 4,
        hidden: dense(12) -> relu,
        output: dense(3) -> softmax,
    }
}

fn iris() -> Dataset<f32, 4, 3> {
    let mut data =
        sets::iris::<f32>(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/iris.csv")).unwrap();
    let scaler = Standardizer::fit(&data.inputs).unwrap();
    scaler.transform(&mut data.inputs);
    data
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("staticnet-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::remove_file(&path).ok();
    path
}

/// Everything of a record but the wall-clock time.
fn without_time(history: &History) -> Vec<EpochRecord> {
    history
        .epochs
        .iter()
        .map(|r| EpochRecord {
            seconds: 0.0,
            ..r.clone()
        })
        .collect()
}

/// Trains `epochs` straight, then `half` + resume to `epochs`, and checks
/// that both end with the same network and history.
fn straight_equals_resumed<O: Optimizer<f32> + Clone>(name: &str, optimizer: O) {
    let data = iris();
    let trainer = |epochs: usize| {
        Trainer::new(optimizer.clone(), CrossEntropy)
            .epochs(epochs)
            .batch_size(16)
            .seed(3)
            .validation_split(0.2)
            .schedule(ReduceOnPlateau::new(0.02, 0.5, 1, 0.0, 1e-4))
    };
    let (epochs, half) = (10, 5);

    let mut straight = IrisNet::from_seed(1);
    let straight_history = trainer(epochs).fit(&mut straight, &data).unwrap();

    let path = temp(&format!("{name}.safetensors"));
    let mut first = IrisNet::from_seed(1);
    trainer(half)
        .fit_with_checkpoints(&mut first, &data, &path)
        .unwrap();
    assert_ne!(first, straight, "{name}: half the epochs differ from all");
    // a new process would start from fresh weights: they must be replaced
    let mut resumed = IrisNet::from_seed(99);
    let resumed_history = trainer(epochs)
        .fit_with_checkpoints(&mut resumed, &data, &path)
        .unwrap();
    assert_eq!(resumed, straight, "{name}: resumed weights differ");
    assert_eq!(
        without_time(&resumed_history),
        without_time(&straight_history),
        "{name}: histories differ"
    );
    assert_eq!(resumed_history.best_epoch, straight_history.best_epoch);
    // the reduce-on-plateau schedule did act: the rate changed
    let rates: Vec<f64> = straight_history
        .epochs
        .iter()
        .map(|e| e.learning_rate)
        .collect();
    assert!(rates.iter().any(|r| *r < 0.02), "{name}: {rates:?}");

    // the checkpoint loads as a network alone
    assert_eq!(IrisNet::load(&path).unwrap(), straight);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn resumed_training_equals_uninterrupted_training_for_every_optimizer() {
    straight_equals_resumed("sgd", Sgd::new(0.05));
    straight_equals_resumed("momentum", Momentum::new(0.05));
    straight_equals_resumed("nesterov", Nesterov::new(0.05));
    straight_equals_resumed("adagrad", Adagrad::new(0.05));
    straight_equals_resumed("rmsprop", RmsProp::new(0.01));
    straight_equals_resumed("adam", Adam::new(0.01));
    straight_equals_resumed("adamw", AdamW::new(0.01));
}

#[test]
fn early_stopping_state_survives_a_resume() {
    let data = iris();
    let trainer = |epochs: usize| {
        Trainer::new(Adam::new(0.2), CrossEntropy)
            .epochs(epochs)
            .batch_size(8)
            .validation_split(0.3)
            .early_stopping(3)
    };
    let mut straight = IrisNet::from_seed(2);
    let straight_history = trainer(60).fit(&mut straight, &data).unwrap();
    assert!(
        straight_history.stopped_early,
        "the test needs an early stop"
    );
    let stop = straight_history.epochs.len();

    let path = temp("early.safetensors");
    let mut first = IrisNet::from_seed(2);
    trainer(stop - 2)
        .fit_with_checkpoints(&mut first, &data, &path)
        .unwrap();
    let mut resumed = IrisNet::zeros();
    let history = trainer(60)
        .fit_with_checkpoints(&mut resumed, &data, &path)
        .unwrap();
    assert!(history.stopped_early);
    assert_eq!(history.best_epoch, straight_history.best_epoch);
    assert_eq!(
        resumed, straight,
        "best weights restored as in the straight run"
    );

    // resuming a finished run trains nothing and returns its history
    let mut again = IrisNet::zeros();
    let same = trainer(60)
        .fit_with_checkpoints(&mut again, &data, &path)
        .unwrap();
    assert_eq!(without_time(&same), without_time(&history));
    assert_eq!(again, straight);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_checkpoint_that_does_not_fit_changes_nothing() {
    let data = iris();
    let path = temp("mismatch.safetensors");
    let mut net = IrisNet::from_seed(4);
    Trainer::new(Adam::new(0.01), CrossEntropy)
        .epochs(2)
        .fit_with_checkpoints(&mut net, &data, &path)
        .unwrap();

    // another optimizer
    let mut untouched = IrisNet::from_seed(5);
    let error = Trainer::new(Momentum::new(0.01), CrossEntropy)
        .epochs(4)
        .fit_with_checkpoints(&mut untouched, &data, &path)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("made with `adam`, this trainer uses `momentum`"),
        "{error}"
    );
    assert_eq!(untouched, IrisNet::from_seed(5));

    // another architecture (same tensor shapes, other activation)
    let mut other = OtherNet::from_seed(5);
    let error = Trainer::new(Adam::new(0.01), CrossEntropy)
        .epochs(4)
        .fit_with_checkpoints(&mut other, &data, &path)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("saved from a different network, `IrisNet`"),
        "{error}"
    );
    assert_eq!(other, OtherNet::from_seed(5));

    // a damaged file
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() - 10);
    std::fs::write(&path, &bytes).unwrap();
    let error = Trainer::new(Adam::new(0.01), CrossEntropy)
        .epochs(4)
        .fit_with_checkpoints(&mut untouched, &data, &path)
        .unwrap_err()
        .to_string();
    assert!(error.contains("mismatch.safetensors"), "{error}");
    assert_eq!(untouched, IrisNet::from_seed(5));

    // a weights file is not a checkpoint
    IrisNet::from_seed(6).save(&path).unwrap();
    let error = Trainer::new(Adam::new(0.01), CrossEntropy)
        .epochs(4)
        .fit_with_checkpoints(&mut untouched, &data, &path)
        .unwrap_err()
        .to_string();
    assert!(error.contains("not a checkpoint"), "{error}");
    assert_eq!(untouched, IrisNet::from_seed(5));
    std::fs::remove_file(&path).unwrap();
}
