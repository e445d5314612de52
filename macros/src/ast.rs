//! The declaration as written: a typed syntax tree that keeps the user's
//! tokens for spans. Parsing stops at the first syntax error; everything
//! about meaning (kinds, activations, sizes) is left to `validate`.

use proc_macro2::{Delimiter, Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitFloat, LitInt, Token, Type, Visibility, braced, parenthesized};

/// `attrs vis struct Name<Scalar> { entries }`
pub struct Declaration {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    pub scalar: Option<Type>,
    pub entries: Vec<Entry>,
    /// The closing brace, for errors about what is missing.
    pub close: Span,
}

/// One line of the body: `input: SIZE` or `[name:] kind(args) [-> activation]`.
pub enum Entry {
    /// `input: N`, or `input: [C, L]` / `input: [C, H, W]` (then `bracket`
    /// is the span of the brackets).
    Input {
        keyword: Ident,
        sizes: Vec<Size>,
        bracket: Option<Span>,
    },
    Layer(Layer),
}

pub struct Layer {
    pub name: Option<Ident>,
    pub kind: Ident,
    pub args: Punctuated<Arg, Token![,]>,
    pub args_span: Span,
    pub activation: Option<ActivationCall>,
}

/// A layer argument: `SIZE`, `SIZE => SIZE`, or `key = value` (kept for
/// validation to reject or interpret).
pub enum Arg {
    Size(Size),
    /// `(A, B)`: a kernel or stride per axis.
    Pair(Size, Size, Span),
    Arrow {
        input: Size,
        output: Size,
    },
    // `value` is read by keyword arguments that layers will take
    // (initializers); today every keyword is rejected by name.
    #[allow(dead_code)]
    Keyword {
        key: Ident,
        value: TokenStream,
    },
}

/// `name` or `name(number, ...)`
pub struct ActivationCall {
    pub name: Ident,
    pub args: Option<(Span, Vec<Number>)>,
}

/// A numeric activation argument such as `0.01` or `-1`.
pub struct Number {
    pub value: f64,
    pub span: Span,
}

/// A size: an integer literal, a path to a `const` item, or a braced const
/// expression.
#[derive(Clone)]
pub enum Size {
    Literal(LitInt),
    Path(syn::Path),
    Block(proc_macro2::Group),
}

impl Size {
    pub fn span(&self) -> Span {
        match self {
            Size::Literal(lit) => lit.span(),
            Size::Path(path) => path.span(),
            Size::Block(group) => group.span(),
        }
    }
}

impl Parse for Declaration {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        input.parse::<Token![struct]>()?;
        let ident: Ident = input.parse()?;
        let scalar = if input.peek(Token![<]) {
            input.parse::<Token![<]>()?;
            let ty: Type = input.parse()?;
            input.parse::<Token![>]>()?;
            Some(ty)
        } else {
            None
        };
        let content;
        let brace = braced!(content in input);
        let mut entries = Vec::new();
        while !content.is_empty() {
            entries.push(content.parse()?);
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the network's body"));
        }
        Ok(Declaration {
            attrs,
            vis,
            ident,
            scalar,
            entries,
            close: brace.span.close(),
        })
    }
}

impl Parse for Entry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let first: Ident = input.parse()?;
        if input.peek(Token![:]) && !input.peek(Token![::]) {
            input.parse::<Token![:]>()?;
            // `input: SIZE`, unless a layer follows (then it is a layer named
            // `input`, which validation rejects with a clear message)
            if first == "input" && !(input.peek(Ident) && input.peek2(syn::token::Paren)) {
                if input.peek(syn::token::Bracket) {
                    let content;
                    let bracket = syn::bracketed!(content in input);
                    let sizes = content.parse_terminated(Size::parse, Token![,])?;
                    return Ok(Entry::Input {
                        keyword: first,
                        sizes: sizes.into_iter().collect(),
                        bracket: Some(bracket.span.join()),
                    });
                }
                let size = input.parse()?;
                return Ok(Entry::Input {
                    keyword: first,
                    sizes: vec![size],
                    bracket: None,
                });
            }
            let kind: Ident = input.parse()?;
            return Ok(Entry::Layer(parse_layer(Some(first), kind, input)?));
        }
        Ok(Entry::Layer(parse_layer(None, first, input)?))
    }
}

