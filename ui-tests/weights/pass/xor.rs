// trybuild compiles this file in target/tests/trybuild/staticnet-ui-tests/,
// the crate directory that `#[weights = "..."]` paths are relative to here:
// four levels up is the workspace.
use nalgebra::SVector;
use staticnet::prelude::*;

network! {
    /// The lecture's hand-set XOR network, baked in.
    #[derive(Debug, PartialEq)]
    #[weights = "../../../../ui-tests/fixtures/xor.safetensors"]
    pub struct Xor { input: 2, hidden: dense(2) -> relu, output: dense(1) }
}

network! {
    /// The same weights in f64.
    #[weights = "../../../../ui-tests/fixtures/xor-f64.safetensors"]
    struct Xor64<f64> { input: 2, hidden: dense(2) -> relu, output: dense(1) }
}

const HIDDEN: usize = 2;

network! {
    /// A size from a named constant: checked by a const assertion.
    #[weights = "../../../../ui-tests/fixtures/xor.safetensors"]
    struct XorConst { input: 2, hidden: dense(HIDDEN) -> relu, output: dense(1) }
}

network! {
    /// A file without staticnet's metadata, as PyTorch writes one: checked
    /// tensor by tensor.
    #[weights = "../../../../ui-tests/fixtures/xor-plain.safetensors"]
    struct XorPlain { input: 2, hidden: dense(2) -> relu, output: dense(1) }
}

/// A constant network, usable in const contexts.
const NET: Xor = Xor::TRAINED;
static NET_STATIC: Xor = Xor::TRAINED;

fn main() {
    let corners: [([f64; 2], f64); 4] = [
        ([0.0, 0.0], 0.0),
        ([1.0, 0.0], 1.0),
        ([0.0, 1.0], 1.0),
        ([1.0, 1.0], 0.0),
    ];
    for (x, y) in corners {
        let x32 = SVector::<f32, 2>::from(x.map(|v| v as f32));
        assert_eq!(Xor::trained().forward(&x32)[0], y as f32);
        assert_eq!(XorConst::trained().forward(&x32)[0], y as f32);
        assert_eq!(XorPlain::trained().forward(&x32)[0], y as f32);
        assert_eq!(Xor64::trained().forward(&SVector::from(x))[0], y);
    }
    assert_eq!(NET, *Xor::trained());
    assert_eq!(NET_STATIC, NET);
    // one static: every call returns the same reference
    assert!(std::ptr::eq(Xor::trained(), Xor::trained()));
    assert_eq!(NET.hidden.bias[1], -1.0);
    assert_eq!(NET.output.weight[(0, 1)], -2.0);
}
