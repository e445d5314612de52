//! Interop with PyTorch: fixtures written by Python's `safetensors` and
//! `numpy` in PyTorch's naming and layout (`tests/fixtures/pytorch`, made by
//! `make_fixtures.py` there), loaded with [`Weights::load_renamed`] and run
//! against the outputs numpy computed. The expected outputs are float64
//! values computed from the stored weights; every output must match to an
//! absolute 1e-6, f32 networks computing in f32.

use std::path::PathBuf;

use nalgebra::{Const, Dyn, OMatrix, SVector};
use safetensors::SafeTensors;
use staticnet::Error;
use staticnet::prelude::*;
use staticnet::weights::{Element, Weights};

/// The largest absolute difference allowed between an output and numpy's.
const TOLERANCE: f64 = 1e-6;

network! {
    /// `nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh(),
    /// nn.Linear(8, 3), nn.Softmax(dim=-1))`
    #[derive(Debug)]
    struct Mlp {
        input: 4,
        hidden: dense(8) -> relu,
        mid: dense(8) -> tanh,
        output: dense(3) -> softmax,
    }
}
const MLP_NAMES: [(&str, &str); 3] = [("hidden", "0"), ("mid", "2"), ("output", "4")];

network! {
    /// `nn.Sequential(nn.Conv2d(2, 3, kernel_size=(3, 2), padding=(1, 0)),
    /// nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 3))`
    #[derive(Debug)]
    struct Cnn {
        input: [2, 6, 5],
        conv: conv2d(3, kernel = (3, 2), padding = (1, 0)) -> relu,
        pool: max_pool(2),
        flatten,
        output: dense(3),
    }
}
const CNN_NAMES: [(&str, &str); 2] = [("conv", "0"), ("output", "4")];

network! {
    /// The same `nn.Sequential` of linear layers with GELU (tanh), ELU,
    /// SELU, LeakyReLU(0.1), Softplus and Sigmoid, in float64.
    #[derive(Debug)]
    struct Activations<f64> {
        input: 5,
        gelu: dense(6) -> gelu,
        elu: dense(6) -> elu,
        selu: dense(5) -> selu,
        leaky: dense(4) -> leaky_relu(0.1),
        softplus: dense(4) -> softplus,
        output: dense(2) -> sigmoid,
    }
}
const ACTIVATIONS_NAMES: [(&str, &str); 6] = [
    ("gelu", "0"),
    ("elu", "2"),
    ("selu", "4"),
    ("leaky", "6"),
    ("softplus", "8"),
    ("output", "10"),
];

