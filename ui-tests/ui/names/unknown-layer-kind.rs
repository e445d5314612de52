use staticnet::prelude::*;

network! {
    struct Net {
        input: 4,
        hidden: desne(8) -> relu,
        output: dense(2),
    }
}

fn main() {}
