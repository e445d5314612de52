//! `#[weights = "file.safetensors"]`: weights read while the user's crate
//! compiles, checked against the declaration, and baked in as constants
//! (feature `embed`).
//!
//! The macro reads the file's header (with the `safetensors` crate: names,
//! dtypes, shapes, offsets), checks every tensor, and emits
//! `include_bytes!` of the file (which also makes cargo rebuild the crate
//! when the file changes) with calls to the runtime's `const fn` decoders at
//! the offsets it found: no float literals, no loops in generated code.
//! Where a size is a named constant, the tensor's shape is checked by a
//! const assertion that names the tensor.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

use crate::validate::{CheckedLayer, Dim, Network, Op};

/// `#[weights = "..."]` as written.
pub struct WeightsAttr {
    pub path: LitStr,
    /// The attribute is not of that form (an error already): the network
    /// still gets stub constants, so that its uses add no errors.
    pub malformed: bool,
}

const USAGE: &str = "expected `#[weights = \"path/to/file.safetensors\"]`, a path relative to the crate's directory (where its Cargo.toml is)";

/// Removes every `#[weights ...]` attribute from `attrs` (they are the
/// macro's, not the struct's) and returns the first; a malformed or
/// repeated attribute is an error.
pub fn take_attribute(
    attrs: &mut Vec<syn::Attribute>,
    errors: &mut Vec<syn::Error>,
) -> Option<WeightsAttr> {
    fn malformed(attr: &syn::Attribute, found: &mut Option<WeightsAttr>) {
        found.get_or_insert_with(|| WeightsAttr {
            path: LitStr::new("", syn::spanned::Spanned::span(attr)),
            malformed: true,
        });
    }
    let mut found = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("weights") {
            return true;
        }
        match &attr.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(path),
                        ..
                    }),
                ..
            }) => {
                if found.is_some() {
                    errors.push(syn::Error::new_spanned(
                        attr,
                        "`#[weights]` is given twice: a network takes its weights from one file",
                    ));
                } else {
                    found = Some(WeightsAttr {
                        path: path.clone(),
                        malformed: false,
                    });
                }
            }
            syn::Meta::NameValue(nv) => {
                errors.push(syn::Error::new_spanned(&nv.value, USAGE));
                malformed(attr, &mut found);
            }
            _ => {
                errors.push(syn::Error::new_spanned(attr, USAGE));
                malformed(attr, &mut found);
            }
        }
        false
    });
    found
}

/// One tensor the declaration expects, in the order of
/// `Parameters::TENSORS`.
#[cfg_attr(not(feature = "embed"), allow(dead_code))]
struct Expected<'a> {
    /// `hidden.weight`
    name: String,
    layer: &'a CheckedLayer,
    /// PyTorch's order: `[out, in]`, `[out_channels, in_channels, kh, kw]`,
    /// `[out]`.
    dims: Vec<Dim>,
    /// The const arguments of the matrix it fills, `R × C`.
    rows: TokenStream,
    cols: TokenStream,
}

fn expected(net: &Network) -> Vec<Expected<'_>> {
    let mut out = Vec::new();
    for l in &net.layers {
        let (weight, rows, cols, bias) = match &l.op {
            Op::Dense => (
                vec![l.output.clone(), l.input.clone()],
                l.output.arg(),
                l.input.arg(),
                l.output.clone(),
            ),
            Op::Conv(g) => (
                [g.cout, g.cin, g.kh, g.kw].map(Dim::Known).to_vec(),
                Dim::Known(g.cout).arg(),
                Dim::Known(g.kernel_len()).arg(),
                Dim::Known(g.cout),
            ),
            Op::Pool { .. } | Op::Flatten => continue,
        };
        out.push(Expected {
            name: format!("{}.weight", l.name),
            layer: l,
            dims: weight,
            rows: rows.clone(),
            cols,
        });
        out.push(Expected {
            name: format!("{}.bias", l.name),
            layer: l,
            dims: vec![bias],
            rows,
            cols: quote!(1),
        });
    }
    out
}

#[cfg(feature = "embed")]
fn dims_text(dims: &[Dim]) -> String {
    let texts: Vec<String> = dims.iter().map(Dim::text).collect();
    format!("[{}]", texts.join(", "))
}

