use staticnet::prelude::*;

// Four mistakes in one declaration: all are reported in one compile.
network! {
    struct Net {
        input: 4,
        hidden: dense(0) -> rleu,
        hidden: dense(8) -> relu,
        output: dense(7 => 2) -> softmax,
    }
}

fn main() {}
