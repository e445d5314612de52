// trybuild compiles this file in target/tests/trybuild/staticnet-ui-tests/,
// the crate directory that `#[weights = "..."]` paths are relative to here:
// four levels up is the workspace.
use staticnet::prelude::*;

network! {
    #[weights = "../../../../ui-tests/fixtures/xor-nan.safetensors"]
    struct Xor { input: 2, hidden: dense(2) -> relu, output: dense(1) }
}

fn main() {}