fn parse_layer(name: Option<Ident>, kind: Ident, input: ParseStream) -> syn::Result<Layer> {
    // `flatten` and `global_avg_pool` take no arguments and may omit `()`
    let (args, args_span) = if input.peek(syn::token::Paren) {
        let content;
        let paren = parenthesized!(content in input);
        (
            content.parse_terminated(Arg::parse, Token![,])?,
            paren.span.join(),
        )
    } else if input.is_empty() || input.peek(Token![,]) || input.peek(Token![->]) {
        (Punctuated::new(), kind.span())
    } else {
        return Err(syn::Error::new(
            kind.span(),
            format!("expected `(` after the layer kind `{kind}`, as in `{kind}(16)`"),
        ));
    };
    let activation = if input.peek(Token![->]) {
        input.parse::<Token![->]>()?;
        Some(input.parse()?)
    } else {
        None
    };
    Ok(Layer {
        name,
        kind,
        args,
        args_span,
        activation,
    })
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![=>]) {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let mut value = TokenStream::new();
            while !input.is_empty() && !input.peek(Token![,]) {
                value.extend(Some(input.parse::<proc_macro2::TokenTree>()?));
            }
            return Ok(Arg::Keyword { key, value });
        }
        if input.peek(syn::token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
            let a: Size = content.parse()?;
            content.parse::<Token![,]>()?;
            let b: Size = content.parse()?;
            let _ = content.parse::<Option<Token![,]>>()?;
            if !content.is_empty() {
                return Err(content.error("expected two sizes, as in `(3, 3)`"));
            }
            return Ok(Arg::Pair(a, b, paren.span.join()));
        }
        let first: Size = input.parse()?;
        if input.peek(Token![=>]) {
            input.parse::<Token![=>]>()?;
            let output = input.parse()?;
            return Ok(Arg::Arrow {
                input: first,
                output,
            });
        }
        Ok(Arg::Size(first))
    }
}

impl Parse for Size {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitInt) {
            return Ok(Size::Literal(input.parse()?));
        }
        if input.peek(syn::token::Brace) {
            let group: proc_macro2::Group = input.parse()?;
            debug_assert_eq!(group.delimiter(), Delimiter::Brace);
            return Ok(Size::Block(group));
        }
        if input.peek(Ident)
            || input.peek(Token![::])
            || input.peek(Token![crate])
            || input.peek(Token![self])
            || input.peek(Token![super])
        {
            return Ok(Size::Path(input.call(syn::Path::parse_mod_style)?));
        }
        Err(input.error(
            "expected a size: an integer literal, a path to a `const`, or a braced const expression like `{ 2 * N }`",
        ))
    }
}

impl Parse for ActivationCall {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected an activation after `->`, such as `relu` or `tanh`",
            )
        })?;
        let args = if input.peek(syn::token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
            let numbers = content.parse_terminated(Number::parse, Token![,])?;
            Some((paren.span.join(), numbers.into_iter().collect()))
        } else {
            None
        };
        Ok(ActivationCall { name, args })
    }
}

impl Parse for Number {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let negative = input.peek(Token![-]);
        let minus_span = if negative {
            Some(input.parse::<Token![-]>()?.span)
        } else {
            None
        };
        let (value, span) = if input.peek(LitFloat) {
            let lit: LitFloat = input.parse()?;
            (lit.base10_parse::<f64>()?, lit.span())
        } else if input.peek(LitInt) {
            let lit: LitInt = input.parse()?;
            (lit.base10_parse::<f64>()?, lit.span())
        } else {
            return Err(input.error("expected a number"));
        };
        let span = minus_span.and_then(|m| m.join(span)).unwrap_or(span);
        Ok(Number {
            value: if negative { -value } else { value },
            span,
        })
    }
}
