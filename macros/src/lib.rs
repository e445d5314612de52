//! The `network!` macro of [staticnet](https://docs.rs/staticnet); use it
//! through `staticnet::network!`, whose documentation describes the language.
//!
//! The pipeline reads as three steps: parse (`ast`), check shapes and
//! collect every error (`validate`), generate code that cannot fail
//! (`expand`); `fallback` covers input that does not parse.

mod ast;
mod bake;
mod expand;
mod fallback;
mod spatial;
mod suggest;
mod validate;

use proc_macro::TokenStream;

/// Declares a neural network whose shapes are checked at compile time.
///
/// ```
/// use staticnet::prelude::*;
/// use nalgebra::SVector;
///
/// network! {
///     /// The two-layer ReLU network that solves XOR.
///     #[derive(Clone, Debug)]
///     pub struct Xor {
///         input: 2,
///         hidden: dense(2) -> relu,
///         output: dense(1) -> sigmoid,
///     }
/// }
///
/// let net = Xor::from_seed(7);
/// let y: SVector<f32, 1> = net.forward(&SVector::from([1.0, 0.0]));
/// assert!(0.0 < y[0] && y[0] < 1.0);
/// assert_eq!(Xor::PARAMETERS, 2 * 2 + 2 + 2 * 1 + 1);
/// ```
///
/// # The language
///
/// ```text
/// ATTRIBUTES  VISIBILITY struct NAME [<SCALAR>] {
///     input: SIZE,
///     [LAYER_NAME:] dense(SIZE)          [-> ACTIVATION],
///     [LAYER_NAME:] dense(SIZE => SIZE)  [-> ACTIVATION],
///     ...
/// }
/// ```
///
/// - Attributes and doc comments pass through to the struct, and any
///   visibility is allowed. `SCALAR` is the number type, `f32` when omitted:
///   `struct Net<f64> { .. }`.
/// - `input: SIZE` comes first and gives the number of input features.
/// - Each layer is `dense(OUT)`, a fully connected layer with `OUT` outputs,
///   or `dense(IN => OUT)`, which also states its input size; the macro
///   checks that `IN` is what the previous layer produces. A layer without a
///   name is named by its position: `layer1`, `layer2`, …
/// - `-> ACTIVATION` follows a layer; without it the layer is linear
///   (`identity`). The activations are `identity`, `relu`,
///   `leaky_relu(alpha)` (`alpha` 0.01 when omitted), `elu(alpha)` (1 when
///   omitted), `selu`, `gelu` (tanh approximation), `sigmoid`, `tanh`,
///   `softplus` and `softmax`.
/// - Images and sequences: `input: [C, H, W]` or `input: [C, L]` (integer
///   literals), then
///   `conv2d(C_OUT, kernel = K, stride = S, padding = P)` with `K`, `S`, `P`
///   a number or a `(height, width)` pair and `padding = same` where it keeps
///   the size exactly (stride 1, odd kernel); `conv2d(C_IN => C_OUT, ..)`
///   states the input channels too; `conv1d(..)` likewise for sequences;
///   `max_pool(K)` and `avg_pool(K)` with an optional `stride = S` (the
///   kernel when omitted); `global_avg_pool` (one value per channel); and
///   `flatten`. A dense layer after an image or a sequence asks for an
///   explicit `flatten`, as Keras does, so that the flattening is visible in
///   the declaration and the summary. Every output shape is computed by the
///   macro from `(W − K + 2P) / S + 1`; a stride that does not tile the padded
///   input, a kernel larger than it or a pool that does not divide it is a
///   compile error at that argument, with the arithmetic.
/// - Layers take an initializer: `dense(64, init = he_normal, bias_init =
///   constant(0.1))`; the initializers are `zeros`, `constant(v)`,
///   `uniform(low, high)`, `normal(mean, std)`, `truncated_normal(mean, std)`,
///   `glorot_uniform`, `glorot_normal`, `he_uniform`, `he_normal`,
///   `lecun_uniform`, `lecun_normal` and `orthogonal` / `orthogonal(gain)`.
/// - A `SIZE` is an integer literal, a path to a `const` item, or a braced
///   const expression:
///
/// ```
/// use staticnet::prelude::*;
///
/// const HIDDEN: usize = 16;
///
/// network! {
///     struct Net<f64> {
///         input: 8,
///         dense(HIDDEN) -> leaky_relu(0.1),
///         dense({ 2 * HIDDEN }) -> tanh,
///         out: dense({ 2 * HIDDEN } => 3) -> softmax,
///     }
/// }
///
/// assert_eq!(Net::summary().layers[1].name, "layer2");
/// assert_eq!(Net::OUTPUT, 3);
/// ```
///
/// # Shape errors are compile errors
///
/// Every size the macro can read is checked while the crate compiles, so
/// `cargo check` and the editor report a wrong shape at the token that is
/// wrong. All the mistakes of one declaration are reported together:
///
/// ```compile_fail
/// use staticnet::prelude::*;
///
/// network! {
///     struct Net {
///         input: 4,
///         hidden: dense(8) -> relu,
///         output: dense(6 => 2) -> softmax, // error: dense layer expects 6 inputs, but `hidden` produces 8
///     }
/// }
/// ```
///
/// A convolutional network, whose summary shows every shape the macro
/// computed:
///
/// ```
/// use staticnet::prelude::*;
///
/// network! {
///     struct Cnn {
///         input: [1, 28, 28],
///         conv1: conv2d(8, kernel = 3, padding = same) -> relu,
///         pool1: max_pool(2),
///         conv2: conv2d(16, kernel = (3, 3), stride = 1) -> relu,
///         pool2: max_pool(2, stride = 2),
///         flatten,
///         output: dense(10) -> softmax,
///     }
/// }
///
/// let shapes: Vec<&[usize]> = Cnn::summary().layers.iter().map(|l| l.output).collect();
/// assert_eq!(shapes, [&[8, 28, 28][..], &[8, 14, 14], &[16, 12, 12], &[16, 6, 6], &[576], &[10]]);
/// ```
///
/// ```compile_fail
/// use staticnet::prelude::*;
///
/// network! {
///     struct Net {
///         input: [1, 28, 28],
///         conv: conv2d(4, kernel = 5, stride = 2), // error: stride 2 does not tile the padded input height and width: (28 − 5 + 2·0) / 2 + 1 = 12.50, not a whole number
///     }
/// }
/// ```
///
/// Where a size is a named constant, the check is a constant assertion that
/// names the layer and fails at the same token. An unknown layer kind or
/// activation gets a "did you mean" when one is close; a zero size, a
/// duplicate layer name and a missing `input:` are errors too.
///
/// # What it generates
///
/// For `struct Net`, the macro emits:
///
/// - `struct Net` with one public field per layer with parameters, named
///   after the layer: a [`Dense<T, IN, OUT, S>`] whose `weight` (`OUT × IN`)
///   and `bias` are nalgebra matrices, or a `Conv2d<T, C_OUT, K_LEN, S>`
///   whose `weight` row `o` is filter `o` in PyTorch's `(c, kh, kw)` order.
///   Images are flattened channels × height × width, row-major, in each
///   sample's vector. Layers of up to 16,384 scalars keep them inline, so a
///   small network is a plain value with no heap; larger layers keep them on
///   the heap, allocated in place, so a large network never passes through
///   the stack (a network with baked-in weights keeps every layer inline;
///   see below).
/// - `Net::INPUT`, `Net::OUTPUT`, `Net::PARAMETERS` and `Net::SUMMARY`
///   (also `Net::summary()`), a table in the manner of Keras'
///   `model.summary()`.
/// - Constructors: `Net::zeros()`, `Net::from_rng(&mut rng)` and
///   `Net::from_seed(u64)`. Weights are He uniform (variance `2 / fan_in`)
///   before a ReLU-family activation and Glorot uniform otherwise; biases are
///   zero. The same seed gives the same weights, bit for bit, on every run.
/// - `forward(&x)` for one sample (`SVector<T, IN>` to `SVector<T, OUT>`)
///   and `forward_batch(&x)` for a batch (`OMatrix<T, Const<IN>, Dyn>`, one
///   sample per column), built on matrix-matrix products.
/// - `forward_trace` / `forward_batch_trace`, which record every layer's
///   pre-activation `z` and activation `a` in a `NetTrace` /
///   `NetBatchTrace`, and `backward` / `backward_batch`, which take that
///   record and the output delta `δ = ∂L/∂z`, add every parameter's gradient
///   into a `NetGradients` (a struct of the same shapes) and return the
///   gradient with respect to the input.
/// - `gradients(&x, &y, loss)` and `batch_gradients(&x, &y, loss)`, which
///   return the loss and the gradients in one call (batch gradients are means
///   over the batch), and `accumulate_gradients` / `accumulate_batch_gradients`
///   that add into existing gradients. The output delta is fused to `ŷ − y`
///   for the canonical pairs (sigmoid with binary cross-entropy, softmax with
///   cross-entropy, identity with squared error) and follows the chain rule
///   for every other pair.
/// - Implementations of `Parameters`, `Trainable` and `Network<IN, OUT>`, so
///   optimizers and tools in the runtime work for every network:
///
/// ```
/// use staticnet::prelude::*;
/// use nalgebra::SVector;
///
/// network! {
///     struct Line<f64> { input: 1, out: dense(1) }
/// }
///
/// let mut net = Line::zeros();
/// let mut sgd = Sgd::new(0.1);
/// let (x, y) = (SVector::from([2.0]), SVector::from([3.0]));
/// for _ in 0..200 {
///     let (_loss, grads) = net.gradients(&x, &y, SquaredError);
///     sgd.step(&mut net, &grads);
/// }
/// assert!((net.forward(&x)[0] - 3.0).abs() < 1e-9);
/// ```
///
/// # Weights baked in at compile time
///
/// With the `embed` feature of staticnet, `#[weights = "PATH"]` on the
/// declaration reads a safetensors file while the crate compiles (`PATH` is
/// relative to the crate's directory, where its `Cargo.toml` is, or
/// absolute), checks every tensor against the declaration, and bakes the
/// weights in as constant data:
///
/// ```
/// use staticnet::prelude::*;
/// use nalgebra::SVector;
///
/// network! {
///     /// The lecture's hand-set XOR network: y = relu(a + b) − 2 relu(a + b − 1).
///     #[weights = "fixtures/xor.safetensors"]
///     struct Xor { input: 2, hidden: dense(2) -> relu, output: dense(1) }
/// }
///
/// // a reference to a `static`: no heap, no file, no parsing at run time
/// let net: &'static Xor = Xor::trained();
/// assert_eq!(net.forward(&SVector::from([1.0, 0.0]))[0], 1.0);
/// // the same network as a constant, for const contexts
/// const XOR: Xor = Xor::TRAINED;
/// assert_eq!(XOR.forward(&SVector::from([1.0, 1.0]))[0], 0.0);
/// ```
///
/// - `Net::trained()` returns a `&'static Net` that lives in the program's
///   read-only data: never copied and never on the stack, whatever the
///   network's size. `Net::TRAINED` is the same network as a constant,
///   copied wherever it is used.
/// - Every layer of a baked network keeps its parameters inline (no heap,
///   at any size), so it needs no allocator. `Net::zeros()`, `from_seed`
///   and the gradients of a large baked network then live on the stack too;
///   to train such a network further, declare it without `#[weights]` and
///   load the file with `staticnet::weights::Weights::load`.
/// - Tensors are named and laid out as `staticnet::weights` writes them:
///   `layer.weight` row-major, `[out, in]` for a dense layer and
///   `[out_channels, in_channels, kernel_height, kernel_width]` for a
///   convolution (PyTorch's layouts), and `layer.bias`. The scalar type must
///   be written `f32` or `f64` and match the file's `F32` or `F64`.
/// - Every problem with the file is a compile error, all of them reported
///   together: a missing or unreadable file, or one that is not safetensors
///   (naming the resolved path); a missing tensor, a tensor of another shape
///   or dtype, or with a value that is not finite (each at its layer, with
///   both shapes or dtypes); a tensor the network does not have; and, where
///   the file records staticnet's architecture (as `Weights::save` writes
///   it), a file saved from a network of another architecture, such as
///   another activation. A file without that record (from PyTorch, say) is
///   checked tensor by tensor.
/// - Where a size is a named constant (`dense(HIDDEN)`), the macro cannot
///   know it: the tensor's shape is then checked by a constant assertion
///   whose message names the tensor, at the size, and the architecture
///   check is skipped (the tensors' shapes are still checked).
/// - The file is included with `include_bytes!`, so cargo rebuilds the
///   crate when the file changes. `const fn`s decode it while the crate
///   compiles (about 80,000 scalars a second: a 784-128-10 network adds
///   about 1.2 s to a build), and only the decoded network ends up in the
///   program, not the file.
/// - Without the `embed` feature, `#[weights]` is a compile error that says
///   how to turn the feature on. The feature adds the `safetensors` crate
///   and serde to the macro's build: about 17 s of CPU time and, on two
///   cores, about 9 s of a cold release build.
///
/// [`Dense<T, IN, OUT, S>`]: https://docs.rs/staticnet/latest/staticnet/layers/struct.Dense.html
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    let declaration = match syn::parse2::<ast::Declaration>(input.clone()) {
        Ok(declaration) => declaration,
        Err(error) => return fallback::expand(input, &error).into(),
    };
    let mut declaration = declaration;
    let mut bake_errors = Vec::new();
    let weights = bake::take_attribute(&mut declaration.attrs, &mut bake_errors);
    let (mut network, errors) = validate::validate(declaration);
    let baked = weights.map(|attr| {
        network.all_inline = true;
        let (code, errors_found) = bake::bake(&network, &attr, errors.is_none());
        bake_errors.extend(errors_found);
        code
    });
    let code = expand::expand(&network);
    let errors = errors.map(|e| e.to_compile_error());
    let bake_errors = bake_errors.iter().map(syn::Error::to_compile_error);
    quote::quote!(#errors #(#bake_errors)* #code #baked).into()
}

