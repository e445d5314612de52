use staticnet::prelude::*;

network! {
    struct Net {
        input: [1, 28, 28],
        conv: conv2d(4, kernel = 4, padding = same),
    }
}

fn main() {}
