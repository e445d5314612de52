//! Convolution, pooling and flattening: the geometry the macro computes
//! from the lecture's `(W − K + 2P) / S + 1`, with an error at the argument
//! whose arithmetic does not work out.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::Ident;

use crate::ast::{Arg, Layer, Size};
use crate::suggest::did_you_mean;
use crate::validate::{Dim, Errors};

/// A convolution's or pool's geometry, every number known. A 1-D layer has
/// height 1, kernel height 1, stride height 1 and padding height 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geom {
    pub cin: usize,
    pub h: usize,
    pub w: usize,
    pub cout: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Geom {
    pub fn kernel_len(&self) -> usize {
        self.cin * self.kh * self.kw
    }

    pub fn output(&self, rank: u8) -> Shape {
        Shape::Spatial {
            c: self.cout,
            h: self.oh,
            w: self.ow,
            rank,
        }
    }
}

/// What flows between layers.
#[derive(Clone)]
pub enum Shape {
    Vector(Dim),
    /// `[c, h, w]` (rank 2) or `[c, w]` (rank 1, `h == 1`)
    Spatial {
        c: usize,
        h: usize,
        w: usize,
        rank: u8,
    },
}

impl Shape {
    /// The length of the flat vector that holds one sample.
    pub fn len(&self) -> Dim {
        match self {
            Shape::Vector(d) => d.clone(),
            Shape::Spatial { c, h, w, .. } => Dim::Known(c * h * w),
        }
    }

    /// As messages and the summary show it.
    pub fn text(&self) -> String {
        match self {
            Shape::Vector(d) => d.text(),
            Shape::Spatial { c, w, rank: 1, .. } => format!("[{c}, {w}]"),
            Shape::Spatial { c, h, w, .. } => format!("[{c}, {h}, {w}]"),
        }
    }

    /// The dimensions as `usize` expressions, for the summary.
    pub fn dims(&self) -> Vec<TokenStream> {
        let lit = |n: usize| {
            let l = proc_macro2::Literal::usize_unsuffixed(n);
            quote::quote!(#l)
        };
        match self {
            Shape::Vector(d) => vec![d.value()],
            Shape::Spatial { c, w, rank: 1, .. } => vec![lit(*c), lit(*w)],
            Shape::Spatial { c, h, w, .. } => vec![lit(*c), lit(*h), lit(*w)],
        }
    }

    /// How a producer of this shape is described in a message: "`conv`
    /// produces an image [8, 26, 26]".
    pub fn described(&self) -> String {
        match self {
            Shape::Vector(d) => format!("a vector of {}", d.text()),
            Shape::Spatial { rank: 1, .. } => format!("a sequence {}", self.text()),
            Shape::Spatial { .. } => format!("an image {}", self.text()),
        }
    }
}

/// A keyword argument's value: `3`, `(3, 5)` or `same`.
#[derive(Clone, Copy)]
enum Value {
    One(usize, Span),
    Two(usize, usize, Span),
    Same(Span),
}

impl Value {
    fn span(self) -> Span {
        match self {
            Value::One(_, s) | Value::Two(_, _, s) | Value::Same(s) => s,
        }
    }
}

fn literal(size: &Size, what: &str, errors: &mut Errors) -> Option<(usize, Span)> {
    match size {
        Size::Literal(lit) => match lit.base10_parse::<usize>() {
            Ok(0) => {
                errors.push(lit.span(), format!("{what} must be at least 1, found 0"));
                None
            }
            Ok(n) => Some((n, lit.span())),
            Err(_) => {
                errors.push(lit.span(), format!("{what} `{lit}` is not a valid `usize`"));
                None
            }
        },
        other => {
            errors.push(
                other.span(),
                format!(
                    "{what} must be an integer literal here: the macro computes the layer's output shape from it"
                ),
            );
            None
        }
    }
}

fn parse_value(key: &Ident, tokens: &TokenStream, errors: &mut Errors) -> Option<Value> {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let expected = format!("expected a number, a pair like `(3, 3)`, or `same` after `{key} =`");
    let number = |tree: &TokenTree, errors: &mut Errors| -> Option<usize> {
        let parsed = match tree {
            TokenTree::Literal(l) => syn::parse_str::<syn::LitInt>(&l.to_string())
                .ok()
                .and_then(|l| l.base10_parse::<usize>().ok()),
            _ => None,
        };
        if parsed.is_none() {
            errors.push(tree.span(), format!("expected a whole number in `{key}`"));
        }
        parsed
    };
    match trees.as_slice() {
        [TokenTree::Ident(i)] if i == "same" => Some(Value::Same(i.span())),
        [t @ TokenTree::Literal(_)] => number(t, errors).map(|n| Value::One(n, t.span())),
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            match inner.as_slice() {
                [a, TokenTree::Punct(p), b] | [a, TokenTree::Punct(p), b, TokenTree::Punct(_)]
                    if p.as_char() == ',' =>
                {
                    let (a, b) = (number(a, errors)?, number(b, errors)?);
                    Some(Value::Two(a, b, g.span()))
                }
                _ => {
                    errors.push(
                        g.span(),
                        format!("expected two numbers in `{key}`, as in `(3, 3)`"),
                    );
                    None
                }
            }
        }
        [] => {
            errors.push(key.span(), expected);
            None
        }
        [first, ..] => {
            errors.push(first.span(), expected);
            None
        }
    }
}

