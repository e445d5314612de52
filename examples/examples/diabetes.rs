//! Diabetes progression (Efron et al. 2004; 442 patients, 10 raw features):
//! regression with squared error on standardized inputs and target; reports
//! the test RMSE (in the target's units) and R².
//!
//! Run with `cargo run --release --example diabetes`.

use staticnet::data::{Standardizer, sets};
use staticnet::optim::Adam;
use staticnet::prelude::*;
use staticnet::train::{Progress, Trainer, evaluate};
use staticnet_examples::data_file;

network! {
    /// 10 features → 16 tanh units → disease progression after one year.
    struct DiabetesNet {
        input: 10,
        hidden: dense(16) -> tanh,
        output: dense(1),
    }
}

fn main() -> Result<(), staticnet::Error> {
    let data = sets::diabetes::<f32>(
        data_file("diabetes_data_raw.csv.gz"),
        data_file("diabetes_target.csv.gz"),
    )?;
    let (mut train, mut valid, mut test) = data.split3(0.15, 0.2, 13, false)?;
    let inputs = Standardizer::fit(&train.inputs)?;
    let target = Standardizer::fit(&train.targets)?;
    for set in [&mut train, &mut valid, &mut test] {
        inputs.transform(&mut set.inputs);
        target.transform(&mut set.targets);
    }
    println!("{}\n", DiabetesNet::summary());
    let mut net = DiabetesNet::from_seed(4);
    let history = Trainer::new(Adam::new(1e-3), SquaredError)
        .epochs(300)
        .batch_size(16)
        .seed(4)
        .early_stopping(30)
        .progress(Progress::Lines)
        .fit_with_validation(&mut net, &train, &valid)?;
    println!("kept the weights of epoch {}", history.best_epoch);
    let evaluation = evaluate(&net, &test, SquaredError);
    // RMSE back in the target's units: the target was divided by its std
    let rmse = evaluation.rmse * f64::from(target.std[0]);
    println!(
        "\ndiabetes: test RMSE {rmse:.1} (target mean 152, std {:.1}), test R² {:.3}",
        target.std[0], evaluation.r_squared
    );
    if evaluation.r_squared < 0.3 {
        eprintln!("diabetes: R² is below 0.3");
        std::process::exit(1);
    }
    Ok(())
}
