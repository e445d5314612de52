use nalgebra::SVector;
use staticnet::prelude::*;

network! {
    /// A network in f64.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Net<f64> {
        input: 3,
        hidden: dense(5) -> leaky_relu(0.2),
        dense(4) -> elu,
        output: dense(2) -> softmax,
    }
}

fn main() {
    let net = Net::from_seed(3);
    let y: SVector<f64, 2> = net.forward(&SVector::from([0.5, -1.0, 2.0]));
    assert!((y.sum() - 1.0).abs() < 1e-12);
    assert_eq!(Net::INPUT, 3);
    assert_eq!(Net::OUTPUT, 2);
    assert_eq!(Net::PARAMETERS, 3 * 5 + 5 + 5 * 4 + 4 + 4 * 2 + 2);
    let _ = net.layer2.weight;
    assert_eq!(net.clone(), net);
}
