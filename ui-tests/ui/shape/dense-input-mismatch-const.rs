use staticnet::prelude::*;

const FEATURES: usize = 4;
const HIDDEN: usize = 8;
const WIDE: usize = 9;

network! {
    struct Net {
        input: FEATURES,
        hidden: dense(HIDDEN) -> relu,
        output: dense(WIDE => 2) -> softmax,
    }
}

fn main() {}
