use nalgebra::SVector;
use staticnet::prelude::*;

mod sizes {
    pub const FEATURES: usize = 6;
}
const HIDDEN: usize = 12;
const CLASSES: usize = 3;

network! {
    pub(crate) struct Net {
        input: sizes::FEATURES,
        hidden: dense(HIDDEN) -> relu,
        wide: dense({ 2 * HIDDEN }) -> tanh,
        output: dense({ 2 * HIDDEN } => CLASSES) -> softmax,
    }
}

fn main() {
    let net = Net::from_seed(1);
    let y: SVector<f32, CLASSES> = net.forward(&SVector::<f32, 6>::zeros());
    assert_eq!(y.len(), 3);
    assert_eq!(Net::PARAMETERS, 6 * 12 + 12 + 12 * 24 + 24 + 24 * 3 + 3);
    println!("{}", Net::summary());
}
