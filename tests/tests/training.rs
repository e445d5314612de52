//! The trainer: reproducible from a seed, all three batching modes learn,
//! validation and early stopping restore the best weights, schedules set
//! the learning rate, a NaN stops training with an error naming the epoch
//! and step, and a real data set is learned.

use nalgebra::{Const, Dyn, OMatrix};
use staticnet::data::{Dataset, Standardizer, sets};
use staticnet::prelude::*;
use staticnet::schedule::StepDecay;
use staticnet::train::evaluate;

network! {
    #[derive(Clone, Debug, PartialEq)]
    struct Regressor<f64> {
        input: 2,
        hidden: dense(8) -> tanh,
        output: dense(1),
    }
}

network! {
    struct IrisNet {
        input: 4,
        hidden: dense(16) -> tanh,
        output: dense(3) -> softmax,
    }
}

/// y = sin(x0) + x1² / 2 on a grid: smooth, learnable, not linear.
fn regression(n: usize) -> Dataset<f64, 2, 1> {
    let x = OMatrix::<f64, Const<2>, Dyn>::from_fn(n, |i, j| {
        let t = j as f64 / n as f64;
        if i == 0 {
            4.0 * t - 2.0
        } else {
            ((j * 7) % n) as f64 / n as f64 * 2.0 - 1.0
        }
    });
    let y =
        OMatrix::<f64, Const<1>, Dyn>::from_fn(n, |_, j| x[(0, j)].sin() + x[(1, j)].powi(2) / 2.0);
    Dataset::new(x, y).unwrap()
}

fn bits(net: &Regressor) -> Vec<u64> {
    let mut v = Vec::new();
    net.for_each_parameter(|_, p| v.extend(p.iter().map(|x| x.to_bits())));
    v
}

#[test]
fn same_seed_gives_bit_identical_training() {
    let data = regression(200);
    let train = |seed| {
        let mut net = Regressor::from_seed(1);
        Trainer::new(Adam::new(0.01), SquaredError)
            .epochs(5)
            .batch_size(16)
            .seed(seed)
            .validation_split(0.2)
            .fit(&mut net, &data)
            .unwrap();
        net
    };
    assert_eq!(bits(&train(9)), bits(&train(9)));
    assert_ne!(bits(&train(9)), bits(&train(10)), "the seed must matter");
}

#[test]
fn online_minibatch_and_full_batch_all_learn() {
    let data = regression(200);
    let before = evaluate(&Regressor::from_seed(2), &data, SquaredError).loss;
    for (batching, rate, epochs) in [
        (Batching::Online, 0.02, 30),
        (Batching::MiniBatch(20), 0.1, 200),
        (Batching::FullBatch, 0.3, 2000),
    ] {
        let mut net = Regressor::from_seed(2);
        let history = Trainer::new(Sgd::new(rate), SquaredError)
            .epochs(epochs)
            .batching(batching)
            .seed(3)
            .fit(&mut net, &data)
            .unwrap();
        let after = evaluate(&net, &data, SquaredError).loss;
        assert!(
            after < before / 20.0,
            "{batching:?}: loss {before} → {after}"
        );
        assert_eq!(history.epochs.len(), epochs);
    }
}

#[test]
fn early_stopping_restores_the_best_weights() {
    let data = regression(120);
    let (train, valid) = data.split(0.5, 4).unwrap();
    let mut net = Regressor::from_seed(5);
    // a learning rate this high makes validation loss bounce, so the last
    // epoch is not the best one
    let history = Trainer::new(Sgd::new(0.9), SquaredError)
        .epochs(300)
        .batch_size(4)
        .seed(6)
        .early_stopping(5)
        .fit_with_validation(&mut net, &train, &valid)
        .unwrap();
    let best = history
        .epochs
        .iter()
        .min_by(|a, b| a.validation_loss.partial_cmp(&b.validation_loss).unwrap())
        .unwrap();
    assert_eq!(history.best_epoch, best.epoch);
    assert!(
        history.stopped_early,
        "ran all {} epochs",
        history.epochs.len()
    );
    assert!(history.epochs.len() - best.epoch == 5);
    let restored = evaluate(&net, &valid, SquaredError).loss;
    assert!(
        (restored - best.validation_loss.unwrap()).abs() < 1e-12,
        "restored weights give {restored}, the best epoch had {:?}",
        best.validation_loss
    );
}

