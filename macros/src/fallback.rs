//! What to emit when the declaration does not parse: the error, and where
//! the struct's name is known, an empty struct of that name so that uses of
//! the type elsewhere do not add errors of their own.

use proc_macro2::TokenStream;
use quote::quote;

pub fn expand(input: TokenStream, error: &syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    let stub = stub_name(input).map(|(vis, ident)| {
        quote! {
            #[allow(dead_code)]
            #vis struct #ident;
        }
    });
    quote!(#error #stub)
}

/// The visibility and name after `struct`, if the input gets that far.
fn stub_name(input: TokenStream) -> Option<(TokenStream, syn::Ident)> {
    let mut tokens = input.into_iter().peekable();
    let mut vis = TokenStream::new();
    while let Some(token) = tokens.next() {
        match &token {
            proc_macro2::TokenTree::Ident(i) if i == "struct" => {
                if let Some(proc_macro2::TokenTree::Ident(name)) = tokens.next() {
                    return Some((vis, name));
                }
                return None;
            }
            proc_macro2::TokenTree::Ident(i) if i == "pub" => {
                vis = quote!(#token);
                if let Some(proc_macro2::TokenTree::Group(g)) = tokens.peek()
                    && g.delimiter() == proc_macro2::Delimiter::Parenthesis
                {
                    let g = g.clone();
                    tokens.next();
                    vis.extend(quote!(#g));
                }
            }
            _ => {}
        }
    }
    None
}
