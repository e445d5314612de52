//! A table of a network's layers, in the manner of Keras' `model.summary()`.

use core::fmt::{self, Write as _};

use crate::layers::Geometry2d;

/// One row of a [`Summary`].
///
/// ```
/// use staticnet::prelude::*;
///
/// network! { struct Net { input: 4, hidden: dense(8) -> leaky_relu(0.1), dense(3) -> softmax } }
///
/// let hidden = &Net::summary().layers[0];
/// assert_eq!((hidden.name, hidden.kind), ("hidden", "dense"));
/// assert_eq!(hidden.activation, "leaky_relu(0.1)");
/// assert_eq!((hidden.output, hidden.parameters), (&[8][..], 4 * 8 + 8));
/// assert_eq!(Net::summary().layers[1].name, "layer2");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerSummary {
    /// The layer's name as declared (or `layerN` for an unnamed layer).
    pub name: &'static str,
    /// The layer kind as written in the declaration (`dense`).
    pub kind: &'static str,
    /// The activation as written in the declaration (`relu`,
    /// `leaky_relu(0.1)`); `identity` when none was given.
    pub activation: &'static str,
    /// The shape of the layer's output.
    pub output: &'static [usize],
    /// The number of parameters of the layer.
    pub parameters: usize,
    /// Multiply-adds of one forward pass for one sample (weights times
    /// inputs; 0 for pooling and flattening).
    pub multiply_adds: usize,
    /// The window, stride and padding of a convolution or pool; `None` for
    /// other layers.
    pub geometry: Option<Geometry2d>,
}

/// A description of a network: its layers, their output shapes and
/// parameter counts. [`Display`](fmt::Display) prints it as a table.
///
/// ```
/// use staticnet::prelude::*;
///
/// network! {
///     struct Xor {
///         input: 2,
///         hidden: dense(2) -> relu,
///         output: dense(1) -> sigmoid,
///     }
/// }
///
/// let summary = Xor::summary();
/// assert_eq!(summary.parameters(), 9);
/// assert_eq!(summary.layers[0].output, &[2]);
/// println!("{summary}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The network's type name.
    pub name: &'static str,
    /// The scalar type as declared (`f32`, `f64`).
    pub scalar: &'static str,
    /// The size in bytes of one scalar.
    pub scalar_bytes: usize,
    /// The shape of the input.
    pub input: &'static [usize],
    /// The layers in order.
    pub layers: &'static [LayerSummary],
}

impl Summary {
    /// The number of parameters of all layers together.
    ///
    /// ```
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net { input: 3, hidden: dense(4) -> relu, out: dense(2) } }
    ///
    /// assert_eq!(Net::summary().parameters(), (3 * 4 + 4) + (4 * 2 + 2));
    /// ```
    #[must_use]
    pub fn parameters(&self) -> usize {
        self.layers.iter().map(|l| l.parameters).sum()
    }

    /// Multiply-adds of one forward pass for one sample, all layers.
    #[must_use]
    pub fn multiply_adds(&self) -> usize {
        self.layers.iter().map(|l| l.multiply_adds).sum()
    }

    /// The bytes that the parameters take (gradients take as much again).
    ///
    /// ```
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Net<f64> { input: 3, hidden: dense(4) -> relu, out: dense(2) } }
    ///
    /// let summary = Net::summary();
    /// assert_eq!(summary.parameters(), 26);
    /// assert_eq!(summary.parameter_bytes(), 26 * 8);
    /// ```
    #[must_use]
    pub fn parameter_bytes(&self) -> usize {
        self.parameters() * self.scalar_bytes
    }

    /// The architecture on one line: the input shape, then every layer's
    /// name, kind, output shape, activation and (for convolutions and pools)
    /// window, stride and padding. The network's type name and scalar type
    /// are not part of it: renaming the struct or changing `f32` to `f64`
    /// keeps the architecture.
    ///
    /// ```
    /// use staticnet::prelude::*;
    ///
    /// network! { struct Xor { input: 2, hidden: dense(2) -> relu, output: dense(1) -> sigmoid } }
    ///
    /// assert_eq!(
    ///     Xor::summary().architecture().to_string(),
    ///     "input [2]; hidden: dense [2] relu; output: dense [1] sigmoid"
    /// );
    /// ```
    #[must_use]
    pub const fn architecture(&self) -> Architecture<'_> {
        Architecture(self)
    }

    /// A 64-bit fingerprint of [`architecture`](Self::architecture) (FNV-1a
    /// of its text): equal for networks of the same architecture, and
    /// different, but for a 2⁻⁶⁴ chance, for any other. Weight files record
    /// it so that loading into a different network fails with a message
    /// that says so.
    ///
    /// ```
    /// use staticnet::prelude::*;
    ///
    /// network! { struct A { input: 2, hidden: dense(2) -> relu, output: dense(1) } }
    /// network! { struct B<f64> { input: 2, hidden: dense(2) -> relu, output: dense(1) } }
    /// network! { struct C { input: 2, hidden: dense(2) -> tanh, output: dense(1) } }
    ///
    /// assert_eq!(A::summary().fingerprint(), B::summary().fingerprint());
    /// assert_ne!(A::summary().fingerprint(), C::summary().fingerprint());
    /// ```
    #[must_use]
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = Fnv1a(0xcbf2_9ce4_8422_2325);
        // writing into the hasher cannot fail
        let _ = fmt::write(&mut hasher, format_args!("{}", self.architecture()));
        hasher.0
    }
}

