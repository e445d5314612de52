use staticnet::prelude::*;

network! {
    struct Net {
        input: 0,
        output: dense(2),
    }
}

fn main() {}
