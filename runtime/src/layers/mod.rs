//! Layer types. Each holds its parameters and implements its forward and
//! backward passes for one sample and for a batch.

mod dense;
mod storage;

pub use dense::Dense;
pub use storage::{
    Choose, HEAP_THRESHOLD, Heap, HeapMatrix, Inline, InlineMatrix, Select, Storage,
};
