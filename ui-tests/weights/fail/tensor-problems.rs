// trybuild compiles this file in target/tests/trybuild/staticnet-ui-tests/,
// the crate directory that `#[weights = "..."]` paths are relative to here:
// four levels up is the workspace.
use staticnet::prelude::*;

// the file's hidden.weight is [2, 3], its hidden.bias F64, output.bias is
// missing and it holds a tensor `extra`: four errors
network! {
    #[weights = "../../../../ui-tests/fixtures/xor-broken.safetensors"]
    struct Xor { input: 2, hidden: dense(2) -> relu, output: dense(1) }
}

fn main() {}
