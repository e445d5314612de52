use staticnet::prelude::*;

network! {
    struct Net {
        input: 4,
        hidden: dense(8, init = uniform(-0.1)) -> relu,
        other: dense(8, init = he_normal(2.0), init = zeros) -> tanh,
        range: dense(8, init = uniform(0.5, -0.5), bias_init = normal(0, -1)),
        output: dense(2, weights = zeros),
    }
}

fn main() {}
