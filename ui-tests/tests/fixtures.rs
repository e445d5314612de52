//! The safetensors files that the `#[weights = "..."]` cases read while
//! they compile: `fixtures/*.safetensors`, and the copy of `xor.safetensors`
//! that the macro's documentation bakes in (`macros/fixtures/`). This test
//! writes them byte for byte and fails when a committed file differs;
//! refresh with `UPDATE_FIXTURES=1 cargo test -p staticnet-ui-tests --test fixtures`.
//!
//! The files are written here, by hand, rather than with the runtime's
//! `Weights::save`: broken files (a wrong dtype, a missing tensor, a NaN)
//! are what several cases need, and the valid ones record the same
//! metadata `save` writes (the architecture from `Summary`).

use std::path::{Path, PathBuf};

use staticnet::prelude::*;
use staticnet::summary::Summary;

network! {
    /// The network of `xor.safetensors`.
    struct Xor { input: 2, hidden: dense(2) -> relu, output: dense(1) }
}

network! {
    /// Same tensors as `Xor`, another activation: another architecture.
    struct XorTanh { input: 2, hidden: dense(2) -> tanh, output: dense(1) }
}

network! {
    /// A convolutional network, to check the weight layout of convolutions.
    struct Cnn {
        input: [1, 6, 6],
        conv: conv2d(2, kernel = 3, padding = 1) -> relu,
        pool: max_pool(2),
        flatten,
        out: dense(3),
    }
}

/// A tensor to write: name, dtype, shape, values in row-major order.
struct Tensor {
    name: &'static str,
    dtype: &'static str,
    shape: Vec<usize>,
    values: Vec<f64>,
}

fn f32s(name: &'static str, shape: &[usize], values: &[f64]) -> Tensor {
    assert_eq!(shape.iter().product::<usize>(), values.len(), "{name}");
    Tensor {
        name,
        dtype: "F32",
        shape: shape.to_vec(),
        values: values.to_vec(),
    }
}

fn f64s(name: &'static str, shape: &[usize], values: &[f64]) -> Tensor {
    Tensor {
        dtype: "F64",
        ..f32s(name, shape, values)
    }
}

/// The metadata that `Weights::save` records for a network.
fn metadata_of(summary: &Summary) -> Vec<(&'static str, String)> {
    vec![
        ("format", "pt".into()),
        ("staticnet.network", summary.name.into()),
        ("staticnet.architecture", summary.architecture().to_string()),
        (
            "staticnet.fingerprint",
            format!("{:016x}", summary.fingerprint()),
        ),
    ]
}

/// A safetensors file: the header's length, the JSON header (tensors in the
/// order given, padded with spaces to a multiple of 8 bytes), the data.
fn safetensors(tensors: &[Tensor], metadata: &[(&str, String)]) -> Vec<u8> {
    let mut header = String::from("{");
    if !metadata.is_empty() {
        let entries: Vec<String> = metadata
            .iter()
            .map(|(k, v)| format!("{}:{}", json(k), json(v)))
            .collect();
        header.push_str(&format!("\"__metadata__\":{{{}}}", entries.join(",")));
    }
    let mut data = Vec::new();
    for t in tensors {
        let start = data.len();
        for v in &t.values {
            match t.dtype {
                "F32" => data.extend_from_slice(&(*v as f32).to_le_bytes()),
                _ => data.extend_from_slice(&v.to_le_bytes()),
            }
        }
        if header.len() > 1 {
            header.push(',');
        }
        let shape: Vec<String> = t.shape.iter().map(usize::to_string).collect();
        header.push_str(&format!(
            "{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{start},{}]}}",
            json(t.name),
            t.dtype,
            shape.join(","),
            data.len()
        ));
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&data);
    bytes
}

fn json(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The hand-set XOR network of the lecture: `h = relu(x₁ + x₂ − (0, 1))`,
/// `y = h₁ − 2 h₂`, so y is 0, 1, 1, 0 on the four corners.
fn xor_tensors(make: fn(&'static str, &[usize], &[f64]) -> Tensor) -> Vec<Tensor> {
    vec![
        make("hidden.weight", &[2, 2], &[1.0, 1.0, 1.0, 1.0]),
        make("hidden.bias", &[2], &[0.0, -1.0]),
        make("output.weight", &[1, 2], &[1.0, -2.0]),
        make("output.bias", &[1], &[0.0]),
    ]
}

/// The value of element `i` (row-major) of the tensor numbered `k`:
/// varied, and exact in `f32`. `weights/pass/cnn.rs` computes the same.
fn pattern(k: usize, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ((k * 1000 + i * 7) % 97) as f64 / 64.0 - 0.75)
        .collect()
}

fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let xor = metadata_of(&Xor::summary());
    let mut broken = xor_tensors(f32s);
    // hidden.weight transposed to 3 columns, hidden.bias in f64, output.bias
    // missing, and a tensor the network does not have
    broken[0] = f32s("hidden.weight", &[2, 3], &[1.0; 6]);
    broken[1] = f64s("hidden.bias", &[2], &[0.0, -1.0]);
    broken.pop();
    broken.push(f32s("extra", &[1], &[0.5]));
    let mut nan = xor_tensors(f32s);
    nan[2] = f32s("output.weight", &[1, 2], &[1.0, f64::NAN]);
    let cnn: Vec<Tensor> = <Cnn as Parameters>::TENSORS
        .iter()
        .enumerate()
        .map(|(k, info)| {
            let name: &'static str = format!("{}", info.name).leak();
            f32s(name, info.shape, &pattern(k, info.len()))
        })
        .collect();
    vec![
        ("xor.safetensors", safetensors(&xor_tensors(f32s), &xor)),
        ("xor-f64.safetensors", safetensors(&xor_tensors(f64s), &xor)),
        (
            "xor-tanh.safetensors",
            safetensors(&xor_tensors(f32s), &metadata_of(&XorTanh::summary())),
        ),
        (
            // as PyTorch's `save_file` writes it: no staticnet metadata
            "xor-plain.safetensors",
            safetensors(&xor_tensors(f32s), &[("format", "pt".into())]),
        ),
        ("xor-broken.safetensors", safetensors(&broken, &[])),
        ("xor-nan.safetensors", safetensors(&nan, &xor)),
        (
            "cnn.safetensors",
            safetensors(&cnn, &metadata_of(&Cnn::summary())),
        ),
        (
            "not-safetensors.safetensors",
            b"these bytes are not a safetensors file\n".to_vec(),
        ),
    ]
}

fn check_or_write(path: &Path, bytes: &[u8], stale: &mut Vec<PathBuf>) {
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    } else if std::fs::read(path).ok().as_deref() != Some(bytes) {
        stale.push(path.to_path_buf());
    }
}

#[test]
fn fixtures_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for (name, bytes) in fixtures() {
        check_or_write(&root.join("fixtures").join(name), &bytes, &mut stale);
    }
    let xor = safetensors(&xor_tensors(f32s), &metadata_of(&Xor::summary()));
    check_or_write(
        &root.join("../macros/fixtures/xor.safetensors"),
        &xor,
        &mut stale,
    );
    assert!(
        stale.is_empty(),
        "fixtures differ from what this test writes: {stale:?}; \
         run `UPDATE_FIXTURES=1 cargo test -p staticnet-ui-tests --test fixtures` and read the diff"
    );
}
