use staticnet::prelude::*;

network! {
    struct Net {
        input: [1, 28, 28],
        conv: conv2d(4, kernel = 3) -> relu,
        pool: max_pool(4),
        flatten,
        output: dense(10) -> softmax,
    }
}

fn main() {}
