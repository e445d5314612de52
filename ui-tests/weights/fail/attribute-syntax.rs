use staticnet::prelude::*;

network! {
    #[weights]
    struct A { input: 2, output: dense(1) }
}

network! {
    #[weights = xor]
    struct B { input: 2, output: dense(1) }
}

network! {
    #[weights("xor.safetensors")]
    struct C { input: 2, output: dense(1) }
}

network! {
    #[weights = "../../../../ui-tests/fixtures/xor.safetensors"]
    #[weights = "../../../../ui-tests/fixtures/xor-f64.safetensors"]
    struct D { input: 2, hidden: dense(2) -> relu, output: dense(1) }
}

fn main() {
    // the networks still have `trained()`: no further errors
    let _ = (A::trained(), B::trained(), C::trained(), D::trained());
}