/// A fixture file, found from this package's manifest, not the working
/// directory.
fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("pytorch")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    let path = fixture(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The values of tensor `name` in `file`, checked to be of dtype `T` and
/// shape `shape`.
fn values<T: Element>(file: &SafeTensors<'_>, name: &str, shape: &[usize]) -> Vec<T> {
    let view = file.tensor(name).unwrap();
    assert_eq!(view.dtype(), T::DTYPE, "{name}");
    assert_eq!(view.shape(), shape, "{name}");
    view.data().chunks_exact(T::BYTES).map(T::read_le).collect()
}

/// The cases of a model: inputs (one sample per column) and expected
/// outputs (one row per sample).
struct Cases<T: Element, const IN: usize, const OUT: usize> {
    x: OMatrix<T, Const<IN>, Dyn>,
    y: Vec<[f64; OUT]>,
}

/// Reads `<model>_cases.safetensors`: `x` of dtype `T` and shape
/// `[n, *input_shape]`, `y` float64 `[n, OUT]`.
fn cases<T: Element, const IN: usize, const OUT: usize>(
    model: &str,
    input_shape: &[usize],
) -> Cases<T, IN, OUT> {
    assert_eq!(input_shape.iter().product::<usize>(), IN);
    let bytes = read(&format!("{model}_cases.safetensors"));
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let n = file.tensor("y").unwrap().shape()[0];
    assert!(n >= 16, "{model}: {n} cases");
    let x_shape: Vec<usize> = std::iter::once(n)
        .chain(input_shape.iter().copied())
        .collect();
    // row-major [n, C, H, W]: sample s is the s-th run of IN values, in
    // channel, row, column order, which is staticnet's input order
    let x = values::<T>(&file, "x", &x_shape);
    let y = values::<f64>(&file, "y", &[n, OUT]);
    Cases {
        x: OMatrix::<T, Const<IN>, Dyn>::from_column_slice(&x),
        y: y.chunks_exact(OUT)
            .map(|row| row.try_into().unwrap())
            .collect(),
    }
}

/// Loads `<model>.safetensors` with `names`, runs every case through
/// `forward` and `forward_batch`, checks every output against numpy's to
/// [`TOLERANCE`] and returns the largest absolute error.
fn check<N, const IN: usize, const OUT: usize>(
    model: &str,
    names: &[(&str, &str)],
    input_shape: &[usize],
) -> f64
where
    N: Network<IN, OUT> + Weights,
    N::Scalar: Element + Into<f64>,
{
    let net = N::load_renamed(fixture(&format!("{model}.safetensors")), names)
        .unwrap_or_else(|e| panic!("{e}"));
    let cases = cases::<N::Scalar, IN, OUT>(model, input_shape);
    let batch = net.forward_batch(&cases.x);
    let mut largest = 0.0_f64;
    for (s, expected) in cases.y.iter().enumerate() {
        let x: SVector<N::Scalar, IN> = cases.x.column(s).into_owned();
        let y = net.forward(&x);
        for (o, &want) in expected.iter().enumerate() {
            for (how, got) in [("forward", y[o]), ("forward_batch", batch[(o, s)])] {
                let got: f64 = got.into();
                let error = (got - want).abs();
                assert!(
                    error <= TOLERANCE,
                    "{model}, case {s}, output {o}, {how}: {got} against numpy's {want} \
                     (error {error:e} > {TOLERANCE:e})"
                );
                largest = largest.max(error);
            }
        }
    }
    eprintln!(
        "{model}: {} cases x {OUT} outputs, largest absolute error against numpy {largest:.3e}",
        cases.y.len()
    );
    largest
}

#[test]
fn mlp_f32_reproduces_numpy() {
    check::<Mlp, 4, 3>("mlp", &MLP_NAMES, &[4]);
}

#[test]
fn cnn_f32_reproduces_numpy() {
    check::<Cnn, 60, 3>("cnn", &CNN_NAMES, &[2, 6, 5]);
}

#[test]
fn activations_f64_reproduce_numpy() {
    let largest = check::<Activations, 5, 2>("activations64", &ACTIVATIONS_NAMES, &[5]);
    // f64 throughout: only rounding separates the two
    assert!(largest < 1e-14, "{largest:e}");
}

/// The fixtures hold exactly the tensors `nn.Sequential.state_dict()` has,
/// and staticnet writes them back byte for byte under the same names.
#[test]
fn tensors_have_pytorch_names_and_are_written_back_unchanged() {
    fn round_trip<N: Weights>(model: &str, names: &[(&str, &str)], expected: &[&str])
    where
        N::Scalar: Element,
    {
        let original = read(&format!("{model}.safetensors"));
        let file = SafeTensors::deserialize(&original).unwrap();
        let mut found = file.names();
        found.sort_unstable();
        let mut expected = expected.to_vec();
        expected.sort_unstable();
        assert_eq!(found, expected, "{model}");

        let net = N::from_safetensors_renamed(&original, names).unwrap();
        let written = net.to_safetensors_renamed(names);
        let written = SafeTensors::deserialize(&written).unwrap();
        for name in expected {
            let (a, b) = (file.tensor(name).unwrap(), written.tensor(name).unwrap());
            assert_eq!(
                (a.dtype(), a.shape(), a.data()),
                (b.dtype(), b.shape(), b.data()),
                "{model}: {name}"
            );
        }
    }
    round_trip::<Mlp>(
        "mlp",
        &MLP_NAMES,
        &[
            "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias",
        ],
    );
    round_trip::<Cnn>(
        "cnn",
        &CNN_NAMES,
        &["0.weight", "0.bias", "4.weight", "4.bias"],
    );
    round_trip::<Activations>(
        "activations64",
        &ACTIVATIONS_NAMES,
        &[
            "0.weight",
            "0.bias",
            "2.weight",
            "2.bias",
            "4.weight",
            "4.bias",
            "6.weight",
            "6.bias",
            "8.weight",
            "8.bias",
            "10.weight",
            "10.bias",
        ],
    );
}

#[test]
fn loading_without_the_mapping_lists_every_missing_and_unexpected_tensor() {
    let path = fixture("mlp.safetensors");
    let error = Mlp::load(&path).unwrap_err();
    let message = error.to_string();
    let Error::Mismatch {
        file,
        network,
        problems,
    } = &error
    else {
        panic!("expected a mismatch, got {message}")
    };
    assert_eq!(*file, path.display().to_string());
    assert_eq!(*network, "Mlp");
    let expected = [
        "hidden.weight: missing (expected F32 [8, 4])",
        "hidden.bias: missing (expected F32 [8])",
        "mid.weight: missing (expected F32 [8, 8])",
        "mid.bias: missing (expected F32 [8])",
        "output.weight: missing (expected F32 [3, 8])",
        "output.bias: missing (expected F32 [3])",
        "0.bias (F32 [8]): not a tensor of this network",
        "0.weight (F32 [8, 4]): not a tensor of this network",
        "2.bias (F32 [8]): not a tensor of this network",
        "2.weight (F32 [8, 8]): not a tensor of this network",
        "4.bias (F32 [3]): not a tensor of this network",
        "4.weight (F32 [3, 8]): not a tensor of this network",
    ];
    assert_eq!(*problems, expected, "{message}");
    assert!(
        message.contains("mlp.safetensors") && message.contains("`Mlp` (12 problems)"),
        "{message}"
    );
    for line in expected {
        assert!(message.contains(line), "{message}");
    }
}

network! {
    /// The MLP's shapes with other activations: a different architecture
    /// that a staticnet file would refuse.
    #[derive(Debug)]
    struct MlpOtherActivations {
        input: 4,
        hidden: dense(8) -> sigmoid,
        mid: dense(8) -> relu,
        output: dense(3),
    }
}

network! {
    /// A different shape: its `mid` layer has 6 outputs.
    #[derive(Debug)]
    struct MlpNarrow {
        input: 4,
        hidden: dense(8) -> relu,
        mid: dense(6) -> tanh,
        output: dense(3) -> softmax,
    }
}

/// A file that PyTorch (or numpy) wrote carries no staticnet metadata, so
/// only the tensors are checked: any network with the same tensor names,
/// dtypes and shapes loads it, and a wrong shape is reported per tensor with
/// no architecture problem.
#[test]
fn pytorch_files_have_no_staticnet_metadata_so_only_tensors_are_checked() {
    for model in ["mlp", "cnn", "activations64"] {
        let bytes = read(&format!("{model}.safetensors"));
        let (_, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
        let metadata = metadata.metadata().clone().unwrap_or_default();
        assert_eq!(metadata.len(), 1, "{model}: {metadata:?}");
        assert_eq!(metadata.get("format").map(String::as_str), Some("pt"));
        assert!(!metadata.keys().any(|k| k.starts_with("staticnet.")));
    }

    let path = fixture("mlp.safetensors");
    let other = MlpOtherActivations::load_renamed(&path, &MLP_NAMES).unwrap();
    let mlp = Mlp::load_renamed(&path, &MLP_NAMES).unwrap();
    assert_eq!(other.hidden.weight, mlp.hidden.weight);
    assert_eq!(other.output.bias, mlp.output.bias);

    // whereas a file staticnet wrote records its architecture and refuses
    // the same swap
    let ours = mlp.to_safetensors_renamed(&MLP_NAMES);
    let error = MlpOtherActivations::from_safetensors_renamed(&ours, &MLP_NAMES)
        .unwrap_err()
        .to_string();
    assert!(error.contains("different network, `Mlp`"), "{error}");

    let error = MlpNarrow::load_renamed(&path, &MLP_NAMES).unwrap_err();
    let Error::Mismatch { problems, .. } = &error else {
        panic!("{error}")
    };
    assert_eq!(
        *problems,
        [
            "2.weight: expected F32 [6, 8], found F32 [8, 8]",
            "2.bias: expected F32 [6], found F32 [8]",
            "4.weight: expected F32 [3, 6], found F32 [3, 8]",
        ],
        "{error}"
    );

    // and the dtype is checked: the f32 file is not an f64 network's
    network! { #[derive(Debug)] struct Mlp64<f64> { input: 4, hidden: dense(8) -> relu, mid: dense(8) -> tanh, output: dense(3) -> softmax } }
    let error = Mlp64::load_renamed(&path, &MLP_NAMES)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("0.weight: expected F64 [8, 4], found F32 [8, 4]"),
        "{error}"
    );
}
