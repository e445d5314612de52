//! A table of a network's layers, in the manner of Keras' `model.summary()`.

use core::fmt;

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
}

struct Shape<'a>(&'a [usize]);

impl fmt::Display for Shape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::from("[");
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(&d.to_string());
        }
        text.push(']');
        f.pad(&text)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 6]> = core::iter::once([
            "input".to_string(),
            "input".to_string(),
            String::new(),
            Shape(self.input).to_string(),
            "0".to_string(),
            "0".to_string(),
        ])
        .chain(self.layers.iter().map(|l| {
            [
                l.name.to_string(),
                l.kind.to_string(),
                l.activation.to_string(),
                Shape(l.output).to_string(),
                l.parameters.to_string(),
                l.multiply_adds.to_string(),
            ]
        }))
        .collect();
        let header = [
            "layer",
            "kind",
            "activation",
            "output",
            "parameters",
            "mult-adds",
        ];
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
        writeln!(f, "network {} ({})", self.name, self.scalar)?;
        let line = |f: &mut fmt::Formatter<'_>, cells: [&str; 6]| {
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
        line(f, header)?;
        writeln!(f, "{}", "-".repeat(total))?;
        for row in &rows {
            line(f, [&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]])?;
        }
        writeln!(f, "{}", "-".repeat(total))?;
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
            },
            LayerSummary {
                name: "out",
                kind: "dense",
                activation: "softmax",
                output: &[3],
                parameters: 51,
                multiply_adds: 48,
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
