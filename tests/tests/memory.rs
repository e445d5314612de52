//! A large network, its gradients, a training epoch, saving, loading and
//! checkpoints fit in a debug-build test thread's default 2 MiB stack: large
//! layers live on the heap, allocated in place.

use nalgebra::{Const, Dyn, OMatrix, SVector};
use staticnet::prelude::*;
use staticnet::weights::Weights;

network! {
    /// 784-256-256-10: 270,000 parameters, over 1 MB of f32.
    #[derive(Clone)]
    struct Big {
        input: 784,
        hidden1: dense(256) -> relu,
        hidden2: dense(256) -> relu,
        output: dense(10) -> softmax,
    }
}

network! {
    /// Small enough to live inline: no heap at all.
    #[derive(Clone, Copy)]
    struct Small {
        input: 8,
        hidden: dense(32) -> tanh,
        output: dense(4),
    }
}

const STACK: usize = 2 * 1024 * 1024;

#[test]
fn large_network_constructs_trains_one_epoch_and_drops_on_a_2_mib_stack() {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(|| {
            let mut net = Big::from_seed(1);
            let mut sgd = Sgd::new(0.01_f32);
            // one epoch of 128 synthetic samples: 4 minibatches of 32 ...
            let samples = 128;
            let x = OMatrix::<f32, Const<784>, Dyn>::from_fn(samples, |i, j| {
                ((i * 7 + j * 13) % 17) as f32 / 17.0
            });
            let y = OMatrix::<f32, Const<10>, Dyn>::from_fn(samples, |i, j| {
                if i == j % 10 { 1.0 } else { 0.0 }
            });
            let before = net.batch_gradients(&x, &y, CrossEntropy).0;
            for start in (0..samples).step_by(32) {
                let xb = x.columns(start, 32).into_owned();
                let yb = y.columns(start, 32).into_owned();
                let (_, grads) = net.batch_gradients(&xb, &yb, CrossEntropy);
                sgd.step(&mut net, &grads);
            }
            let after = net.batch_gradients(&x, &y, CrossEntropy).0;
            assert!(
                after < before,
                "the epoch did not lower the loss: {before} → {after}"
            );
            // ... then a few online steps, one sample each
            let mut grads = Big::zero_gradients();
            for j in 0..4 {
                grads.set_zero();
                let xj: SVector<f32, 784> = x.column(j).into_owned();
                let yj: SVector<f32, 10> = y.column(j).into_owned();
                net.accumulate_gradients(&xj, &yj, CrossEntropy, &mut grads);
                sgd.step(&mut net, &grads);
            }
            let copy = net.clone();
            assert!(copy.hidden1.weight == net.hidden1.weight);
            // ... and saves, loads, and checkpoints, still on the small stack
            let dir = std::env::temp_dir().join(format!("staticnet-memory-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("big.safetensors");
            net.save(&path).unwrap();
            let loaded = Big::load(&path).unwrap();
            assert!(loaded.hidden2.weight == net.hidden2.weight);
            assert!(loaded.output.bias == net.output.bias);
            let data = staticnet::data::Dataset::new(x.clone(), y.clone()).unwrap();
            let checkpoint = dir.join("big-checkpoint.safetensors");
            Trainer::new(Adam::new(1e-3_f32), CrossEntropy)
                .epochs(1)
                .fit_with_checkpoints(&mut net, &data, &checkpoint)
                .unwrap();
            let history = Trainer::new(Adam::new(1e-3_f32), CrossEntropy)
                .epochs(2)
                .fit_with_checkpoints(&mut net, &data, &checkpoint)
                .unwrap();
            assert_eq!(history.epochs.len(), 2);
            std::fs::remove_dir_all(&dir).unwrap();
        })
        .expect("spawn")
        .join()
        .expect("the 2 MiB thread completed");
}

#[test]
fn large_layers_are_held_by_pointer_and_small_ones_inline() {
    // the big network's struct holds pointers for its two large layers and
    // the 256 × 10 output layer (2,570 scalars) inline
    let inline_output = 2570 * 4;
    assert!(
        std::mem::size_of::<Big>() <= inline_output + 64,
        "{}",
        std::mem::size_of::<Big>()
    );
    // the small one is a plain value of exactly its parameters
    assert_eq!(std::mem::size_of::<Small>(), Small::PARAMETERS * 4);
    assert_eq!(Small::PARAMETERS, 8 * 32 + 32 + 32 * 4 + 4);
}