/// One axis of the lecture's arithmetic; an error at the argument whose
/// numbers do not work out.
#[allow(clippy::too_many_arguments)]
fn axis(
    layer: &str,
    axis: &str,
    n: usize,
    k: (usize, Span),
    s: (usize, Span),
    p: usize,
    errors: &mut Errors,
) -> Option<usize> {
    if k.0 > n + 2 * p {
        let padded = if p == 0 {
            format!("{n}")
        } else {
            format!("{n} + 2·{p} = {}", n + 2 * p)
        };
        errors.push(
            k.1,
            format!(
                "`{layer}` kernel {} is larger than the padded input {axis}: {padded}",
                k.0
            ),
        );
        return None;
    }
    let span = n + 2 * p - k.0;
    if !span.is_multiple_of(s.0) {
        let exact = span as f64 / s.0 as f64 + 1.0;
        errors.push(
            s.1,
            format!(
                "stride {} does not tile the padded input {axis}: ({n} − {} + 2·{p}) / {} + 1 = {exact:.2}, not a whole number",
                s.0, k.0, s.0
            ),
        );
        return None;
    }
    Some(span / s.0 + 1)
}

/// The input a spatial layer needs, or an error naming what it got.
fn spatial_input(
    layer: &Layer,
    rank: u8,
    input: &Shape,
    producer: &str,
    errors: &mut Errors,
) -> Option<(usize, usize, usize)> {
    let kind = layer.kind.to_string();
    let wanted = if rank == 2 {
        "an image [C, H, W]"
    } else {
        "a sequence [C, L]"
    };
    match input {
        Shape::Spatial { c, h, w, rank: r } if *r == rank => Some((*c, *h, *w)),
        other => {
            let hint = match (other, rank) {
                (Shape::Spatial { .. }, 2) => {
                    format!("; for sequences use `{}`", kind.replace("2d", "1d"))
                }
                (Shape::Spatial { .. }, _) => {
                    format!("; for images use `{}`", kind.replace("1d", "2d"))
                }
                _ => String::new(),
            };
            errors.push(
                layer.kind.span(),
                format!(
                    "`{kind}` expects {wanted}, but {producer} {}{hint}",
                    other.described()
                ),
            );
            None
        }
    }
}

const CONV_KEYS: &[&str] = &["kernel", "stride", "padding", "init", "bias_init"];
const POOL_KEYS: &[&str] = &["stride"];

