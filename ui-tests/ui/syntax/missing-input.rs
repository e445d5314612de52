use staticnet::prelude::*;

network! {
    struct Net {
        hidden: dense(8) -> relu,
        output: dense(2),
    }
}

fn main() {}
