use staticnet::prelude::*;

network! {
    struct Net {
        input: 4,
        hidden: dense(8) -> sigmod,
        output: dense(2) -> swish,
    }
}

fn main() {}