fn unknown_key(kind: &str, key: &Ident, keys: &[&str], errors: &mut Errors) {
    let mut message = format!("unknown `{kind}` argument `{key}`");
    if let Some(best) = did_you_mean(&key.to_string(), keys.iter().copied()) {
        message.push_str(&format!("\nhelp: did you mean `{best}`?"));
    } else {
        let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
        message.push_str(&format!("\nnote: `{kind}` takes {}", keys.join(", ")));
    }
    errors.push(key.span(), message);
}

/// A value per axis: `(height, width)` for rank 2, `(1, length)` for rank 1.
fn per_axis(
    kind: &str,
    key: &str,
    value: Value,
    rank: u8,
    errors: &mut Errors,
) -> Option<(usize, usize)> {
    match (value, rank) {
        (Value::One(n, _), 2) => Some((n, n)),
        (Value::One(n, _), _) => Some((1, n)),
        (Value::Two(a, b, _), 2) => Some((a, b)),
        (Value::Two(_, _, span), _) => {
            errors.push(
                span,
                format!("`{kind}` is one-dimensional: give `{key}` one number"),
            );
            None
        }
        (Value::Same(span), _) => {
            errors.push(span, format!("`same` is a padding, not a `{key}`"));
            None
        }
    }
}

/// What a convolution declares.
pub struct ConvArgs {
    pub geom: Geom,
    pub output: Shape,
    pub weight_init: Option<TokenStream>,
    pub bias_init: Option<TokenStream>,
}

