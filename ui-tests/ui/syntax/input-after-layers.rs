use staticnet::prelude::*;

network! {
    struct Net {
        hidden: dense(8) -> relu,
        input: 4,
        output: dense(2),
    }
}

fn main() {}
