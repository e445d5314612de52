//! Shape inference and every check the macro can make. Errors are
//! collected, not returned at the first, so a user sees all the mistakes of
//! a declaration in one compile. The result is a checked network whose every
//! layer knows its input and output size; where a declaration is wrong, the
//! checked network is repaired (the previous layer's size is used, an unknown
//! activation becomes `identity`) so that the expansion still compiles and
//! the rest of the user's crate does not fill with unrelated errors.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::{Ident, Type};

use crate::ast::{ActivationCall, Arg, Declaration, Entry, Layer, Size};
use crate::spatial::{self, Geom, Shape};
use crate::suggest::did_you_mean;

/// The layer kinds the macro knows.
const LAYER_KINDS: &[&str] = &[
    "dense",
    "conv2d",
    "conv1d",
    "max_pool",
    "avg_pool",
    "global_avg_pool",
    "flatten",
];

/// Activations: DSL name, runtime type, default arguments.
const ACTIVATIONS: &[(&str, &str, Option<f64>)] = &[
    ("identity", "Identity", None),
    ("relu", "Relu", None),
    ("leaky_relu", "LeakyRelu", Some(0.01)),
    ("elu", "Elu", Some(1.0)),
    ("selu", "Selu", None),
    ("gelu", "Gelu", None),
    ("sigmoid", "Sigmoid", None),
    ("tanh", "Tanh", None),
    ("softplus", "Softplus", None),
    ("softmax", "Softmax", None),
];

/// A size after validation: a number the macro knows, or a const expression
/// that only the compiler can evaluate.
#[derive(Clone)]
pub enum Dim {
    Known(usize),
    /// `expr` is the user's expression with the user's spans; the wrapping
    /// parentheses and braces added here have the macro's span, so lints
    /// about unneeded ones do not reach the user's code.
    Symbolic {
        expr: TokenStream,
        text: String,
    },
}

