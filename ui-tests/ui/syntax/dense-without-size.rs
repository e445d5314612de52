use staticnet::prelude::*;

network! {
    struct Net {
        input: 4,
        hidden: dense() -> relu,
        output: dense(2, 3),
    }
}

fn main() {}
