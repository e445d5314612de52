use nalgebra::SVector;
use staticnet::prelude::*;

fn main() {
    let prediction = SVector::<f32, 2>::zeros();
    let target = SVector::<f32, 3>::zeros();
    let _ = SquaredError.loss(&prediction, &target);
}
