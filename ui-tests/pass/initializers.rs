use staticnet::prelude::*;

network! {
    /// Every initializer, chosen per layer.
    struct Net<f64> {
        input: 6,
        dense(6, init = zeros, bias_init = constant(0.5)),
        dense(6, init = constant(0.1), bias_init = uniform(-0.1, 0.1)),
        dense(6, init = uniform(-0.5, 0.5), bias_init = normal(0, 0.01)),
        dense(6, init = normal(0, 0.2)) -> tanh,
        dense(6, init = truncated_normal(0, 0.2)) -> tanh,
        dense(6, init = glorot_uniform) -> tanh,
        dense(6, init = glorot_normal) -> tanh,
        dense(6, init = he_uniform) -> relu,
        dense(6, init = he_normal) -> relu,
        dense(6, init = lecun_uniform) -> selu,
        dense(6, init = lecun_normal) -> selu,
        dense(6, init = orthogonal) -> tanh,
        dense(3, init = orthogonal(2.0), bias_init = zeros) -> softmax,
    }
}

fn main() {
    let net = Net::from_seed(1);
    assert!(net.layer1.weight.iter().all(|w| *w == 0.0));
    assert!(net.layer1.bias.iter().all(|b| *b == 0.5));
    assert!(net.layer2.weight.iter().all(|w| *w == 0.1));
    let w = &*net.layer12.weight;
    assert!((w.transpose() * w - nalgebra::SMatrix::<f64, 6, 6>::identity()).norm() < 1e-10);
}
