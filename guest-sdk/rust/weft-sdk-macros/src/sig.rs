//! Function signatures: what an op, asset, sensor or schedule function may look like, and
//! a spanned error for anything else.

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, ReturnType, Type};

/// An op's (or asset's) function, checked.
pub struct OpFn {
    pub item: ItemFn,
    pub has_ctx: bool,
    pub inputs: Vec<(Ident, Type)>,
    pub output: Output,
}

/// What an op returns.
pub enum Output {
    /// Nothing: `()`.
    Unit,
    /// A plain value.
    Plain(Type),
    /// `Result<T, E>`: `T` is the output.
    Result(Type),
}

impl Output {
    /// Whether it is a dynamic output: `Vec<DynamicOutput<T>>` (Dagster's `DynamicOut`).
    pub fn is_dynamic(&self) -> bool {
        let Type::Path(vec) = self.ty() else {
            return false;
        };
        let Some(last) = vec.path.segments.last() else {
            return false;
        };
        let PathArguments::AngleBracketed(args) = &last.arguments else {
            return false;
        };
        let Some(GenericArgument::Type(Type::Path(item))) = args.args.first() else {
            return false;
        };
        last.ident == "Vec"
            && item
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "DynamicOutput")
    }

    /// The output's type.
    pub fn ty(&self) -> Type {
        match self {
            Output::Unit => syn::parse_quote!(()),
            Output::Plain(t) | Output::Result(t) => t.clone(),
        }
    }
}

/// Parses the item under `#[what]` as a function and rejects what no definition can be.
pub fn parse_fn(what: &str, item: proc_macro2::TokenStream) -> syn::Result<ItemFn> {
    let item: syn::Item = syn::parse2(item)?;
    let syn::Item::Fn(f) = item else {
        return Err(syn::Error::new(
            item.span(),
            format!("#[{what}] goes on a function (`fn name(...) {{ ... }}`)"),
        ));
    };
    let sig = &f.sig;
    if let Some(t) = &sig.asyncness {
        return Err(syn::Error::new(
            t.span(),
            format!("#[{what}] functions cannot be `async`: Weft calls them synchronously"),
        ));
    }
    if let Some(t) = &sig.constness {
        return Err(syn::Error::new(
            t.span(),
            format!("#[{what}] functions cannot be `const`"),
        ));
    }
    if let Some(t) = &sig.unsafety {
        return Err(syn::Error::new(
            t.span(),
            format!("#[{what}] functions cannot be `unsafe`"),
        ));
    }
    if let Some(abi) = &sig.abi {
        return Err(syn::Error::new(
            abi.span(),
            format!("#[{what}] functions cannot have an ABI"),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            format!(
                "#[{what}] functions cannot be generic: Weft needs concrete input and output types"
            ),
        ));
    }
    if let Some(v) = &sig.variadic {
        return Err(syn::Error::new(
            v.span(),
            format!("#[{what}] functions cannot be variadic"),
        ));
    }
    if let Some(FnArg::Receiver(r)) = sig.inputs.first() {
        return Err(syn::Error::new_spanned(
            r,
            format!("#[{what}] goes on a free function, not a method taking `self`"),
        ));
    }
    Ok(f)
}

/// The last path segment's name of `ty` behind one `&`, if `ty` is a shared reference.
fn referent_name(ty: &Type) -> Option<(String, bool)> {
    let Type::Reference(r) = ty else { return None };
    let Type::Path(p) = &*r.elem else { return None };
    p.path
        .segments
        .last()
        .map(|s| (s.ident.to_string(), r.mutability.is_some()))
}