#[cfg(test)]
mod tests {
    //! The expansion of a declaration that uses every feature of the
    //! language is kept, formatted, in `tests/tests/expanded.rs`, where it
    //! compiles as ordinary source under `#![deny(warnings)]` and clippy's
    //! pedantic group. (Clippy skips code that a macro generates, so linting
    //! the expansion as a file is the only way its lints reach it.) What the
    //! expansion wraps in `::staticnet::__if_alloc! { ... }` is unwrapped
    //! there, as the runtime's default features expand it, so that rustfmt
    //! formats it.

    use std::path::Path;
    use std::process::{Command, Stdio};

    const DECLARATION: &str = r"
        /// Every feature of the language in one public declaration.
        #[derive(Clone, Debug, PartialEq)]
        pub struct Everything<f64> {
            input: sizes::FEATURES,
            first: dense(sizes::HIDDEN) -> leaky_relu(0.2),
            dense({ 2 * sizes::HIDDEN }) -> elu(1.5),
            dense({ 2 * sizes::HIDDEN } => 6) -> selu,
            dense(6 => 6) -> gelu,
            dense(4) -> softplus,
            dense(4) -> tanh,
            dense(4) -> sigmoid,
            dense(4),
            big: dense(5000) -> relu,
            last: dense(3) -> softmax,
        }
    ";

