// trybuild compiles this file in target/tests/trybuild/staticnet-ui-tests/,
// the crate directory that `#[weights = "..."]` paths are relative to here:
// four levels up is the workspace.
use staticnet::prelude::*;

// the file's hidden layer has 2 units: three tensors disagree with HIDDEN
const HIDDEN: usize = 3;

network! {
    #[weights = "../../../../ui-tests/fixtures/xor.safetensors"]
    struct Xor { input: 2, hidden: dense(HIDDEN) -> relu, output: dense(1) }
}

fn main() {}