/// Checks an op's or asset's signature: `fn name([ctx: &OpContext,] input: Type, ...) -> T`.
pub fn op_fn(what: &str, item: proc_macro2::TokenStream) -> syn::Result<OpFn> {
    let item = parse_fn(what, item)?;
    let mut has_ctx = false;
    let mut inputs = Vec::new();
    for (index, arg) in item.sig.inputs.iter().enumerate() {
        let FnArg::Typed(pt) = arg else { continue };
        if let Some((name, mutable)) = referent_name(&pt.ty)
            && (name == "OpContext" || name == "AssetExecutionContext")
        {
            if mutable {
                return Err(syn::Error::new_spanned(
                    &pt.ty,
                    format!("take the context by shared reference: `&{name}`"),
                ));
            }
            if index != 0 {
                return Err(syn::Error::new_spanned(
                    pt,
                    format!(
                        "the context parameter (`&{name}`) must be the first parameter of a #[{what}] function"
                    ),
                ));
            }
            has_ctx = true;
            continue;
        }
        let ident = match &*pt.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    format!(
                        "#[{what}] inputs are named by plain identifiers (`name: Type`); destructure inside the body"
                    ),
                ));
            }
        };
        match &*pt.ty {
            Type::Reference(r) => {
                return Err(syn::Error::new_spanned(
                    r,
                    format!(
                        "#[{what}] inputs are owned values decoded from JSON: take `{}` by value",
                        r.elem.to_token_stream()
                    ),
                ));
            }
            Type::ImplTrait(t) => {
                return Err(syn::Error::new_spanned(
                    t,
                    format!("#[{what}] inputs need a concrete type, not `impl Trait`"),
                ));
            }
            _ => {}
        }
        inputs.push((ident, (*pt.ty).clone()));
    }
    let output = match &item.sig.output {
        ReturnType::Default => Output::Unit,
        ReturnType::Type(_, ty) => match result_ok_type(ty) {
            Some(ok) => Output::Result(ok),
            None => Output::Plain((**ty).clone()),
        },
    };
    if let Output::Plain(Type::ImplTrait(t)) = &output {
        return Err(syn::Error::new_spanned(
            t,
            format!("#[{what}] functions return a concrete type, not `impl Trait`"),
        ));
    }
    Ok(OpFn {
        item,
        has_ctx,
        inputs,
        output,
    })
}

/// `T` of `Result<T, ...>` (any path ending in `Result`).
fn result_ok_type(ty: &Type) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

/// Checks a sensor's or schedule's signature: `fn name([ctx: &Context]) -> R`; returns
/// whether it takes the context.
pub fn trigger_fn(what: &str, context: &str, item: &ItemFn) -> syn::Result<bool> {
    if let ReturnType::Default = item.sig.output {
        return Err(syn::Error::new(
            item.sig.ident.span(),
            format!("a #[{what}] function returns what it decided"),
        ));
    }
    trigger_params(what, context, item)
}

/// Like [`trigger_fn`], for a function that may return nothing (`()`).
pub fn trigger_params(what: &str, context: &str, item: &ItemFn) -> syn::Result<bool> {
    let sig = &item.sig;
    if sig.inputs.len() > 1 {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            format!("a #[{what}] function takes at most one parameter: `ctx: &{context}`"),
        ));
    }
    match sig.inputs.first() {
        None => Ok(false),
        Some(FnArg::Typed(pt)) => match referent_name(&pt.ty) {
            Some((name, false)) if name == context => Ok(true),
            _ => Err(syn::Error::new_spanned(
                &pt.ty,
                format!("the parameter of a #[{what}] function is `ctx: &{context}`"),
            )),
        },
        Some(other) => Err(syn::Error::new_spanned(
            other,
            format!("the parameter of a #[{what}] function is `ctx: &{context}`"),
        )),
    }
}

/// A type as readable text: `Vec<i64>`, not `Vec < i64 >`.
pub fn type_name(ty: &Type) -> String {
    let raw = ty.to_token_stream().to_string();
    let mut s = raw
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace("& ", "&");
    if let Some(rest) = s.strip_prefix(":: ") {
        s = format!("::{rest}");
    }
    s
}
