use staticnet::prelude::*;

network! {
    struct Net {
        input: 4,
        hidden: dense(8) -> relu(0.1),
        other: dense(8) -> leaky_relu(0.1, 0.2),
        output: dense(2),
    }
}

fn main() {}