#[test]
fn a_schedule_sets_the_learning_rate_of_every_epoch() {
    let data = regression(50);
    let mut net = Regressor::from_seed(1);
    let history = Trainer::new(Sgd::new(123.0), SquaredError)
        .epochs(7)
        .schedule(StepDecay::new(0.1, 0.5, 3))
        .fit(&mut net, &data)
        .unwrap();
    let rates: Vec<f64> = history.epochs.iter().map(|e| e.learning_rate).collect();
    assert_eq!(rates, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]);
}

#[test]
fn divergence_stops_with_an_error_naming_epoch_and_step() {
    let data = regression(64);
    let mut net = Regressor::from_seed(1);
    let error = Trainer::new(Sgd::new(1e12), SquaredError)
        .epochs(10)
        .batch_size(8)
        .fit(&mut net, &data)
        .unwrap_err();
    let staticnet::Error::NonFinite { epoch, step, .. } = error else {
        panic!("expected a NonFinite error, got {error}");
    };
    assert!(epoch >= 1 && step >= 1);
    let message = error.to_string();
    assert!(
        message.contains(&format!("epoch {epoch}, step {step}")),
        "{message}"
    );
    // nothing non-finite reached the weights
    net.for_each_parameter(|name, p| assert!(p.iter().all(|x| x.is_finite()), "{name}"));
}

#[test]
fn invalid_settings_are_errors_not_panics() {
    let data = regression(10);
    let mut net = Regressor::from_seed(1);
    let clip = Trainer::new(Sgd::new(0.1), SquaredError)
        .clip(Clip::GlobalNorm(-1.0))
        .fit(&mut net, &data)
        .unwrap_err();
    assert!(clip.to_string().contains("clipping limit"), "{clip}");
    let split = Trainer::new(Sgd::new(0.1), SquaredError)
        .validation_split(1.5)
        .fit(&mut net, &data);
    assert!(split.is_err());
    let empty = Dataset::<f64, 2, 1>::new(
        OMatrix::<f64, Const<2>, Dyn>::zeros(0),
        OMatrix::<f64, Const<1>, Dyn>::zeros(0),
    )
    .unwrap();
    assert!(
        Trainer::new(Sgd::new(0.1), SquaredError)
            .fit(&mut net, &empty)
            .is_err()
    );
}

#[test]
fn clipping_keeps_a_too_large_learning_rate_stable() {
    let data = regression(100);
    let mut net = Regressor::from_seed(8);
    Trainer::new(Sgd::new(0.5), SquaredError)
        .epochs(50)
        .batch_size(10)
        .clip(Clip::GlobalNorm(0.5))
        .fit(&mut net, &data)
        .unwrap();
    assert!(evaluate(&net, &data, SquaredError).loss < 0.05);
}

#[test]
fn learns_iris_with_validation_split_and_plots_the_history() {
    let data = sets::iris::<f32>(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/iris.csv")).unwrap();
    let (mut train, mut test) = data.stratified_split(0.8, 1).unwrap();
    let scaler = Standardizer::fit(&train.inputs).unwrap();
    scaler.transform(&mut train.inputs);
    scaler.transform(&mut test.inputs);
    let mut net = IrisNet::from_seed(1);
    let history = Trainer::new(Adam::new(0.01), CrossEntropy)
        .epochs(100)
        .batch_size(16)
        .validation_split(0.2)
        .early_stopping(20)
        .fit(&mut net, &train)
        .unwrap();
    assert!(
        history
            .epochs
            .iter()
            .all(|e| e.validation_accuracy.is_some())
    );
    let accuracy = evaluate(&net, &test, CrossEntropy).accuracy().unwrap();
    assert!(accuracy >= 0.9, "test accuracy {accuracy}");
    let path = std::env::temp_dir().join(format!("staticnet-iris-{}.svg", std::process::id()));
    history.plot_svg(&path).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(
        svg.contains("<polyline") || svg.contains("<path"),
        "no lines in the plot"
    );
    assert!(svg.contains("accuracy"));
}
