use nalgebra::SVector;
use staticnet::prelude::*;

// Four mistakes in one declaration: all are reported in one compile, and
// nothing else. The macro still emits the network as it was meant, each
// mistake repaired, so the code that uses it adds no errors of its own.
network! {
    struct Net {
        input: 4,
        hidden: dense(0) -> rleu,
        hidden: dense(8) -> relu,
        output: dense(7 => 2) -> softmax,
    }
}

fn main() {
    let net = Net::from_seed(1);
    let y: SVector<f32, 2> = net.forward(&SVector::zeros());
    let _ = (y, net.hidden.weight, Net::summary());
}
