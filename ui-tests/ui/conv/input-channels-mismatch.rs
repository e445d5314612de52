use staticnet::prelude::*;

network! {
    struct Net {
        input: [1, 28, 28],
        conv: conv2d(3 => 8, kernel = 3),
        flatten,
        output: dense(10),
    }
}

fn main() {}
