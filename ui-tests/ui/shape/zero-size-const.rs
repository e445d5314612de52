use staticnet::prelude::*;

const HIDDEN: usize = 0;

network! {
    struct Net {
        input: 4,
        hidden: dense(HIDDEN) -> relu,
        output: dense(2),
    }
}

fn main() {}
