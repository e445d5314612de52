//! Where a layer keeps its parameter matrices: inline in the struct, or on
//! the heap.
//!
//! Small layers live inline, so a small network is a plain value that needs
//! no allocator. Large layers live on the heap, allocated in place, so that a
//! large network, its gradients and its optimizer state never pass through the
//! stack (a 784 × 256 layer is 800 KB; a debug-build test thread has 2 MiB).
//! The `network!` macro picks the storage of each layer from its size; see
//! [`HEAP_THRESHOLD`].
//!
//! [`Heap`] is a [`Storage`] only with the `alloc` feature (on by default,
//! through `std`). Without it the `network!` macro keeps every layer inline,
//! and a layer above the threshold is a compile error, at its size, that
//! names the layer and the feature.

#[cfg(feature = "alloc")]
use alloc::boxed::Box;
use core::fmt::{self, Debug};
use core::ops::{Deref, DerefMut};

use nalgebra::SMatrix;

use crate::Scalar;

/// Layers whose matrices hold more than this many scalars are stored on the
/// heap by the `network!` macro (64 KiB of `f32`).
///
/// ```
/// assert_eq!(staticnet::layers::HEAP_THRESHOLD, 16_384);
/// ```
pub const HEAP_THRESHOLD: usize = 16_384;

/// A place to keep statically sized matrices: [`Inline`] or [`Heap`] (the
/// latter with the `alloc` feature).
///
/// ```
/// use staticnet::layers::{Heap, Inline, Storage};
/// use nalgebra::SMatrix;
///
/// fn identity<S: Storage>() -> S::Matrix<f64, 2, 2> {
///     let mut m = S::zeros::<f64, 2, 2>();
///     m.fill_with_identity();
///     m
/// }
/// assert_eq!(*identity::<Inline>(), SMatrix::<f64, 2, 2>::identity());
/// assert_eq!(*identity::<Heap>(), *identity::<Inline>());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot keep layer parameters in this build",
    label = "not a `Storage` here",
    note = "`Inline` keeps a layer's parameters in the struct; `Heap` keeps them on the heap and needs the `alloc` feature of staticnet (on by default, through `std`)"
)]
pub trait Storage: 'static {
    /// The matrix holder: dereferences to the `R × C` matrix.
    ///
    /// ```
    /// use staticnet::layers::{Heap, HeapMatrix, Inline, InlineMatrix, Storage};
    ///
    /// let inline: <Inline as Storage>::Matrix<f32, 2, 3> = InlineMatrix(nalgebra::zero());
    /// let heap: <Heap as Storage>::Matrix<f32, 2, 3> = Heap::zeros();
    /// let _: &HeapMatrix<f32, 2, 3> = &heap;
    /// assert_eq!(*inline, *heap); // both dereference to an SMatrix<f32, 2, 3>
    /// assert_eq!(heap.shape(), (2, 3));
    /// ```
    type Matrix<T: Scalar, const R: usize, const C: usize>: Deref<Target = SMatrix<T, R, C>>
        + DerefMut
        + Clone
        + Debug
        + PartialEq;

    /// A matrix of zeros, built in place.
    ///
    /// ```
    /// use staticnet::layers::{Heap, Inline, Storage};
    ///
    /// let small = Inline::zeros::<f64, 3, 2>();
    /// let large = Heap::zeros::<f64, 512, 512>();
    /// assert_eq!((small.shape(), small.sum()), ((3, 2), 0.0));
    /// assert_eq!((large.shape(), large.sum()), ((512, 512), 0.0));
    /// ```
    fn zeros<T: Scalar, const R: usize, const C: usize>() -> Self::Matrix<T, R, C>;
}

/// Keeps matrices inline, in the struct itself: no heap, `no_std` friendly.
///
/// ```
/// use staticnet::layers::{Inline, Storage};
///
/// let m = Inline::zeros::<f32, 2, 3>();
/// assert_eq!(m.shape(), (2, 3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Inline;

/// Keeps matrices on the heap, allocated and zeroed in place. It is a
/// [`Storage`] only with the `alloc` feature (on by default, through `std`).
///
/// ```
/// use staticnet::layers::{Heap, Storage};
///
/// // 3 MB of f32: never touches the stack
/// let m = Heap::zeros::<f32, 1024, 784>();
/// assert_eq!(m.sum(), 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Heap;

/// A matrix held inline; dereferences to [`SMatrix`].
///
/// ```
/// use staticnet::layers::InlineMatrix;
/// use nalgebra::SMatrix;
///
/// let mut m = InlineMatrix(SMatrix::<f32, 2, 2>::identity());
/// m[(0, 1)] = 3.0;
/// assert_eq!(m[(0, 1)], 3.0);
/// ```
#[derive(Clone, Copy, PartialEq)]
pub struct InlineMatrix<T: Scalar, const R: usize, const C: usize>(pub SMatrix<T, R, C>);

