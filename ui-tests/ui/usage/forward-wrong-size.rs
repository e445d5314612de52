use nalgebra::SVector;
use staticnet::prelude::*;

network! {
    struct Net {
        input: 4,
        hidden: dense(8) -> relu,
        output: dense(2),
    }
}

fn main() {
    let net = Net::from_seed(1);
    let x = SVector::<f32, 3>::zeros();
    let _ = net.forward(&x);
}
