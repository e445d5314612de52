use staticnet::prelude::*;

network! {
    struct Net {
        input: [1, 4, 4],
        conv: conv2d(2, kernel = 5, padding = 0),
        flatten,
        output: dense(2),
    }
}

fn main() {}
