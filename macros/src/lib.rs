//! The `network!` macro of [staticnet](https://docs.rs/staticnet); use it
//! through `staticnet::network!`, whose documentation describes the language.
//!
//! The pipeline reads as three steps: parse (`ast`), check shapes and
//! collect every error (`validate`), generate code that cannot fail
//! (`expand`); `fallback` covers input that does not parse.

mod ast;
mod expand;
mod fallback;
mod suggest;
mod validate;

use proc_macro::TokenStream;

/// Declares a neural network whose shapes are checked at compile time.
///
/// See `staticnet::network!` for the language and what it generates.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    let declaration = match syn::parse2::<ast::Declaration>(input.clone()) {
        Ok(declaration) => declaration,
        Err(error) => return fallback::expand(input, &error).into(),
    };
    let (network, errors) = validate::validate(declaration);
    let code = expand::expand(&network);
    let errors = errors.map(|e| e.to_compile_error());
    quote::quote!(#errors #code).into()
}
