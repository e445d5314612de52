// trybuild compiles this file in target/tests/trybuild/staticnet-ui-tests/,
// the crate directory that `#[weights = "..."]` paths are relative to here:
// four levels up is the workspace.
use staticnet::prelude::*;

type Real = f32;

// the macro reads the scalar as written: an alias is not `f32`
network! {
    #[weights = "../../../../ui-tests/fixtures/xor.safetensors"]
    struct Xor<Real> { input: 2, hidden: dense(2) -> relu, output: dense(1) }
}

fn main() {}
