use staticnet::prelude::*;

network! {
    struct Vector {
        input: 64,
        conv: conv2d(4, kernel = 3),
    }
}

network! {
    struct Image {
        input: [1, 8, 8],
        conv: conv1d(4, kernel = 3),
    }
}

network! {
    struct NoFlatten {
        input: [1, 8, 8],
        conv: conv2d(4, kernel = 3) -> relu,
        output: dense(10),
    }
}

fn main() {}
