use staticnet::prelude::*;

network! {
    struct Net {
        input: [0, 28, 28],
        a: conv2d(0, kernel = 3),
    }
}

network! {
    struct Other {
        input: [1, 28, 28],
        b: conv2d(4, kernel = 0),
        c: conv2d(4, kernel = 3, stride = 0),
    }
}

fn main() {}
