//! Layer types. Each holds its parameters and implements its forward and
//! backward passes for one sample and for a batch.

mod conv;
mod dense;
mod pool;
#[cfg(feature = "alloc")]
mod scratch;
mod storage;

pub use conv::{Conv2d, Geometry2d};
pub use dense::Dense;
pub use pool::{AvgPool2d, MaxPool2d};
#[cfg(feature = "alloc")]
pub use scratch::Scratch;
#[cfg(feature = "alloc")]
pub use storage::HeapMatrix;
pub use storage::{Choose, HEAP_THRESHOLD, Heap, Inline, InlineMatrix, Select, Storage};

use crate::network::ParamName;

/// Calls `f` with `layer.weight` and `layer.bias`: the visiting shared by
/// every layer with a weight and a bias.
fn visit<T>(layer: &'static str, weight: &[T], bias: &[T], f: &mut impl FnMut(ParamName, &[T])) {
    f(
        ParamName {
            layer,
            tensor: "weight",
        },
        weight,
    );
    f(
        ParamName {
            layer,
            tensor: "bias",
        },
        bias,
    );
}

/// [`visit`] with mutable values.
fn visit_mut<T>(
    layer: &'static str,
    weight: &mut [T],
    bias: &mut [T],
    f: &mut impl FnMut(ParamName, &mut [T]),
) {
    f(
        ParamName {
            layer,
            tensor: "weight",
        },
        weight,
    );
    f(
        ParamName {
            layer,
            tensor: "bias",
        },
        bias,
    );
}

/// [`visit_mut`] with each tensor's gradient beside it.
fn visit_with_gradients<T>(
    layer: &'static str,
    [weight, bias]: [&mut [T]; 2],
    [weight_gradient, bias_gradient]: [&[T]; 2],
    f: &mut impl FnMut(ParamName, &mut [T], &[T]),
) {
    f(
        ParamName {
            layer,
            tensor: "weight",
        },
        weight,
        weight_gradient,
    );
    f(
        ParamName {
            layer,
            tensor: "bias",
        },
        bias,
        bias_gradient,
    );
}