impl Dim {
    /// The const-generic argument for this size.
    pub fn arg(&self) -> TokenStream {
        match self {
            Dim::Known(n) => {
                let lit = proc_macro2::Literal::usize_unsuffixed(*n);
                quote!(#lit)
            }
            Dim::Symbolic { expr, .. } => quote!({ #expr }),
        }
    }

    /// The size as an operand in an expression.
    pub fn value(&self) -> TokenStream {
        match self {
            Dim::Known(_) => self.arg(),
            Dim::Symbolic { expr, .. } => quote!((#expr)),
        }
    }

    /// How the size reads in messages.
    pub fn text(&self) -> String {
        match self {
            Dim::Known(n) => n.to_string(),
            Dim::Symbolic { text, .. } => text.clone(),
        }
    }
}

pub struct Activation {
    /// `::staticnet::activation::Relu`
    pub ty: TokenStream,
    /// an expression of that type
    pub value: TokenStream,
    /// as the summary shows it: `leaky_relu(0.1)`
    pub text: String,
}

/// What a layer computes.
pub enum Op {
    Dense,
    Conv(Geom),
    Pool {
        max: bool,
        geom: Geom,
    },
    /// A change of shape only: no parameters, no computation.
    Flatten,
}

pub struct CheckedLayer {
    pub field: Ident,
    pub name: String,
    pub kind: &'static str,
    pub op: Op,
    /// The flat length of one input sample.
    pub input: Dim,
    /// The flat length of one output sample.
    pub output: Dim,
    /// The output's shape, for the summary.
    pub output_shape: Shape,
    pub activation: Activation,
    /// Where the output size is written.
    pub output_span: Span,
    /// `init = ...`: an `Init` expression, or the default for the activation.
    pub weight_init: Option<TokenStream>,
    /// `bias_init = ...`: an `Init` expression, or zeros.
    pub bias_init: Option<TokenStream>,
}

pub struct Network {
    pub decl_attrs: Vec<syn::Attribute>,
    pub vis: syn::Visibility,
    pub ident: Ident,
    pub scalar: Type,
    pub input: Dim,
    /// The input's shape, for the summary.
    pub input_shape: Shape,
    /// Where the input size is written.
    pub input_span: Span,
    pub layers: Vec<CheckedLayer>,
    /// `const _: () = assert!(..);` items for what only the compiler can check.
    pub assertions: Vec<TokenStream>,
    /// Every layer keeps its parameters inline, whatever its size (a network
    /// with baked-in weights); otherwise large layers live on the heap.
    pub all_inline: bool,
}

/// Collects errors so that all of them are reported together.
#[derive(Default)]
pub struct Errors(Vec<syn::Error>);

impl Errors {
    pub fn push(&mut self, span: Span, message: impl std::fmt::Display) {
        self.0.push(syn::Error::new(span, message));
    }
}

pub fn validate(decl: Declaration) -> (Network, Option<syn::Error>) {
    let mut errors = Errors::default();
    let net_name = decl.ident.to_string();
    let mut assertions = Vec::new();

    // input: must be the first entry, exactly once
    let mut input: Option<(Shape, Span)> = None;
    let mut layers_seen = 0usize;
    let mut layer_decls: Vec<&Layer> = Vec::new();
    for entry in &decl.entries {
        match entry {
            Entry::Input {
                keyword,
                sizes,
                bracket,
            } => {
                if input.is_some() {
                    errors.push(
                        keyword.span(),
                        "duplicate `input`: a network has one input size",
                    );
                    continue;
                }
                if layers_seen > 0 {
                    errors.push(keyword.span(), "`input` must come first, before the layers");
                }
                let span = bracket.unwrap_or_else(|| sizes[0].span());
                let shape = input_shape(sizes, span, &net_name, &mut errors, &mut assertions);
                input = Some((shape, span));
            }
            Entry::Layer(layer) => {
                layers_seen += 1;
                layer_decls.push(layer);
            }
        }
    }
    let (input_shape, input_span) = match input {
        Some((shape, span)) => (shape, span),
        None => {
            let span = layer_decls
                .first()
                .map_or(decl.close, |l| l.name.as_ref().unwrap_or(&l.kind).span());
            errors.push(
                span,
                "missing `input: N`: the first entry of a network gives its input size",
            );
            (Shape::Vector(Dim::Known(1)), span)
        }
    };
    let input_dim = input_shape.len();
    if layer_decls.is_empty() {
        errors.push(
            decl.close,
            "a network needs at least one layer after `input`",
        );
    }

    // names: declared or by position, unique, not `input`
    let mut names: Vec<(String, Span)> = Vec::new();
    let mut layers = Vec::new();
    let mut previous = input_shape.clone();
    let mut previous_name = String::from("input");
    let mut chain = vec![format!("input {}", input_shape.text())];
    for (index, layer) in layer_decls.iter().enumerate() {
        let position = index + 1;
        let (name, name_span) = match &layer.name {
            Some(ident) => (ident.to_string(), ident.span()),
            None => (format!("layer{position}"), layer.kind.span()),
        };
        let name = name.trim_start_matches("r#").to_string();
        let mut field_name = name.clone();
        if name == "input" {
            errors.push(
                name_span,
                "`input` is reserved for the network's input size; give this layer another name",
            );
            field_name = format!("{name}_{position}");
        }
        if let Some(first) = names.iter().position(|(n, _)| *n == name) {
            let what = if layer.name.is_some() {
                "name"
            } else {
                "position name"
            };
            errors.push(
                name_span,
                format!(
                    "the {what} `{name}` is already used by layer {}; layer names must be unique",
                    first + 1
                ),
            );
            field_name = format!("{name}_{position}");
        }
        names.push((name.clone(), name_span));
        let field = Ident::new(&field_name, name_span);

        let kind_text = layer.kind.to_string();
        let Some(kind) = LAYER_KINDS.iter().find(|k| **k == kind_text) else {
            let mut message = format!("unknown layer kind `{kind_text}`");
            if let Some(best) = did_you_mean(&kind_text, LAYER_KINDS.iter().copied()) {
                message.push_str(&format!("\nhelp: did you mean `{best}`?"));
            } else {
                message.push_str(&format!(
                    "\nnote: the layer kinds are: {}",
                    list(LAYER_KINDS.iter().copied())
                ));
            }
            errors.push(layer.kind.span(), message);
            // skip the layer but keep its activation checked
            let _ = activation(layer.activation.as_ref(), &mut errors);
            continue;
        };

        let output_span = dense_output_span(layer);
        let producer = if index == 0 {
            "the input is".to_string()
        } else {
            format!("`{previous_name}` produces")
        };
        // the activation is checked after the layer's arguments, so errors
        // come in the order they are written
        let activation_of = |errors: &mut Errors| activation(layer.activation.as_ref(), errors);
        let mut push = |op: Op,
                        output: Shape,
                        weight_init: Option<TokenStream>,
                        bias_init: Option<TokenStream>,
                        previous: &mut Shape,
                        activation: Activation| {
            layers.push(CheckedLayer {
                field: field.clone(),
                name: name.clone(),
                kind,
                op,
                input: previous.len(),
                output: output.len(),
                output_shape: output.clone(),
                activation,
                output_span,
                weight_init,
                bias_init,
            });
            *previous = output;
        };
        match *kind {
            "dense" => {
                if let Shape::Spatial { .. } = previous {
                    errors.push(
                        layer.kind.span(),
                        format!(
                            "`dense` expects a vector, but {producer} {}\nhelp: add `flatten` before this layer",
                            previous.described()
                        ),
                    );
                }
                let flat = previous.len();
                let DenseArgs {
                    declared_in,
                    output,
                    written,
                    weight_init,
                    bias_init,
                } = dense_args(layer, &net_name, &name, &mut errors, &mut assertions);
                if let Some((declared, span)) = declared_in {
                    check_input(
                        &declared,
                        span,
                        &flat,
                        &previous_name,
                        index == 0,
                        &chain,
                        &net_name,
                        &name,
                        &mut errors,
                        &mut assertions,
                    );
                }
                chain.push(format!("{name} {written}"));
                let activation = activation_of(&mut errors);
                push(
                    Op::Dense,
                    Shape::Vector(output),
                    weight_init,
                    bias_init,
                    &mut previous,
                    activation,
                );
            }
            "conv2d" | "conv1d" => {
                let rank = if *kind == "conv2d" { 2 } else { 1 };
                let mut init = |key: &Ident, value: &TokenStream, errors: &mut Errors| {
                    initializer(key, value, errors)
                };
                let conv = spatial::conv(layer, rank, &previous, &producer, &mut init, &mut errors);
                let activation = activation_of(&mut errors);
                match conv {
                    Some(conv) => {
                        chain.push(format!("{name} {}", conv.output.text()));
                        push(
                            Op::Conv(conv.geom),
                            conv.output,
                            conv.weight_init,
                            conv.bias_init,
                            &mut previous,
                            activation,
                        );
                    }
                    None => chain.push(format!("{name} ?")),
                }
            }
            "max_pool" | "avg_pool" | "global_avg_pool" => {
                let global = *kind == "global_avg_pool";
                let pool =
                    spatial::pool(layer, &previous, &previous, &producer, global, &mut errors);
                let activation = activation_of(&mut errors);
                match pool {
                    Some((geom, output)) => {
                        chain.push(format!("{name} {}", output.text()));
                        let max = *kind == "max_pool";
                        push(
                            Op::Pool { max, geom },
                            output,
                            None,
                            None,
                            &mut previous,
                            activation,
                        );
                    }
                    None => chain.push(format!("{name} ?")),
                }
            }
            _ => {
                // flatten
                if let Some(arg) = layer.args.first() {
                    errors.push(arg_span(arg), "`flatten` takes no arguments");
                }
                if let Some(call) = &layer.activation {
                    errors.push(call.name.span(), "`flatten` only changes the shape; put the activation on the layer before it");
                }
                match previous {
                    Shape::Vector(_) => errors.push(
                        layer.kind.span(),
                        format!(
                            "`flatten` expects an image or a sequence, but {producer} {} already",
                            previous.described()
                        ),
                    ),
                    Shape::Spatial { .. } => {
                        let flat = Shape::Vector(previous.len());
                        chain.push(format!("{name} {}", flat.text()));
                        let identity = make_activation("Identity", None, "identity".into());
                        push(Op::Flatten, flat, None, None, &mut previous, identity);
                    }
                }
            }
        }
        previous_name = name;
    }

    let scalar = decl.scalar.unwrap_or_else(|| syn::parse_quote!(f32));
    let network = Network {
        decl_attrs: decl.attrs,
        vis: decl.vis,
        ident: decl.ident,
        scalar,
        input: input_dim,
        input_shape,
        input_span,
        layers,
        assertions,
        all_inline: false,
    };
    let error = errors.0.into_iter().reduce(|mut a, b| {
        a.combine(b);
        a
    });
    (network, error)
}

/// Where an argument is written.
fn arg_span(arg: &Arg) -> Span {
    match arg {
        Arg::Size(s) | Arg::Arrow { output: s, .. } => s.span(),
        Arg::Pair(_, _, span) => *span,
        Arg::Keyword { key, .. } => key.span(),
    }
}

/// `input: N`, `input: [C, L]` or `input: [C, H, W]`.
fn input_shape(
    sizes: &[Size],
    span: Span,
    net: &str,
    errors: &mut Errors,
    assertions: &mut Vec<TokenStream>,
) -> Shape {
    match sizes {
        [size] => Shape::Vector(size_dim(
            size,
            "input size",
            net,
            "input",
            errors,
            assertions,
        )),
        [_, _] | [_, _, _] => {
            let mut known = Vec::new();
            for size in sizes {
                match size {
                    // a wrong size is reported and read as 1, keeping the rank
                    Size::Literal(lit) => match lit.base10_parse::<usize>() {
                        Ok(0) => {
                            errors.push(lit.span(), "input size must be at least 1, found 0");
                            known.push(1);
                        }
                        Ok(n) => known.push(n),
                        Err(_) => {
                            errors.push(
                                lit.span(),
                                format!("input size `{lit}` is not a valid `usize`"),
                            );
                            known.push(1);
                        }
                    },
                    other => {
                        errors.push(
                            other.span(),
                            "an image or sequence input's sizes must be integer literals: the macro computes every layer's shape from them",
                        );
                        known.push(1);
                    }
                }
            }
            match known.as_slice() {
                [c, w] => Shape::Spatial {
                    c: *c,
                    h: 1,
                    w: *w,
                    rank: 1,
                },
                [c, h, w] => Shape::Spatial {
                    c: *c,
                    h: *h,
                    w: *w,
                    rank: 2,
                },
                _ => Shape::Vector(Dim::Known(1)),
            }
        }
        _ => {
            errors.push(
                span,
                "expected `input: N` (a vector), `input: [C, L]` (a sequence) or `input: [C, H, W]` (an image)",
            );
            Shape::Vector(Dim::Known(1))
        }
    }
}

/// The span of a dense layer's output size, or of its arguments.
fn dense_output_span(layer: &Layer) -> Span {
    layer
        .args
        .iter()
        .find_map(|arg| match arg {
            Arg::Size(size) | Arg::Arrow { output: size, .. } => Some(size.span()),
            Arg::Pair(_, _, span) => Some(*span),
            Arg::Keyword { .. } => None,
        })
        .unwrap_or(layer.args_span)
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A size as a `Dim`; literal zero is an error here, a symbolic size gets a
/// const assertion.
fn size_dim(
    size: &Size,
    what: &str,
    net: &str,
    layer: &str,
    errors: &mut Errors,
    assertions: &mut Vec<TokenStream>,
) -> Dim {
    match size {
        Size::Literal(lit) => match lit.base10_parse::<usize>() {
            Ok(0) => {
                errors.push(lit.span(), format!("{what} must be at least 1, found 0"));
                Dim::Known(1)
            }
            Ok(n) => Dim::Known(n),
            Err(_) => {
                errors.push(lit.span(), format!("{what} `{lit}` is not a valid `usize`"));
                Dim::Known(1)
            }
        },
        Size::Path(path) => {
            let text = path.to_token_stream().to_string().replace(' ', "");
            symbolic(
                quote!(#path),
                text,
                size.span(),
                what,
                net,
                layer,
                assertions,
            )
        }
        Size::Block(group) => {
            let text = group.stream().to_string().replace(" :: ", "::");
            symbolic(
                group.stream(),
                text,
                size.span(),
                what,
                net,
                layer,
                assertions,
            )
        }
    }
}

fn symbolic(
    expr: TokenStream,
    text: String,
    span: Span,
    what: &str,
    net: &str,
    layer: &str,
    assertions: &mut Vec<TokenStream>,
) -> Dim {
    let place = if layer == "input" {
        String::new()
    } else {
        format!(", layer `{layer}`")
    };
    let message = format!("network `{net}`{place}: {what} `{text}` must be at least 1, found 0");
    let value = quote!((#expr));
    // the item carries the size's span, so a failure points at the size
    assertions.push(quote_spanned! {span=>
        const _: () = ::core::assert!(#value > 0, #message);
    });
    Dim::Symbolic { expr, text }
}

type DeclaredInput = Option<(Dim, Span)>;

/// A size as the user wrote it.
fn written_text(size: &Size) -> String {
    match size {
        Size::Literal(lit) => lit.to_string(),
        Size::Path(path) => path.to_token_stream().to_string().replace(' ', ""),
        Size::Block(group) => group.to_string().replace(" :: ", "::"),
    }
}

fn dense_args(
    layer: &Layer,
    net: &str,
    name: &str,
    errors: &mut Errors,
    assertions: &mut Vec<TokenStream>,
) -> DenseArgs {
    let usage = "`dense(OUT)` or `dense(IN => OUT)`";
    let mut sizes = Vec::new();
    let (mut weight_init, mut bias_init) = (None, None);
    let mut seen: Vec<String> = Vec::new();
    for arg in &layer.args {
        match arg {
            Arg::Size(size) => sizes.push((None, size)),
            Arg::Arrow { input, output } => sizes.push((Some(input), output)),
            Arg::Pair(_, _, span) => errors.push(*span, format!("`dense` takes one size: {usage}")),
            Arg::Keyword { key, value } => {
                let slot = if key == "init" {
                    &mut weight_init
                } else if key == "bias_init" {
                    &mut bias_init
                } else {
                    let mut message = format!("unknown `dense` argument `{key}`");
                    match did_you_mean(&key.to_string(), ["init", "bias_init"].into_iter()) {
                        Some(best) => message.push_str(&format!("\nhelp: did you mean `{best}`?")),
                        None => message.push_str(
                            "\nnote: `dense` takes a size, then optionally `init = ...` and `bias_init = ...`",
                        ),
                    }
                    errors.push(key.span(), message);
                    continue;
                };
                if seen.contains(&key.to_string()) {
                    errors.push(key.span(), format!("`{key}` is given twice"));
                    continue;
                }
                seen.push(key.to_string());
                *slot = initializer(key, value, errors);
            }
        }
    }
    let (declared_in, output, written) = match sizes.as_slice() {
        [] => {
            errors.push(
                layer.args_span,
                format!("`dense` needs an output size: {usage}"),
            );
            (None, Dim::Known(1), "?".into())
        }
        [(declared, output), rest @ ..] => {
            if let Some((_, extra)) = rest.first() {
                errors.push(
                    extra.span(),
                    format!("`dense` takes one size argument: {usage}"),
                );
            }
            let out = size_dim(output, "output size", net, name, errors, assertions);
            let declared = declared.map(|size| {
                (
                    size_dim(size, "input size", net, name, errors, assertions),
                    size.span(),
                )
            });
            (declared, out, written_text(output))
        }
    };
    DenseArgs {
        declared_in,
        output,
        written,
        weight_init,
        bias_init,
    }
}

/// What `dense(...)` says besides its position in the chain.
struct DenseArgs {
    declared_in: DeclaredInput,
    output: Dim,
    written: String,
    weight_init: Option<TokenStream>,
    bias_init: Option<TokenStream>,
}

/// Initializers: DSL name, `Init` variant, parameter names, defaults.
const INITIALIZERS: &[(&str, &str, &[&str], &[f64])] = &[
    ("zeros", "Zeros", &[], &[]),
    ("constant", "Constant", &["value"], &[]),
    ("uniform", "Uniform", &["low", "high"], &[]),
    ("normal", "Normal", &["mean", "std"], &[]),
    ("truncated_normal", "TruncatedNormal", &["mean", "std"], &[]),
    ("glorot_uniform", "GlorotUniform", &[], &[]),
    ("glorot_normal", "GlorotNormal", &[], &[]),
    ("he_uniform", "HeUniform", &[], &[]),
    ("he_normal", "HeNormal", &[], &[]),
    ("lecun_uniform", "LecunUniform", &[], &[]),
    ("lecun_normal", "LecunNormal", &[], &[]),
    ("orthogonal", "Orthogonal", &["gain"], &[1.0]),
];

/// `init = he_normal`, `bias_init = constant(0.1)`: an `Init` expression.
fn initializer(key: &Ident, value: &TokenStream, errors: &mut Errors) -> Option<TokenStream> {
    let call = match syn::parse2::<ActivationCall>(value.clone()) {
        Ok(call) => call,
        Err(_) => {
            let span = value
                .clone()
                .into_iter()
                .next()
                .map_or(key.span(), |t| t.span());
            errors.push(span, format!("expected an initializer after `{key} =`, such as `he_normal` or `constant(0.1)`"));
            return None;
        }
    };
    let name = call.name.to_string();
    let Some(&(dsl, variant, params, defaults)) = INITIALIZERS.iter().find(|i| i.0 == name) else {
        let mut message = format!("unknown initializer `{name}`");
        let alias = [("xavier", "glorot"), ("kaiming", "he")]
            .into_iter()
            .find(|(other, _)| name.starts_with(other));
        let family: Vec<&str> = INITIALIZERS
            .iter()
            .map(|i| i.0)
            .filter(|i| i.starts_with(&format!("{name}_")))
            .collect();
        if let Some((other, ours)) = alias {
            let suffix = if name.ends_with("normal") {
                "normal"
            } else {
                "uniform"
            };
            message.push_str(&format!(
                "\nhelp: {other} initialization is called `{ours}_{suffix}` here"
            ));
        } else if !family.is_empty() {
            let options: Vec<String> = family.iter().map(|f| format!("`{f}`")).collect();
            message.push_str(&format!("\nhelp: did you mean {}?", options.join(" or ")));
        } else if let Some(best) = did_you_mean(&name, INITIALIZERS.iter().map(|i| i.0)) {
            message.push_str(&format!("\nhelp: did you mean `{best}`?"));
        } else {
            message.push_str(&format!(
                "\nnote: the initializers are: {}",
                list(INITIALIZERS.iter().map(|i| i.0))
            ));
        }
        errors.push(call.name.span(), message);
        return None;
    };
    let numbers: Vec<f64> = match &call.args {
        None if params.len() == defaults.len() => defaults.to_vec(),
        Some((_, numbers)) if numbers.len() == params.len() => {
            if let Some(bad) = numbers.iter().find(|n| !n.value.is_finite()) {
                errors.push(bad.span, format!("`{dsl}` needs finite numbers"));
                return None;
            }
            let problem = match (dsl, numbers.as_slice()) {
                ("uniform", [low, high]) if low.value > high.value => Some((
                    high.span,
                    format!(
                        "`uniform(low, high)` needs low ≤ high, found {} > {}",
                        low.value, high.value
                    ),
                )),
                ("normal" | "truncated_normal", [_, std]) if std.value < 0.0 => Some((
                    std.span,
                    format!("`{dsl}(mean, std)` needs std ≥ 0, found {}", std.value),
                )),
                _ => None,
            };
            if let Some((span, message)) = problem {
                errors.push(span, message);
                return None;
            }
            numbers.iter().map(|n| n.value).collect()
        }
        other => {
            let span = other.as_ref().map_or(call.name.span(), |(span, _)| *span);
            let expected = if params.is_empty() {
                format!("`{dsl}` takes no arguments")
            } else {
                let count = params.len();
                let arguments = if count == 1 { "argument" } else { "arguments" };
                format!(
                    "`{dsl}` takes {count} {arguments}: `{dsl}({})`",
                    params.join(", ")
                )
            };
            errors.push(span, expected);
            return None;
        }
    };
    let variant = Ident::new(variant, Span::call_site());
    let init = quote!(::staticnet::init::Init::#variant);
    Some(match params {
        [] => init,
        ["value"] => {
            let v = numbers[0];
            quote!(#init(#v))
        }
        _ => {
            let fields = params.iter().map(|p| Ident::new(p, Span::call_site()));
            quote!(#init { #(#fields: #numbers),* })
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn check_input(
    declared: &Dim,
    span: Span,
    previous: &Dim,
    previous_name: &str,
    first: bool,
    chain: &[String],
    net: &str,
    name: &str,
    errors: &mut Errors,
    assertions: &mut Vec<TokenStream>,
) {
    let producer = if first {
        "the input has".to_string()
    } else {
        format!("`{previous_name}` produces")
    };
    match (declared, previous) {
        (Dim::Known(d), Dim::Known(p)) => {
            if d != p {
                let inputs = if *d == 1 { "input" } else { "inputs" };
                errors.push(
                    span,
                    format!(
                        "dense layer expects {d} {inputs}, but {producer} {p}\nnote: the shapes so far: {}",
                        chain.join(" → ")
                    ),
                );
            }
        }
        _ if declared.text() == previous.text() => {}
        _ => {
            let (d, p) = (declared.value(), previous.value());
            let message = format!(
                "network `{net}`, layer `{name}`: dense layer expects `{}` inputs, but {producer} `{}`",
                declared.text(),
                previous.text()
            );
            assertions.push(quote_spanned! {span=>
                const _: () = ::core::assert!(#d == #p, #message);
            });
        }
    }
}

fn activation(call: Option<&ActivationCall>, errors: &mut Errors) -> Activation {
    let Some(call) = call else {
        return make_activation("Identity", None, "identity".into());
    };
    let name = call.name.to_string();
    let Some(&(dsl, ty, default)) = ACTIVATIONS.iter().find(|(n, _, _)| *n == name) else {
        let mut message = format!("unknown activation `{name}`");
        if let Some(best) = did_you_mean(&name, ACTIVATIONS.iter().map(|a| a.0)) {
            message.push_str(&format!("\nhelp: did you mean `{best}`?"));
        } else {
            message.push_str(&format!(
                "\nnote: the activations are: {}",
                list(ACTIVATIONS.iter().map(|a| a.0))
            ));
        }
        errors.push(call.name.span(), message);
        return make_activation("Identity", None, "identity".into());
    };
    match (&call.args, default) {
        (None, None) => make_activation(ty, None, dsl.into()),
        (None, Some(value)) => make_activation(ty, Some(value), format!("{dsl}({value})")),
        (Some((span, _)), None) => {
            errors.push(*span, format!("`{dsl}` takes no arguments"));
            make_activation(ty, None, dsl.into())
        }
        (Some((span, numbers)), Some(default)) => {
            if numbers.len() != 1 {
                errors.push(
                    *span,
                    format!("`{dsl}` takes one argument, `alpha`: `{dsl}({default})`"),
                );
                return make_activation(ty, Some(default), format!("{dsl}({default})"));
            }
            let value = numbers[0].value;
            if !value.is_finite() {
                errors.push(numbers[0].span, format!("`{dsl}` needs a finite `alpha`"));
            }
            make_activation(ty, Some(value), format!("{dsl}({value})"))
        }
    }
}

fn make_activation(ty: &str, alpha: Option<f64>, text: String) -> Activation {
    let ident = Ident::new(ty, Span::call_site());
    let ty = quote!(::staticnet::activation::#ident);
    let value = match alpha {
        Some(alpha) => quote!(#ty::new(#alpha)),
        None => ty.clone(),
    };
    Activation { ty, value, text }
}