    const HEADER: &str = r#"//! The expansion of `network!` for a declaration that uses every feature,
//! kept as source so that clippy's pedantic lints check it (clippy skips
//! code generated by macros). Written by the macro crate's test
//! `expansion_snapshot_is_current`; refresh with
//! `UPDATE_EXPANSION=1 cargo test -p staticnet-macros`.
#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unused_qualifications,
    clippy::all,
    clippy::pedantic
)]

/// Sizes from named constants.
pub mod sizes {
    /// Input features.
    pub const FEATURES: usize = 5;
    /// Hidden units.
    pub const HIDDEN: usize = 7;
}

#[test]
fn the_expansion_runs() {
    let net = Everything::from_seed(1);
    let y = net.forward(&nalgebra::SVector::from([0.1, 0.2, 0.3, 0.4, 0.5]));
    assert!((y.sum() - 1.0).abs() < 1e-12);
    assert_eq!(Everything::summary().layers.len(), 10);
}

"#;

    fn rustfmt(source: &str) -> String {
        use std::io::Write;
        let mut child = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into()))
            .args(["--edition", "2024", "--emit", "stdout"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("rustfmt (part of the Rust toolchain) runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(source.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "rustfmt failed on the expansion");
        String::from_utf8(output.stdout).unwrap()
    }

    /// `tokens` with every `::staticnet::__if_alloc! { code }` replaced by
    /// `code`.
    fn unwrap_if_alloc(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
        use proc_macro2::{Group, TokenTree};
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            // `:`, `:`, `staticnet`, `:`, `:`, `__if_alloc`, `!`, `{ ... }`
            let path: String = tokens[i..tokens.len().min(i + 7)]
                .iter()
                .map(ToString::to_string)
                .collect();
            if path == "::staticnet::__if_alloc!"
                && let Some(TokenTree::Group(body)) = tokens.get(i + 7)
            {
                out.extend(unwrap_if_alloc(body.stream()));
                i += 8;
                continue;
            }
            out.push(match &tokens[i] {
                TokenTree::Group(g) => {
                    let mut group = Group::new(g.delimiter(), unwrap_if_alloc(g.stream()));
                    group.set_span(g.span());
                    TokenTree::Group(group)
                }
                other => other.clone(),
            });
            i += 1;
        }
        out.into_iter().collect()
    }

    #[test]
    fn expansion_snapshot_is_current() {
        let declaration = syn::parse_str::<crate::ast::Declaration>(DECLARATION).unwrap();
        let (network, errors) = crate::validate::validate(declaration);
        assert!(errors.is_none(), "the declaration is valid");
        let code = unwrap_if_alloc(crate::expand::expand(&network)).to_string();
        let text = rustfmt(&format!("{HEADER}{code}"));
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/tests/expanded.rs");
        if std::env::var_os("UPDATE_EXPANSION").is_some() {
            std::fs::write(&path, &text).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "tests/tests/expanded.rs is not the current expansion; \
             run `UPDATE_EXPANSION=1 cargo test -p staticnet-macros` and read the diff"
        );
    }
}
