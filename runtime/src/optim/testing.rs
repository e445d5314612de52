//! What the optimizers' unit tests share: a three-parameter network,
//! gradients set by hand, a line to fit and a network too large for a small
//! stack.

use nalgebra::Matrix1xX;

use super::Optimizer;
use crate::loss::SquaredError;
use crate::network::{Parameters, Trainable};

crate::network! {
    /// `y = w₁ x₁ + w₂ x₂ + b`: three parameters, `[w₁, w₂, b]`.
    #[derive(Clone, Debug, PartialEq)]
    pub(crate) struct Net<f64> { input: 2, out: dense(1) }
}

crate::network! {
    /// `y = w x + b`.
    pub(crate) struct Line<f64> { input: 1, out: dense(1) }
}

crate::network! {
    /// 90,300 parameters (706 KiB of `f64`), its 300 × 300 weight on the heap.
    pub(crate) struct Big<f64> { input: 300, out: dense(300) }
}

/// The tolerance of every comparison with hand-computed values.
pub(crate) const TOLERANCE: f64 = 1e-12;

/// Sets `[w₁, w₂, b]`.
pub(crate) fn set_parameters(net: &mut Net, values: [f64; 3]) {
    net.out.weight[0] = values[0];
    net.out.weight[1] = values[1];
    net.out.bias[0] = values[2];
}

/// `[w₁, w₂, b]`.
pub(crate) fn parameters(net: &Net) -> [f64; 3] {
    [net.out.weight[0], net.out.weight[1], net.out.bias[0]]
}

/// Gradients `[∂w₁, ∂w₂, ∂b]`, set by hand.
pub(crate) fn gradients(values: [f64; 3]) -> NetGradients {
    let mut grads = Trainable::zero_gradients(&Net::zeros());
    let mut next = values.into_iter();
    grads.for_each_parameter_mut(|_, g| g.iter_mut().for_each(|g| *g = next.next().unwrap()));
    assert!(next.next().is_none());
    grads
}

/// The network after one step per entry of `steps`, from `start`.
pub(crate) fn run<O: Optimizer<f64>>(
    optimizer: &mut O,
    start: [f64; 3],
    steps: &[[f64; 3]],
) -> Vec<[f64; 3]> {
    let mut net = Net::zeros();
    set_parameters(&mut net, start);
    steps
        .iter()
        .map(|g| {
            optimizer.step(&mut net, &gradients(*g));
            parameters(&net)
        })
        .collect()
}

/// Asserts that `actual` and `expected` agree within [`TOLERANCE`].
#[track_caller]
pub(crate) fn assert_close(actual: [f64; 3], expected: [f64; 3]) {
    assert_within(actual, expected, TOLERANCE);
}

/// Asserts that `actual` and `expected` agree within `tolerance`.
#[track_caller]
pub(crate) fn assert_within(actual: [f64; 3], expected: [f64; 3], tolerance: f64) {
    for (a, e) in actual.iter().zip(&expected) {
        assert!(
            (a - e).abs() <= tolerance,
            "{actual:?} differs from {expected:?} by more than {tolerance}"
        );
    }
}

/// Element-wise `f(a, b)`.
pub(crate) fn zip(a: [f64; 3], b: [f64; 3], f: impl Fn(f64, f64) -> f64) -> [f64; 3] {
    [f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2])]
}

/// Fits `y = 2x + 1` with full-batch steps from `w = b = 0`; returns the
/// mean squared error before and after, and the final `(w, b)`.
pub(crate) fn fit_line<O: Optimizer<f64>>(optimizer: &mut O, steps: usize) -> (f64, f64, f64, f64) {
    let x = Matrix1xX::from_row_slice(&[-1.0, 0.0, 1.0, 2.0, 3.0]);
    let y = x.map(|x| 2.0 * x + 1.0);
    let mut net = Line::zeros();
    let (before, _) = net.batch_gradients(&x, &y, SquaredError);
    for _ in 0..steps {
        let (_, grads) = net.batch_gradients(&x, &y, SquaredError);
        optimizer.step(&mut net, &grads);
    }
    let (after, _) = net.batch_gradients(&x, &y, SquaredError);
    (before, after, net.out.weight[0], net.out.bias[0])
}

/// Asserts that `optimizer` fits `y = 2x + 1` in `steps` steps.
#[track_caller]
pub(crate) fn assert_fits_line<O: Optimizer<f64>>(mut optimizer: O, steps: usize) {
    let (before, after, w, b) = fit_line(&mut optimizer, steps);
    assert!(
        after < 1e-8 * before && (w - 2.0).abs() < 1e-3 && (b - 1.0).abs() < 1e-3,
        "loss {before} → {after}, w = {w}, b = {b}"
    );
}

/// Steps `optimizer` twice on [`Big`] inside a thread with a 256 KiB stack,
/// with every gradient 1, and returns it with the network's first weight.
pub(crate) fn step_big_on_a_small_stack<O>(mut optimizer: O) -> (O, f64)
where
    O: Optimizer<f64> + Send + 'static,
{
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut net = Big::zeros();
            let mut grads = Trainable::zero_gradients(&net);
            grads.for_each_parameter_mut(|_, g| g.fill(1.0));
            optimizer.step(&mut net, &grads);
            optimizer.step(&mut net, &grads);
            let mut all_equal = true;
            let first = net.out.weight[0];
            net.for_each_parameter(|_, values| all_equal &= values.iter().all(|v| *v == first));
            assert!(all_equal, "every parameter saw the same gradients");
            (optimizer, first)
        })
        .expect("spawn")
        .join()
        .expect("the 256 KiB thread completed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::Sgd;

    #[test]
    fn parameters_and_gradients_are_set_in_declaration_order() {
        let mut net = Net::zeros();
        set_parameters(&mut net, [1.0, 2.0, 3.0]);
        let mut flat = Vec::new();
        net.for_each_parameter(|_, v| flat.extend_from_slice(v));
        assert_eq!(flat, [1.0, 2.0, 3.0]);
        assert_eq!(parameters(&net), [1.0, 2.0, 3.0]);
        let grads = gradients([4.0, 5.0, 6.0]);
        assert_eq!(
            (grads.out.weight.as_slice(), grads.out.bias[0]),
            (&[4.0, 5.0][..], 6.0)
        );
    }

    #[test]
    fn run_steps_from_the_start() {
        let path = run(&mut Sgd::new(0.5), [1.0, 1.0, 1.0], &[[2.0, 0.0, -2.0]]);
        assert_eq!(path, [[0.0, 1.0, 2.0]]);
        assert_eq!(
            zip([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], |a, b| a - b),
            [0.0, 1.0, 2.0]
        );
    }

    #[test]
    fn big_has_a_heap_layer() {
        assert_eq!(<Big as Parameters>::PARAMETER_COUNT, 300 * 300 + 300);
        assert!(core::mem::size_of::<Big>() < 300 * 300 * 8);
    }
}