/// A matrix held on the heap; dereferences to [`SMatrix`].
///
/// Cloning allocates the copy in place too.
///
/// ```
/// use staticnet::layers::{Heap, HeapMatrix, Storage};
///
/// let mut m: HeapMatrix<f64, 300, 300> = Heap::zeros();
/// m[(1, 2)] = 5.0;
/// let copy = m.clone();
/// assert_eq!(copy[(1, 2)], 5.0);
/// ```
#[cfg(feature = "alloc")]
pub struct HeapMatrix<T: Scalar, const R: usize, const C: usize>(Box<SMatrix<T, R, C>>);

impl Storage for Inline {
    type Matrix<T: Scalar, const R: usize, const C: usize> = InlineMatrix<T, R, C>;

    fn zeros<T: Scalar, const R: usize, const C: usize>() -> InlineMatrix<T, R, C> {
        InlineMatrix(SMatrix::zeros())
    }
}

#[cfg(feature = "alloc")]
impl Storage for Heap {
    type Matrix<T: Scalar, const R: usize, const C: usize> = HeapMatrix<T, R, C>;

    fn zeros<T: Scalar, const R: usize, const C: usize>() -> HeapMatrix<T, R, C> {
        HeapMatrix::filled_with(|_| T::zero())
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar, const R: usize, const C: usize> HeapMatrix<T, R, C> {
    /// Allocates the matrix on the heap and writes every element in place,
    /// `value(i)` for the `i`-th element in column-major order.
    fn filled_with(mut value: impl FnMut(usize) -> T) -> Self {
        let mut uninit = Box::<SMatrix<T, R, C>>::new_uninit();
        let first = uninit.as_mut_ptr().cast::<T>();
        for i in 0..R * C {
            // SAFETY: an `SMatrix<T, R, C>` is an `ArrayStorage<T, R, C>`,
            // a `[[T; R]; C]`, behind `#[repr(C)]` and zero-sized markers
            // only, so it is exactly `R * C` contiguous `T`s, and `i` is in
            // bounds. Writing through the raw pointer never reads the
            // uninitialised memory.
            unsafe { first.add(i).write(value(i)) };
        }
        // SAFETY: all `R * C` elements were written above, and `T` is all the
        // matrix holds.
        Self(unsafe { uninit.assume_init() })
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar, const R: usize, const C: usize> Clone for HeapMatrix<T, R, C> {
    fn clone(&self) -> Self {
        let source = self.0.as_slice();
        Self::filled_with(|i| source[i])
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar, const R: usize, const C: usize> PartialEq for HeapMatrix<T, R, C> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T: Scalar, const R: usize, const C: usize> Deref for InlineMatrix<T, R, C> {
    type Target = SMatrix<T, R, C>;
    fn deref(&self) -> &SMatrix<T, R, C> {
        &self.0
    }
}

impl<T: Scalar, const R: usize, const C: usize> DerefMut for InlineMatrix<T, R, C> {
    fn deref_mut(&mut self) -> &mut SMatrix<T, R, C> {
        &mut self.0
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar, const R: usize, const C: usize> Deref for HeapMatrix<T, R, C> {
    type Target = SMatrix<T, R, C>;
    fn deref(&self) -> &SMatrix<T, R, C> {
        &self.0
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar, const R: usize, const C: usize> DerefMut for HeapMatrix<T, R, C> {
    fn deref_mut(&mut self) -> &mut SMatrix<T, R, C> {
        &mut self.0
    }
}

impl<T: Scalar, const R: usize, const C: usize> Debug for InlineMatrix<T, R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Debug::fmt(&self.0, f)
    }
}

#[cfg(feature = "alloc")]
impl<T: Scalar, const R: usize, const C: usize> Debug for HeapMatrix<T, R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Debug::fmt(&*self.0, f)
    }
}

/// Picks [`Heap`] or [`Inline`] from a const condition; the `network!` macro
/// uses it where a layer's size comes from a named constant.
#[doc(hidden)]
pub struct Select<const HEAP: bool>;

/// The storage that [`Select`] picks.
#[doc(hidden)]
pub trait Choose {
    /// The chosen storage.
    type Storage: Storage;
}

impl Choose for Select<true> {
    #[cfg(feature = "alloc")]
    type Storage = Heap;
    /// Without `alloc`, inline: the `network!` macro's assertion beside the
    /// layer reports that it is too large.
    #[cfg(not(feature = "alloc"))]
    type Storage = Inline;
}

impl Choose for Select<false> {
    type Storage = Inline;
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;

    #[test]
    fn heap_zeros_and_clone_are_element_exact() {
        let mut m = Heap::zeros::<f64, 3, 2>();
        assert_eq!(*m, SMatrix::<f64, 3, 2>::zeros());
        m[(2, 1)] = 7.0;
        let c = m.clone();
        assert_eq!(c, m);
        assert_eq!(c[(2, 1)], 7.0);
        assert_eq!(c.as_slice(), &[0.0, 0.0, 0.0, 0.0, 0.0, 7.0]);
    }

    #[test]
    fn large_heap_matrix_needs_no_stack() {
        // 8 MB of f64: overflows a 256 KiB stack if it ever passes through it
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let m = Heap::zeros::<f64, 1024, 1024>();
                let c = m.clone();
                assert_eq!(c.sum(), 0.0);
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