/// `conv2d(C_OUT, kernel = K, stride = S, padding = P)` and `conv1d(..)`;
/// `None` after reporting an error.
pub fn conv(
    layer: &Layer,
    rank: u8,
    input: &Shape,
    producer: &str,
    init: &mut dyn FnMut(&Ident, &TokenStream, &mut Errors) -> Option<TokenStream>,
    errors: &mut Errors,
) -> Option<ConvArgs> {
    let kind = layer.kind.to_string();
    let (mut cout, mut declared_in, mut kernel, mut stride, mut padding) =
        (None, None, None, None, None);
    let (mut weight_init, mut bias_init) = (None, None);
    let mut ok = true;
    for arg in &layer.args {
        match arg {
            Arg::Size(size) if cout.is_none() => {
                cout = literal(size, "output channels", errors);
                ok &= cout.is_some();
            }
            Arg::Arrow { input, output } if cout.is_none() => {
                declared_in = literal(input, "input channels", errors);
                cout = literal(output, "output channels", errors);
                ok &= cout.is_some() && declared_in.is_some();
            }
            Arg::Keyword { key, value } => {
                let name = key.to_string();
                let slot = match name.as_str() {
                    "kernel" => &mut kernel,
                    "stride" => &mut stride,
                    "padding" => &mut padding,
                    "init" => {
                        weight_init = init(key, value, errors);
                        continue;
                    }
                    "bias_init" => {
                        bias_init = init(key, value, errors);
                        continue;
                    }
                    _ => {
                        unknown_key(&kind, key, CONV_KEYS, errors);
                        ok = false;
                        continue;
                    }
                };
                *slot = parse_value(key, value, errors);
                ok &= slot.is_some();
            }
            other => {
                let span = match other {
                    Arg::Size(s) | Arg::Arrow { output: s, .. } => s.span(),
                    Arg::Pair(_, _, span) => *span,
                    Arg::Keyword { key, .. } => key.span(),
                };
                errors.push(
                    span,
                    format!("`{kind}` takes its output channels, then `kernel = ..`, `stride = ..`, `padding = ..`"),
                );
                ok = false;
            }
        }
    }
    if cout.is_none() && ok {
        errors.push(
            layer.args_span,
            format!("`{kind}` needs its number of output channels: `{kind}(8, kernel = 3)`"),
        );
        ok = false;
    }
    if kernel.is_none() && ok {
        errors.push(
            layer.args_span,
            format!("`{kind}` needs a kernel size: `{kind}(8, kernel = 3)`"),
        );
        ok = false;
    }
    let (cin, h, w) = spatial_input(layer, rank, input, producer, errors)?;
    if !ok {
        return None;
    }
    let (cout, _) = cout?;
    if let Some((declared, span)) = declared_in
        && declared != cin
    {
        let s = if declared == 1 { "" } else { "s" };
        errors.push(
            span,
            format!(
                "`{kind}` expects {declared} input channel{s}, but {producer} {}",
                input.described()
            ),
        );
        return None;
    }
    let kernel = kernel?;
    let (kh, kw) = per_axis(&kind, "kernel", kernel, rank, errors)?;
    if kh == 0 || kw == 0 {
        errors.push(kernel.span(), "a kernel size must be at least 1, found 0");
        return None;
    }
    let (sh, sw) = match stride {
        Some(v) => per_axis(&kind, "stride", v, rank, errors)?,
        None => (1, 1),
    };
    let stride_span = stride.map_or(kernel.span(), Value::span);
    if sh == 0 || sw == 0 {
        errors.push(stride_span, "a stride must be at least 1, found 0");
        return None;
    }
    let (ph, pw) = match padding {
        Some(Value::Same(span)) => {
            if sh != 1 || sw != 1 || kh % 2 == 0 || kw % 2 == 0 {
                errors.push(
                    span,
                    format!(
                        "`padding = same` keeps the size only with stride 1 and an odd kernel; found kernel {}, stride {}",
                        if rank == 2 { format!("({kh}, {kw})") } else { kw.to_string() },
                        if rank == 2 { format!("({sh}, {sw})") } else { sw.to_string() },
                    ),
                );
                return None;
            }
            ((kh - 1) / 2, (kw - 1) / 2)
        }
        Some(v) => {
            let (a, b) = per_axis(&kind, "padding", v, rank, errors)?;
            if rank == 1 { (0, b) } else { (a, b) }
        }
        None => (0, 0),
    };
    let k_span = kernel.span();
    // a square case fails the same way on both axes: say it once
    let (oh, ow) = if rank == 2 && (h, kh, sh, ph) == (w, kw, sw, pw) {
        let both = axis(
            &kind,
            "height and width",
            h,
            (kh, k_span),
            (sh, stride_span),
            ph,
            errors,
        );
        (both, both)
    } else {
        let oh = if rank == 2 {
            axis(
                &kind,
                "height",
                h,
                (kh, k_span),
                (sh, stride_span),
                ph,
                errors,
            )
        } else {
            Some(1)
        };
        let ow = axis(
            &kind,
            if rank == 2 { "width" } else { "length" },
            w,
            (kw, k_span),
            (sw, stride_span),
            pw,
            errors,
        );
        (oh, ow)
    };
    let (oh, ow) = (oh?, ow?);
    let geom = Geom {
        cin,
        h,
        w,
        cout,
        kh,
        kw,
        sh,
        sw,
        ph,
        pw,
        oh,
        ow,
    };
    Some(ConvArgs {
        geom,
        output: geom.output(rank),
        weight_init,
        bias_init,
    })
}

