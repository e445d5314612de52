use staticnet::prelude::*;

network! {
    struct Net {
        input: 4,
        hidden: dense(8, init = he_normall) -> relu,
        output: dense(2, bias_init = xavier_normal) -> softmax,
    }
}

fn main() {}

network! {
    struct Other {
        input: 4,
        output: dense(2, init = glorot) -> softmax,
    }
}
