use staticnet::prelude::*;

network! {
    struct Net {
        input: 4,
        input: dense(8) -> relu,
        output: dense(2),
    }
}

fn main() {}