/// `max_pool(K)` / `avg_pool(K, stride = S)` (the stride is the kernel when
/// omitted) and `global_avg_pool`.
pub fn pool(
    layer: &Layer,
    rank_of: &Shape,
    input: &Shape,
    producer: &str,
    global: bool,
    errors: &mut Errors,
) -> Option<(Geom, Shape)> {
    let kind = layer.kind.to_string();
    let rank = match rank_of {
        Shape::Spatial { rank, .. } => *rank,
        Shape::Vector(_) => 2,
    };
    if global {
        if let Some(arg) = layer.args.first() {
            let span = match arg {
                Arg::Size(s) | Arg::Arrow { output: s, .. } => s.span(),
                Arg::Pair(_, _, span) => *span,
                Arg::Keyword { key, .. } => key.span(),
            };
            errors.push(
                span,
                "`global_avg_pool` takes no arguments: it averages each channel over all positions",
            );
            return None;
        }
        let Shape::Spatial { c, h, w, .. } = *input else {
            errors.push(
                layer.kind.span(),
                format!(
                    "`global_avg_pool` expects an image or a sequence, but {producer} {}",
                    input.described()
                ),
            );
            return None;
        };
        let geom = Geom {
            cin: c,
            h,
            w,
            cout: c,
            kh: h,
            kw: w,
            sh: 1,
            sw: 1,
            ph: 0,
            pw: 0,
            oh: 1,
            ow: 1,
        };
        return Some((geom, Shape::Vector(Dim::Known(c))));
    }
    let mut kernel = None;
    let mut stride = None;
    let mut ok = true;
    for arg in &layer.args {
        match arg {
            Arg::Size(size) if kernel.is_none() => {
                kernel = literal(size, "a pool size", errors).map(|(n, span)| Value::One(n, span));
                ok &= kernel.is_some();
            }
            Arg::Pair(a, b, span) if kernel.is_none() => {
                let (a, b) = (
                    literal(a, "a pool size", errors),
                    literal(b, "a pool size", errors),
                );
                kernel = a.zip(b).map(|(a, b)| Value::Two(a.0, b.0, *span));
                ok &= kernel.is_some();
            }
            Arg::Keyword { key, value } if key == "stride" => {
                stride = parse_value(key, value, errors);
                ok &= stride.is_some();
            }
            Arg::Keyword { key, .. } => {
                unknown_key(&kind, key, POOL_KEYS, errors);
                ok = false;
            }
            other => {
                let span = match other {
                    Arg::Size(s) | Arg::Arrow { output: s, .. } => s.span(),
                    Arg::Pair(_, _, span) => *span,
                    Arg::Keyword { key, .. } => key.span(),
                };
                errors.push(
                    span,
                    format!("`{kind}` takes its window size, then optionally `stride = ..`"),
                );
                ok = false;
            }
        }
    }
    if kernel.is_none() && ok {
        errors.push(
            layer.args_span,
            format!("`{kind}` needs a window size: `{kind}(2)`"),
        );
        ok = false;
    }
    let (c, h, w) = spatial_input(layer, rank, input, producer, errors)?;
    if !ok {
        return None;
    }
    let kernel = kernel?;
    let (kh, kw) = per_axis(&kind, "window", kernel, rank, errors)?;
    let (sh, sw) = match stride {
        Some(v) => per_axis(&kind, "stride", v, rank, errors)?,
        None => (kh, kw),
    };
    let stride_span = stride.map_or(kernel.span(), Value::span);
    if sh == 0 || sw == 0 {
        errors.push(stride_span, "a stride must be at least 1, found 0");
        return None;
    }
    let divide = |axis_name: &str,
                  n: usize,
                  k: usize,
                  s: usize,
                  errors: &mut Errors|
     -> Option<usize> {
        if k > n {
            errors.push(
                kernel.span(),
                format!("`{kind}` window {k} is larger than the input {axis_name} {n}"),
            );
            return None;
        }
        if !(n - k).is_multiple_of(s) {
            let exact = (n - k) as f64 / s as f64 + 1.0;
            let what = if stride.is_some() {
                format!("stride {s}")
            } else {
                format!("window {k}")
            };
            errors.push(
                stride_span,
                format!(
                    "`{kind}` {what} does not divide the input {axis_name} {n}: ({n} − {k}) / {s} + 1 = {exact:.2}, not a whole number"
                ),
            );
            return None;
        }
        Some((n - k) / s + 1)
    };
    let (oh, ow) = if rank == 2 && (h, kh, sh) == (w, kw, sw) {
        let both = divide("height and width", h, kh, sh, errors);
        (both, both)
    } else {
        let oh = if rank == 2 {
            divide("height", h, kh, sh, errors)
        } else {
            Some(1)
        };
        let ow = divide(
            if rank == 2 { "width" } else { "length" },
            w,
            kw,
            sw,
            errors,
        );
        (oh, ow)
    };
    let (oh, ow) = (oh?, ow?);
    let geom = Geom {
        cin: c,
        h,
        w,
        cout: c,
        kh,
        kw,
        sh,
        sw,
        ph: 0,
        pw: 0,
        oh,
        ow,
    };
    Some((geom, geom.output(rank)))
}
