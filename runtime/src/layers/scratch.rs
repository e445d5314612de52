//! [`Scratch`]: reusable temporary buffers for the batch passes of
//! convolutions.

use alloc::{vec, vec::Vec};

use crate::Scalar;

/// Reusable buffers for the batch passes of layers that need temporary space
/// (convolution: the patch matrix and the deltas rearranged by position).
///
/// The `_into` batch passes ([`Conv2d::forward_batch_into`] and the others)
/// take one. The buffers grow to the largest sizes asked for and never
/// shrink, so that after a first call with a given batch size, later calls
/// with the same or a smaller batch need no new memory for them. One
/// `Scratch` can serve every layer of a network in turn (it grows to the
/// largest); what the buffers hold between calls is unspecified.
///
/// [`Conv2d::forward_batch_into`]: super::Conv2d::forward_batch_into
///
/// ```
/// use staticnet::layers::Scratch;
///
/// let mut scratch = Scratch::<f32>::new();
/// assert_eq!(scratch.capacity(), (0, 0));
/// let (a, b) = scratch.buffers(6, 2);
/// assert_eq!((a.len(), b.len()), (6, 2));
/// // a smaller request reuses the same memory
/// let (a, b) = scratch.buffers(3, 1);
/// assert_eq!((a.len(), b.len()), (3, 1));
/// assert_eq!(scratch.capacity(), (6, 2));
/// ```
#[derive(Clone, Debug)]
pub struct Scratch<T> {
    /// The first buffer.
    a: Vec<T>,
    /// The second buffer.
    b: Vec<T>,
}

impl<T> Scratch<T> {
    /// Empty buffers: nothing is allocated until the first use.
    ///
    /// ```
    /// use staticnet::layers::Scratch;
    ///
    /// // a `const fn`: it can initialise a static or a const
    /// const EMPTY: Scratch<f64> = Scratch::new();
    /// assert_eq!(EMPTY.capacity(), (0, 0));
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self {
            a: Vec::new(),
            b: Vec::new(),
        }
    }

    /// The lengths the two buffers have grown to: the largest `len_a` and
    /// `len_b` that [`buffers`](Self::buffers) has been asked for.
    ///
    /// ```
    /// use staticnet::layers::Scratch;
    ///
    /// let mut scratch = Scratch::<f64>::new();
    /// scratch.buffers(10, 0);
    /// scratch.buffers(4, 5);
    /// assert_eq!(scratch.capacity(), (10, 5));
    /// ```
    #[must_use]
    pub fn capacity(&self) -> (usize, usize) {
        (self.a.len(), self.b.len())
    }
}

impl<T: Scalar> Scratch<T> {
    /// Two buffers of exactly `len_a` and `len_b` values. A buffer shorter
    /// than asked for is replaced by a new one of zeros (what it held is
    /// not copied); buffers never shrink. Otherwise their contents are
    /// whatever the last user left there: callers overwrite what they read.
    ///
    /// ```
    /// use staticnet::layers::Scratch;
    ///
    /// let mut scratch = Scratch::<f32>::new();
    /// let (a, b) = scratch.buffers(4, 3);
    /// a.fill(7.0);
    /// b.copy_from_slice(&[1.0, 2.0, 3.0]);
    /// let (a, b) = scratch.buffers(2, 3);
    /// // the same memory, not cleared
    /// assert_eq!(a, &[7.0, 7.0]);
    /// assert_eq!(b, &[1.0, 2.0, 3.0]);
    /// ```
    pub fn buffers(&mut self, len_a: usize, len_b: usize) -> (&mut [T], &mut [T]) {
        // a fresh zeroed allocation, not `resize`: nothing to copy, and for
        // f32 and f64 the allocator's zeroed pages, not a fill
        if self.a.len() < len_a {
            self.a = vec![T::zero(); len_a];
        }
        if self.b.len() < len_b {
            self.b = vec![T::zero(); len_b];
        }
        (&mut self.a[..len_a], &mut self.b[..len_b])
    }
}

/// Empty buffers, as [`Scratch::new`].
impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_grow_only_when_too_short_and_keep_their_memory() {
        let mut scratch = Scratch::<f64>::default();
        let (a, b) = scratch.buffers(5, 3);
        a.fill(1.0);
        b.fill(2.0);
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let (a, b) = scratch.buffers(5, 2);
        assert_eq!((a.as_ptr(), b.as_ptr()), (pa, pb));
        assert_eq!((a.len(), b.len()), (5, 2));
        assert!(a.iter().all(|v| *v == 1.0) && b.iter().all(|v| *v == 2.0));
        // growing one gives it new zeros and keeps the other
        let (a, b) = scratch.buffers(8, 2);
        assert_eq!(a, &[0.0; 8]);
        assert_eq!(b.as_ptr(), pb);
        assert_eq!(b, &[2.0; 2]);
        assert_eq!(scratch.capacity(), (8, 3));
        let copy = scratch.clone();
        assert_eq!(copy.capacity(), (8, 3));
        assert!(format!("{copy:?}").starts_with("Scratch"));
    }
}
