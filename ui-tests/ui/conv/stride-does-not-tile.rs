use staticnet::prelude::*;

network! {
    struct Net {
        input: [1, 28, 28],
        conv: conv2d(4, kernel = 5, stride = 2),
        flatten,
        output: dense(10) -> softmax,
    }
}

fn main() {}
