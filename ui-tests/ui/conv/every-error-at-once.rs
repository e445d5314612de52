use staticnet::prelude::*;

// Three mistakes in one declaration, all reported in one compile.
network! {
    struct Net {
        input: [3, 32, 32],
        c1: conv2d(1 => 8, kernel = 3, padding = 1) -> relu,
        c2: conv2d(16, kernel = 3, stride = 3),
        p: max_pool(3),
        flatten,
        output: dense(10),
    }
}

fn main() {}
