use staticnet::prelude::*;

network! {
    struct Net {
        input: 4
        output: dense(2),
    }
}

fn main() {
    // the struct still exists, so this line adds no error of its own
    let _ = core::mem::size_of::<Net>();
}
