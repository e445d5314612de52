// trybuild compiles this file in target/tests/trybuild/staticnet-ui-tests/,
// the crate directory that `#[weights = "..."]` paths are relative to here:
// four levels up is the workspace.
use staticnet::prelude::*;

network! {
    #[derive(Debug, PartialEq)]
    #[weights = "../../../../ui-tests/fixtures/cnn.safetensors"]
    struct Cnn {
        input: [1, 6, 6],
        conv: conv2d(2, kernel = 3, padding = 1) -> relu,
        pool: max_pool(2),
        flatten,
        out: dense(3),
    }
}

/// Element `i` (row-major, PyTorch's order) of tensor `k`, as the fixture
/// generator (`tests/fixtures.rs`) writes it.
fn pattern(k: usize, i: usize) -> f32 {
    (((k * 1000 + i * 7) % 97) as f64 / 64.0 - 0.75) as f32
}

fn main() {
    let mut expected = Cnn::zeros();
    let mut k = 0;
    expected.for_each_parameter_mut(|_, values| {
        let info = &<Cnn as Parameters>::TENSORS[k];
        // nalgebra's column-major slice of a matrix with `rows` rows
        let rows = info.shape[0];
        let cols = values.len() / rows;
        for r in 0..rows {
            for c in 0..cols {
                values[r + rows * c] = pattern(k, r * cols + c);
            }
        }
        k += 1;
    });
    assert_eq!(*Cnn::trained(), expected);
    // filter 1, input channel 0, kernel row 2, column 0: PyTorch's
    // weight[1, 0, 2, 0], element 1·9 + 2·3 + 0 of tensor 0
    assert_eq!(Cnn::trained().conv.weight[(1, 6)], pattern(0, 15));
}
