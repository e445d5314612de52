//! Decoding of the weights that `network!` bakes in with
//! `#[weights = "file.safetensors"]`: `const fn`s that the generated
//! constants call, so that the file's bytes (included with `include_bytes!`)
//! become matrices while the crate compiles, with no parsing at run time.
//! The macro has already checked every tensor's name, dtype, shape and
//! offset; these functions only read.

use nalgebra::{ArrayStorage, SMatrix};

/// Defines a decoder of row-major little-endian tensors into nalgebra's
/// column-major storage, for one scalar type.
macro_rules! decoder {
    ($(#[$doc:meta])* $name:ident, $t:ty, $bits:ty, $($byte:ident << $shift:literal),+) => {
        $(#[$doc])*
        #[must_use]
        pub const fn $name<const R: usize, const C: usize>(
            bytes: &[u8],
            offset: usize,
            rows: usize,
            cols: usize,
        ) -> SMatrix<$t, R, C> {
            let mut columns = [[0.0; R]; C];
            if R == rows && C == cols {
                let (_, mut rest) = bytes.split_at(offset);
                let mut r = 0;
                while r < R {
                    let mut c = 0;
                    while c < C {
                        let [$($byte),+, tail @ ..] = rest else {
                            panic!("the tensor's bytes end early");
                        };
                        columns[c][r] = <$t>::from_bits(0 $(| (*$byte as $bits) << $shift)+);
                        rest = tail;
                        c += 1;
                    }
                    r += 1;
                }
            }
            SMatrix::from_array_storage(ArrayStorage(columns))
        }
    };
}

decoder!(
    /// The `R × C` matrix whose elements are stored row-major as
    /// little-endian `f32` from `offset` in `bytes`: a safetensors tensor of
    /// shape `[R, C]` (a dense weight), `[R]` with `C = 1` (a bias) or
    /// `[R, c, kh, kw]` with `C = c · kh · kw` (a convolution's filters).
    /// Zeros when `(rows, cols)`, the shape the macro found in the file, is
    /// not `(R, C)`: that happens only where sizes are named constants, and
    /// then the macro's shape assertion reports the mismatch by name.
    ///
    /// # Panics
    ///
    /// When `bytes` ends before the tensor does (at compile time, in a
    /// constant).
    ///
    /// ```
    /// use staticnet::__private::decode_f32_matrix;
    ///
    /// // [[1, 2, 3], [4, 5, 6]] row-major, after a 2-byte prefix
    /// let mut bytes = vec![0xff, 0xff];
    /// for v in [1.0_f32, 2.0, 3.0, 4.0, 5.0, 6.0] {
    ///     bytes.extend_from_slice(&v.to_le_bytes());
    /// }
    /// let m = decode_f32_matrix::<2, 3>(&bytes, 2, 2, 3);
    /// assert_eq!(m[(1, 0)], 4.0);
    /// assert_eq!(m.as_slice(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]); // column-major
    /// assert_eq!(decode_f32_matrix::<3, 2>(&bytes, 2, 2, 3).sum(), 0.0);
    /// ```
    decode_f32_matrix, f32, u32, b0 << 0, b1 << 8, b2 << 16, b3 << 24
);

decoder!(
    /// As [`decode_f32_matrix`], for little-endian `f64`.
    ///
    /// # Panics
    ///
    /// When `bytes` ends before the tensor does.
    ///
    /// ```
    /// use staticnet::__private::decode_f64_matrix;
    ///
    /// const BYTES: [u8; 16] = {
    ///     let (a, b) = (0.5_f64.to_le_bytes(), (-2.0_f64).to_le_bytes());
    ///     [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]
    /// };
    /// const BIAS: nalgebra::SVector<f64, 2> = decode_f64_matrix::<2, 1>(&BYTES, 0, 2, 1);
    /// assert_eq!(BIAS, nalgebra::SVector::from([0.5, -2.0]));
    /// ```
    decode_f64_matrix, f64, u64, b0 << 0, b1 << 8, b2 << 16, b3 << 24, b4 << 32, b5 << 40, b6 << 48, b7 << 56
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_major_bytes_become_the_same_matrix() {
        let m = SMatrix::<f64, 3, 4>::from_fn(|i, j| (10 * i + j) as f64 - 7.25);
        let mut bytes = vec![1, 2, 3];
        for i in 0..3 {
            for j in 0..4 {
                bytes.extend_from_slice(&m[(i, j)].to_le_bytes());
            }
        }
        assert_eq!(decode_f64_matrix::<3, 4>(&bytes, 3, 3, 4), m);
        let m32 = m.map(|v| v as f32);
        let mut bytes = Vec::new();
        for i in 0..3 {
            for j in 0..4 {
                bytes.extend_from_slice(&m32[(i, j)].to_le_bytes());
            }
        }
        assert_eq!(decode_f32_matrix::<3, 4>(&bytes, 0, 3, 4), m32);
    }

    #[test]
    fn special_values_keep_their_bits() {
        let values = [f32::MIN_POSITIVE, -0.0, f32::MAX, 1e-45];
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let m = decode_f32_matrix::<4, 1>(&bytes, 0, 4, 1);
        for (a, b) in m.iter().zip(values) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }

    #[test]
    fn another_shape_gives_zeros() {
        let bytes = [0_u8; 64];
        assert_eq!(
            decode_f64_matrix::<2, 2>(&bytes, 0, 4, 1),
            SMatrix::<f64, 2, 2>::zeros()
        );
        assert_eq!(
            decode_f32_matrix::<2, 2>(&[], 0, 0, 0),
            SMatrix::<f32, 2, 2>::zeros()
        );
    }

    #[test]
    #[should_panic(expected = "end early")]
    fn short_bytes_panic() {
        let _ = decode_f32_matrix::<2, 2>(&[0; 15], 0, 2, 2);
    }
}
