//! Layer types. Each holds its parameters and implements its forward and
//! backward passes for one sample and for a batch.

mod conv;
mod dense;
mod pool;
mod storage;

pub use conv::{Conv2d, Geometry2d};
pub use dense::Dense;
pub use pool::{AvgPool2d, MaxPool2d};
pub use storage::{
    Choose, HEAP_THRESHOLD, Heap, HeapMatrix, Inline, InlineMatrix, Select, Storage,
};
