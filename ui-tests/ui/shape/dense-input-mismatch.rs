use staticnet::prelude::*;

network! {
    struct Net {
        input: 4,
        hidden: dense(8) -> relu,
        output: dense(6 => 2) -> softmax,
    }
}

fn main() {}
