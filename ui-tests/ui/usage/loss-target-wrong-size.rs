use nalgebra::SVector;
use staticnet::prelude::*;

network! {
    struct Net {
        input: 4,
        hidden: dense(8) -> relu,
        output: dense(2) -> softmax,
    }
}

fn main() {
    let net = Net::from_seed(1);
    let x = SVector::<f32, 4>::zeros();
    let y = SVector::<f32, 3>::zeros();
    let _ = net.gradients(&x, &y, CrossEntropy);
}