/// The architecture of a network on one line, as
/// [`Summary::architecture`] returns it; print it with `{}`.
///
/// ```
/// use staticnet::prelude::*;
///
/// network! {
///     struct Cnn {
///         input: [1, 6, 6],
///         conv: conv2d(2, kernel = 3, padding = 1) -> relu,
///         pool: max_pool(2),
///         flatten,
///         out: dense(3),
///     }
/// }
///
/// assert_eq!(
///     Cnn::summary().architecture().to_string(),
///     "input [1, 6, 6]; conv: conv2d [2, 6, 6] relu kernel 3x3 stride 1x1 padding 1x1; \
///      pool: max_pool [2, 3, 3] identity kernel 2x2 stride 2x2 padding 0x0; layer3: flatten [18]; \
///      out: dense [3] identity"
/// );
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Architecture<'a>(&'a Summary);

impl fmt::Display for Architecture<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "input {}", Shape(self.0.input))?;
        for l in self.0.layers {
            write!(f, "; {}: {} {}", l.name, l.kind, Shape(l.output))?;
            if !l.activation.is_empty() {
                write!(f, " {}", l.activation)?;
            }
            if let Some(g) = &l.geometry {
                write!(
                    f,
                    " kernel {}x{} stride {}x{} padding {}x{}",
                    g.kernel.0, g.kernel.1, g.stride.0, g.stride.1, g.padding.0, g.padding.1
                )?;
            }
        }
        Ok(())
    }
}

/// The 64-bit FNV-1a hash of what is written into it.
struct Fnv1a(u64);

impl fmt::Write for Fnv1a {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for byte in s.bytes() {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        Ok(())
    }
}

/// Counts the characters written into it.
struct Count(usize);

impl fmt::Write for Count {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.chars().count();
        Ok(())
    }
}

/// The number of characters `value` prints with `{}`, counted without
/// allocating.
fn chars(value: &dyn fmt::Display) -> usize {
    let mut count = Count(0);
    // writing into the counter cannot fail
    let _ = fmt::write(&mut count, format_args!("{value}"));
    count.0
}

struct Shape<'a>(&'a [usize]);

impl Shape<'_> {
    fn write(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

impl fmt::Display for Shape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(width) = f.width() else {
            return self.write(f);
        };
        // padded as `Formatter::pad` pads a string: left-aligned by default
        let mut len = Count(0);
        self.write(&mut len)?;
        let pad = width.saturating_sub(len.0);
        let (before, after) = match f.align() {
            Some(fmt::Alignment::Right) => (pad, 0),
            Some(fmt::Alignment::Center) => (pad / 2, pad - pad / 2),
            _ => (0, pad),
        };
        let fill = f.fill();
        for _ in 0..before {
            f.write_char(fill)?;
        }
        self.write(f)?;
        for _ in 0..after {
            f.write_char(fill)?;
        }
        Ok(())
    }
}

impl Summary {
    /// Calls `f` with the cells of each row of the table: the input, then
    /// every layer.
    fn for_each_row(
        &self,
        mut f: impl FnMut([&dyn fmt::Display; 6]) -> fmt::Result,
    ) -> fmt::Result {
        f([&"input", &"input", &"", &Shape(self.input), &0, &0])?;
        for l in self.layers {
            f([
                &l.name,
                &l.kind,
                &l.activation,
                &Shape(l.output),
                &l.parameters,
                &l.multiply_adds,
            ])?;
        }
        Ok(())
    }
}

/// Written without allocating: a `no_std` program can print the table too.
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = [
            "layer",
            "kind",
            "activation",
            "output",
            "parameters",
            "mult-adds",
        ];
        let mut widths = header.map(str::len);
        self.for_each_row(|row| {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(chars(cell));
            }
            Ok(())
        })?;
        let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
        writeln!(f, "network {} ({})", self.name, self.scalar)?;
        let line = |f: &mut fmt::Formatter<'_>, cells: [&dyn fmt::Display; 6]| {
            writeln!(
                f,
                "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {:>w4$}  {:>w5$}",
                cells[0],
                cells[1],
                cells[2],
                cells[3],
                cells[4],
                cells[5],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
                w4 = widths[4],
                w5 = widths[5],
            )
        };
        let rule = |f: &mut fmt::Formatter<'_>| {
            for _ in 0..total {
                f.write_char('-')?;
            }
            f.write_char('\n')
        };
        line(f, header.each_ref().map(|h| h as &dyn fmt::Display))?;
        rule(f)?;
        self.for_each_row(|row| line(f, row))?;
        rule(f)?;
        write!(
            f,
            "parameters: {} ({} bytes), multiply-adds per sample: {}",
            self.parameters(),
            self.parameter_bytes(),
            self.multiply_adds()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_layers_and_totals() {
        const LAYERS: &[LayerSummary] = &[
            LayerSummary {
                name: "hidden",
                kind: "dense",
                activation: "relu",
                output: &[16],
                parameters: 48,
                multiply_adds: 32,
                geometry: None,
            },
            LayerSummary {
                name: "out",
                kind: "dense",
                activation: "softmax",
                output: &[3],
                parameters: 51,
                multiply_adds: 48,
                geometry: None,
            },
        ];
        let s = Summary {
            name: "Net",
            scalar: "f32",
            scalar_bytes: 4,
            input: &[2],
            layers: LAYERS,
        };
        let text = s.to_string();
        let expected = "\
network Net (f32)
layer   kind   activation  output  parameters  mult-adds
--------------------------------------------------------
input   input              [2]              0          0
hidden  dense  relu        [16]            48         32
out     dense  softmax     [3]             51         48
--------------------------------------------------------
parameters: 99 (396 bytes), multiply-adds per sample: 80";
        assert_eq!(text, expected);
    }
}
