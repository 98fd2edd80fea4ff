//! `#[op(outs(even: Vec<i64>, odd: Vec<i64>), optional(odd))]`: an op with several named
//! outputs (Dagster's `out={"even": Out(), "odd": Out(is_required=False)}`).
//!
//! The op returns the struct `<op>::Outs` the macro generates, one field per output (an
//! optional output's field is an `Option`, `None` leaving it out); in a job body the op
//! returns one handle per output, in order: `let (even, odd) = split(numbers);`.

use crate::args::{self, Arg, ArgValue};
use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, Token, Type};

/// One declared output.
pub struct Out {
    pub name: Ident,
    pub ty: Type,
    pub required: bool,
}

struct Decl {
    name: Ident,
    ty: Type,
}

impl Parse for Decl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        Ok(Decl {
            name,
            ty: input.parse()?,
        })
    }
}

fn list(arg: &Arg) -> syn::Result<&TokenStream> {
    match &arg.value {
        ArgValue::List(tokens) => Ok(tokens),
        ArgValue::Expr(e) => Err(syn::Error::new_spanned(
            e,
            format!("expected `{}(...)`", arg.key),
        )),
    }
}

/// The outputs `outs(...)` declares, with `optional(...)` applied; empty without `outs`.
pub fn parse(attr: &[Arg]) -> syn::Result<Vec<Out>> {
    let Some(outs) = args::get(attr, "outs") else {
        if let Some(optional) = args::get(attr, "optional") {
            return Err(syn::Error::new(
                optional.key.span(),
                "`optional(...)` names outputs of `outs(...)`; an op without `outs` has one \
                 output, `result`, which is required",
            ));
        }
        return Ok(Vec::new());
    };
    let decls = Punctuated::<Decl, Token![,]>::parse_terminated.parse2(list(outs)?.clone())?;
    let mut result: Vec<Out> = Vec::new();
    for d in decls {
        args::check_name(&args::name_lit(&d.name))?;
        if result.iter().any(|o| o.name == d.name) {
            return Err(syn::Error::new(
                d.name.span(),
                format!("output `{}` is declared twice", d.name),
            ));
        }
        result.push(Out {
            name: d.name,
            ty: d.ty,
            required: true,
        });
    }
    if result.is_empty() {
        return Err(syn::Error::new(
            outs.key.span(),
            "`outs(...)` declares at least one output: `outs(name: Type, ...)`",
        ));
    }
    if let Some(optional) = args::get(attr, "optional") {
        let names =
            Punctuated::<Ident, Token![,]>::parse_terminated.parse2(list(optional)?.clone())?;
        for name in names {
            match result.iter_mut().find(|o| o.name == name) {
                Some(out) => out.required = false,
                None => {
                    return Err(syn::Error::new(
                        name.span(),
                        format!("`{name}` is not an output declared in `outs(...)`"),
                    ));
                }
            }
        }
    }
    Ok(result)
}

/// The `Outs` struct the op returns.
pub fn outs_struct(op: &str, outs: &[Out]) -> TokenStream {
    let fields = outs.iter().map(|o| {
        let (name, ty) = (&o.name, &o.ty);
        if o.required {
            quote!(pub #name: #ty)
        } else {
            quote!(pub #name: ::core::option::Option<#ty>)
        }
    });
    let doc = format!(
        "The outputs of op `{op}`: one field per output; an optional output is an `Option`."
    );
    quote! {
        #[doc = #doc]
        pub struct Outs { #(#fields),* }
    }
}

/// The executor's tail: `__outs` (an `Outs`) encoded, output by output.
pub fn encode(outs: &[Out]) -> TokenStream {
    let pushes = outs.iter().map(|o| {
        let name = &o.name;
        let lit = args::name_lit(name);
        if o.required {
            quote!(__list.push((#lit, ::core::option::Option::None, ::weft_sdk::__private::encode_output(__ctx, #lit, &__outs.#name)?));)
        } else {
            quote! {
                if let ::core::option::Option::Some(__v) = &__outs.#name {
                    __list.push((#lit, ::core::option::Option::None, ::weft_sdk::__private::encode_output(__ctx, #lit, __v)?));
                }
            }
        }
    });
    quote! {
        let mut __list = ::std::vec::Vec::new();
        #(#pushes)*
        ::core::result::Result::Ok(__list)
    }
}

/// The `OutputSpec`s of the outputs.
pub fn specs(outs: &[Out]) -> Vec<TokenStream> {
    outs.iter()
        .map(|o| {
            let lit = args::name_lit(&o.name);
            let ty = crate::sig::type_name(&o.ty);
            let required = o.required;
            quote!(::weft_sdk::__private::OutputSpec { name: #lit, type_name: #ty, required: #required, dynamic: false })
        })
        .collect()
}

/// What `__invoke` returns and how: one `Output<T>` per output, a tuple when several.
pub fn handles(outs: &[Out]) -> (TokenStream, TokenStream) {
    let types = outs.iter().map(|o| {
        let ty = &o.ty;
        quote!(::weft_sdk::Output<#ty>)
    });
    let values = outs.iter().map(|o| {
        let lit = args::name_lit(&o.name);
        quote!(::weft_sdk::Output::of(__node, #lit))
    });
    if outs.len() == 1 {
        (quote!(#(#types)*), quote!(#(#values)*))
    } else {
        (quote!((#(#types),*)), quote!((#(#values),*)))
    }
}