/// Where a checked tensor's data is: the offset of its first byte in the
/// file and its shape as a matrix, rows × columns.
#[derive(Clone, Copy)]
struct Located {
    offset: usize,
    rows: usize,
    cols: usize,
}

/// The constants of a baked network: `TRAINED`, `trained()`, and the const
/// assertions for shapes that only the compiler can check. Returns them and
/// the errors found; with errors the constants are stubs (zeros), so that
/// the rest of the crate does not fill with unrelated errors.
pub fn bake(
    net: &Network,
    attr: &WeightsAttr,
    declaration_ok: bool,
) -> (TokenStream, Vec<syn::Error>) {
    let tensors = expected(net);
    let mut errors = Vec::new();
    if attr.malformed {
        return (constants(net, attr, &tensors, None), errors);
    }
    let checked = read_and_check(net, attr, &tensors, declaration_ok, &mut errors);
    let code = match checked {
        Some((file, located, assertions)) if errors.is_empty() => {
            let mut code = constants(net, attr, &tensors, Some((&file, &located)));
            code.extend(assertions);
            code
        }
        _ => constants(net, attr, &tensors, None),
    };
    (code, errors)
}

#[cfg(not(feature = "embed"))]
fn read_and_check(
    _: &Network,
    attr: &WeightsAttr,
    _: &[Expected<'_>],
    _: bool,
    errors: &mut Vec<syn::Error>,
) -> Option<(String, Vec<Located>, Vec<TokenStream>)> {
    let version = env!("CARGO_PKG_VERSION")
        .rsplit_once('.')
        .map_or(env!("CARGO_PKG_VERSION"), |(major_minor, _)| major_minor);
    errors.push(syn::Error::new(
        attr.path.span(),
        format!(
            "`#[weights = \"...\"]` needs the `embed` feature of staticnet\n\
             help: turn it on in Cargo.toml: `staticnet = {{ version = \"{version}\", features = [\"embed\"] }}`, \
             or run `cargo add staticnet --features embed`"
        ),
    ));
    None
}

/// The metadata keys of weight files that `staticnet::weights` writes.
#[cfg(feature = "embed")]
const NETWORK_KEY: &str = "staticnet.network";
#[cfg(feature = "embed")]
const ARCHITECTURE_KEY: &str = "staticnet.architecture";
#[cfg(feature = "embed")]
const FINGERPRINT_KEY: &str = "staticnet.fingerprint";

/// Reads the file, checks every tensor against `tensors`, and returns the
/// file's path (absolute), where each tensor is, and the const assertions
/// for symbolic sizes. Every problem goes to `errors`.
#[cfg(feature = "embed")]
fn read_and_check(
    net: &Network,
    attr: &WeightsAttr,
    tensors: &[Expected<'_>],
    declaration_ok: bool,
    errors: &mut Vec<syn::Error>,
) -> Option<(String, Vec<Located>, Vec<TokenStream>)> {
    use proc_macro2::Span;
    use quote::quote_spanned;
    use safetensors::{Dtype, SafeTensors};

    let lit_span = attr.path.span();
    let written = attr.path.value();
    let mut error = |span: Span, message: String| errors.push(syn::Error::new(span, message));

    let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        error(
            lit_span,
            "`#[weights]` resolves its path relative to the crate's directory, but `CARGO_MANIFEST_DIR` is not set (cargo sets it)".into(),
        );
        return None;
    };
    let manifest_dir = std::path::PathBuf::from(manifest_dir);
    let path = resolve(&manifest_dir.join(&written));
    let shown = path.display().to_string();
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            error(
                lit_span,
                format!(
                    "cannot find the weights file `{shown}`\n\
                     note: the path is relative to the crate's directory (where its Cargo.toml is), `{}`",
                    manifest_dir.display()
                ),
            );
            return None;
        }
        Err(e) => {
            error(
                lit_span,
                format!("cannot read the weights file `{shown}`: {e}"),
            );
            return None;
        }
    };
    let Some(path_text) = path.to_str().map(str::to_owned) else {
        error(
            lit_span,
            format!("the path of the weights file, `{shown}`, is not valid UTF-8"),
        );
        return None;
    };
    let (header, metadata) = match SafeTensors::read_metadata(&bytes) {
        Ok(parsed) => parsed,
        Err(e) => {
            error(
                lit_span,
                format!("`{shown}` is not a valid safetensors file: {e}"),
            );
            return None;
        }
    };
    if !declaration_ok {
        // the declaration's own errors come first: its repaired shapes
        // would make the tensors look wrong
        return None;
    }

    let scalar = &net.scalar;
    let scalar_text = quote!(#scalar).to_string().replace(' ', "");
    let dtype = match scalar_text.as_str() {
        "f32" => Some(Dtype::F32),
        "f64" => Some(Dtype::F64),
        _ => {
            error(
                syn::spanned::Spanned::span(scalar),
                format!(
                    "`#[weights]` needs the scalar type `f32` or `f64`, but network `{}` is declared with `{scalar_text}`",
                    net.ident
                ),
            );
            None
        }
    };

    let net_name = net.ident.to_string();
    let data_start = 8 + header;
    let mut located = Vec::new();
    let mut assertions = Vec::new();
    for t in tensors {
        let span = t.layer.output_span;
        let expected_text = dims_text(&t.dims);
        let Some(info) = metadata.info(&t.name) else {
            let what = dtype.map_or(String::new(), |d| format!("{d} "));
            error(
                span,
                format!(
                    "tensor `{}` is missing from `{written}`: layer `{}` needs {what}{expected_text}",
                    t.name, t.layer.name
                ),
            );
            continue;
        };
        let mut ok = true;
        if let Some(dtype) = dtype
            && info.dtype != dtype
        {
            let other = if dtype == Dtype::F32 { "f64" } else { "f32" };
            let help = if matches!(info.dtype, Dtype::F32 | Dtype::F64) {
                format!(
                    "\nhelp: declare `struct {net_name}<{other}>`, or save the weights from a network of `{scalar_text}`"
                )
            } else {
                String::new()
            };
            error(
                span,
                format!(
                    "tensor `{}` holds {} values in `{written}`, but network `{net_name}` is declared with `{scalar_text}` ({dtype}){help}",
                    t.name, info.dtype
                ),
            );
            ok = false;
        }
        let found_text = format!("{:?}", info.shape);
        let known_differs = info.shape.len() != t.dims.len()
            || t.dims
                .iter()
                .zip(&info.shape)
                .any(|(d, f)| matches!(d, Dim::Known(n) if n != f));
        if known_differs {
            let layout = match t.layer.op {
                Op::Conv(_) if t.dims.len() == 4 => {
                    "\nnote: a convolution's weight is [out_channels, in_channels, kernel_height, kernel_width], as PyTorch's nn.Conv2d stores it"
                }
                Op::Dense if t.dims.len() == 2 => {
                    "\nnote: a dense layer's weight is [outputs, inputs], as PyTorch's nn.Linear stores it"
                }
                _ => "",
            };
            error(
                span,
                format!(
                    "tensor `{}` is {found_text} in `{written}`, but layer `{}` declares {expected_text}{layout}",
                    t.name, t.layer.name
                ),
            );
            ok = false;
        } else if t.dims.iter().any(|d| matches!(d, Dim::Symbolic { .. })) {
            // only the compiler knows these sizes: a const assertion
            let checks = t.dims.iter().zip(&info.shape).filter_map(|(d, f)| match d {
                Dim::Symbolic { .. } => {
                    let value = d.value();
                    Some(quote!(#value == #f))
                }
                Dim::Known(_) => None,
            });
            let message = format!(
                "network `{net_name}`: tensor `{}` is {found_text} in `{written}`, but layer `{}` declares {expected_text}",
                t.name, t.layer.name
            );
            assertions.push(quote_spanned! {span=>
                const _: () = ::core::assert!(#(#checks)&&*, #message);
            });
        }
        if !ok {
            continue;
        }
        let (start, end) = info.data_offsets;
        let data = &bytes[data_start + start..data_start + end];
        let non_finite = match info.dtype {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .enumerate()
                .find(|(_, v)| !v.is_finite()),
            _ => data
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .enumerate()
                .find(|(_, v)| !v.is_finite()),
        };
        if let Some((index, value)) = non_finite {
            error(
                span,
                format!(
                    "tensor `{}` in `{written}` holds a value that is not finite ({value:?}) at flat index {index}",
                    t.name
                ),
            );
            continue;
        }
        let rows = info.shape.first().copied().unwrap_or(1);
        located.push(Located {
            offset: data_start + start,
            rows,
            cols: info.shape.iter().skip(1).product(),
        });
    }

    let mut unexpected: Vec<(String, &safetensors::tensor::TensorInfo)> = metadata
        .tensors()
        .into_iter()
        .filter(|(name, _)| !tensors.iter().any(|t| t.name == *name))
        .collect();
    unexpected.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, (name, info)) in unexpected.iter().enumerate() {
        let note = if i == 0 {
            let names: Vec<&str> = tensors.iter().map(|t| t.name.as_str()).collect();
            format!(
                "\nnote: the tensors of `{net_name}` are {}",
                names.join(", ")
            )
        } else {
            String::new()
        };
        error(
            lit_span,
            format!(
                "`{written}` holds a tensor `{name}` ({} {:?}) that network `{net_name}` does not have{note}",
                info.dtype, info.shape
            ),
        );
    }

    if let Some(ours) = architecture(net)
        && let Some(file_metadata) = metadata.metadata()
    {
        let theirs = file_metadata.get(ARCHITECTURE_KEY);
        let differs = match (theirs, file_metadata.get(FINGERPRINT_KEY)) {
            (Some(theirs), _) => *theirs != ours,
            (None, Some(fingerprint)) => *fingerprint != format!("{:016x}", fnv1a(&ours)),
            (None, None) => false,
        };
        if differs {
            let their_name = file_metadata.get(NETWORK_KEY).map_or("?", String::as_str);
            let theirs = theirs.map_or("(not recorded)", String::as_str);
            error(
                lit_span,
                format!(
                    "`{written}` was saved from a different network, `{their_name}`: {theirs}\n\
                     note: network `{net_name}` is: {ours}"
                ),
            );
        }
    }

    Some((path_text, located, assertions))
}

/// `path` with `..` and symbolic links resolved where the file (or at
/// least its folder) exists, for messages and `include_bytes!`.
#[cfg(feature = "embed")]
fn resolve(path: &std::path::Path) -> std::path::PathBuf {
    if let Ok(path) = path.canonicalize() {
        return path;
    }
    match (
        path.parent().map(std::path::Path::canonicalize),
        path.file_name(),
    ) {
        (Some(Ok(dir)), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// The architecture on one line, as `staticnet::summary::Summary::architecture`
/// writes it; `None` where a size is a named constant (the macro cannot know
/// the text then).
#[cfg(feature = "embed")]
fn architecture(net: &Network) -> Option<String> {
    use crate::spatial::Shape;
    use std::fmt::Write;

    fn shape(s: &Shape) -> Option<String> {
        Some(match s {
            Shape::Vector(Dim::Known(n)) => format!("[{n}]"),
            Shape::Vector(Dim::Symbolic { .. }) => return None,
            Shape::Spatial { c, w, rank: 1, .. } => format!("[{c}, {w}]"),
            Shape::Spatial { c, h, w, .. } => format!("[{c}, {h}, {w}]"),
        })
    }
    let mut text = format!("input {}", shape(&net.input_shape)?);
    for l in &net.layers {
        let _ = write!(text, "; {}: {} {}", l.name, l.kind, shape(&l.output_shape)?);
        if !matches!(l.op, Op::Flatten) {
            let _ = write!(text, " {}", l.activation.text);
        }
        if let Op::Conv(g) | Op::Pool { geom: g, .. } = &l.op {
            let _ = write!(
                text,
                " kernel {}x{} stride {}x{} padding {}x{}",
                g.kh, g.kw, g.sh, g.sw, g.ph, g.pw
            );
        }
    }
    Some(text)
}

/// FNV-1a, 64 bits: the fingerprint of an architecture's text.
#[cfg(feature = "embed")]
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `TRAINED` and `trained()`: decoded from the file at `file` where every
/// tensor was found (`located`, in the order of `tensors`), zeros otherwise.
fn constants(
    net: &Network,
    attr: &WeightsAttr,
    tensors: &[Expected<'_>],
    found: Option<(&str, &[Located])>,
) -> TokenStream {
    let rt = quote!(::staticnet::__private);
    let ident = &net.ident;
    let scalar = &net.scalar;
    let written = attr.path.value();
    let decode = match quote!(#scalar).to_string().as_str() {
        "f32" => quote!(#rt::decode_f32_matrix),
        "f64" => quote!(#rt::decode_f64_matrix),
        _ => {
            // already an error: no constant can be decoded
            return quote! {
                impl #ident {
                    /// Not available: the network's scalar is not `f32` or `f64`.
                    #[must_use]
                    pub fn trained() -> &'static Self {
                        ::core::unreachable!()
                    }
                }
            };
        }
    };
    let (bytes, located): (TokenStream, Vec<Located>) = match found {
        Some((file, located)) => {
            let lit = LitStr::new(file, attr.path.span());
            (quote!(::core::include_bytes!(#lit)), located.to_vec())
        }
        None => (
            quote!(&[]),
            vec![
                Located {
                    offset: 0,
                    rows: 0,
                    cols: 0,
                };
                tensors.len()
            ],
        ),
    };
    let matrices: Vec<TokenStream> = tensors
        .iter()
        .zip(&located)
        .map(|(t, at)| {
            let (rows, cols) = (&t.rows, &t.cols);
            let Located {
                offset,
                rows: file_rows,
                cols: file_cols,
            } = *at;
            let [offset, file_rows, file_cols] =
                [offset, file_rows, file_cols].map(proc_macro2::Literal::usize_unsuffixed);
            quote!(#decode::<#rows, #cols>(__BYTES, #offset, #file_rows, #file_cols))
        })
        .collect();
    let fields = tensors.chunks(2).zip(matrices.chunks(2)).map(|(pair, m)| {
        let field = &pair[0].layer.field;
        let (weight, bias) = (&m[0], &m[1]);
        let layer = match pair[0].layer.op {
            Op::Conv(_) => quote!(#rt::Conv2d),
            _ => quote!(#rt::Dense),
        };
        quote!(#field: #layer::from_matrices(#weight, #bias))
    });
    let doc_const = format!(
        "The network with the weights of `{written}`, read, checked and decoded while the \
         crate compiled: no heap, no file and no parsing at run time.\n\n\
         A constant is copied wherever it is used; [`trained`](Self::trained) returns a \
         reference to a single copy in read-only memory instead, which suits large networks."
    );
    let doc_fn = format!(
        "The network with the weights of `{written}` (see [`TRAINED`](Self::TRAINED)), in a \
         `static`: read-only data of the program, never copied and never on the stack."
    );
    quote! {
        impl #ident {
            #[doc = #doc_const]
            pub const TRAINED: Self = {
                const __BYTES: &[u8] = #bytes;
                Self { #(#fields),* }
            };

            #[doc = #doc_fn]
            #[must_use]
            pub fn trained() -> &'static Self {
                static __TRAINED: #ident = #ident::TRAINED;
                &__TRAINED
            }
        }
    }
}

#[cfg(all(test, feature = "embed"))]
mod tests {
    use super::*;

    fn network(source: &str) -> Network {
        let declaration = syn::parse_str::<crate::ast::Declaration>(source).unwrap();
        let (network, errors) = crate::validate::validate(declaration);
        assert!(errors.is_none(), "the declaration is valid");
        network
    }

    #[test]
    fn architecture_and_fingerprint_are_the_runtimes() {
        // as `ui-tests/fixtures/xor.safetensors` records them, written from
        // the runtime's `Summary`
        let net = network("struct Xor { input: 2, hidden: dense(2) -> relu, output: dense(1) }");
        let text = architecture(&net).unwrap();
        assert_eq!(
            text,
            "input [2]; hidden: dense [2] relu; output: dense [1] identity"
        );
        assert_eq!(format!("{:016x}", fnv1a(&text)), "40f9de297b0fc747");
    }

    #[test]
    fn symbolic_sizes_have_no_architecture_text() {
        let net = network("struct Net { input: 2, hidden: dense(H) -> relu, output: dense(1) }");
        assert_eq!(architecture(&net), None);
    }

    #[test]
    fn the_attribute_is_taken_off_the_struct() {
        let mut attrs: Vec<syn::Attribute> = vec![
            syn::parse_quote!(#[derive(Debug)]),
            syn::parse_quote!(#[weights = "a.safetensors"]),
        ];
        let mut errors = Vec::new();
        let attr = take_attribute(&mut attrs, &mut errors).unwrap();
        assert_eq!(attr.path.value(), "a.safetensors");
        assert_eq!(attrs.len(), 1);
        assert!(errors.is_empty());
    }
}
