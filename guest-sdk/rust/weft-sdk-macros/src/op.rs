//! `#[op]` and `#[asset]`: keep the function, and add a hidden module of the same name
//! holding its description (`OpSpec`/`AssetSpec`), its executor and, for ops, the
//! `__invoke` function a job body calls.

use crate::args::{self, Arg};
use crate::outs::{self, Out};
use crate::sig::{self, OpFn, Output};
use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

const OP_KEYS: &[&str] = &[
    "name",
    "description",
    "tags",
    "retry_policy",
    "config_schema",
    "config",
    "outs",
    "optional",
];
const ASSET_KEYS: &[&str] = &[
    "name",
    "description",
    "group",
    "kinds",
    "key_prefix",
    "deps",
    "tags",
    "retry_policy",
    "config_schema",
    "config",
];

const MULTI_ASSET_KEYS: &[&str] = &[
    "name",
    "description",
    "group",
    "kinds",
    "tags",
    "retry_policy",
    "config_schema",
    "config",
    "outs",
    "can_subset",
];

/// The `OpSpec` literal and the executor function of an op or asset (`outs` declared
/// with `#[op(outs(...))]`, else empty: the one output `result`).
fn spec_and_executor(
    what: &str,
    f: &OpFn,
    args: &[Arg],
    name: &LitStr,
    outs: &[Out],
) -> syn::Result<(TokenStream, TokenStream)> {
    let fn_name = &f.item.sig.ident;
    let description = args::opt_str(args::get_string(args, "description")?);
    let config_schema = args::opt_str(args::get_string(args, "config_schema")?);
    let config_type = match args::get(args, "config") {
        Some(arg) => {
            if let Some(schema) = args::get(args, "config_schema") {
                return Err(syn::Error::new(
                    schema.key.span(),
                    "give `config = Type` or `config_schema = \"...\"`, not both",
                ));
            }
            let ty = args::ty(arg)?;
            quote!(::core::option::Option::Some(::weft_sdk::__private::schema_of::<#ty>))
        }
        None => quote!(::core::option::Option::None),
    };
    let tags = args::tags(args::get(args, "tags"))?;
    let retry = args::retry_policy(what, args::get(args, "retry_policy"))?;
    let input_specs = f.inputs.iter().map(|(ident, ty)| {
        let n = args::name_lit(ident);
        let t = sig::type_name(ty);
        quote!(::weft_sdk::__private::InputSpec { name: #n, type_name: #t })
    });
    let dynamic = f.output.is_dynamic();
    if dynamic && what != "op" {
        return Err(syn::Error::new_spanned(
            f.output.ty(),
            format!("a #[{what}] cannot have a dynamic output: only an op's may be dynamic"),
        ));
    }
    let output_specs = if outs.is_empty() {
        let output_type = sig::type_name(&f.output.ty());
        vec![
            quote!(::weft_sdk::__private::OutputSpec { name: "result", type_name: #output_type, required: true, dynamic: #dynamic }),
        ]
    } else {
        outs::specs(outs)
    };
    let spec = quote! {
        ::weft_sdk::__private::OpSpec {
            name: #name,
            description: #description,
            inputs: &[#(#input_specs),*],
            outputs: &[#(#output_specs),*],
            config_schema: #config_schema,
            config_type: #config_type,
            tags: #tags,
            retry_policy: #retry,
            execute: __weft_execute,
        }
    };
    let takes = f.inputs.iter().map(|(ident, ty)| {
        let n = args::name_lit(ident);
        let t = sig::type_name(ty);
        quote!(let #ident: #ty = __inputs.take::<#ty>(#n, #t)?;)
    });
    let names = f.inputs.iter().map(|(ident, _)| ident);
    let ctx = f.has_ctx.then(|| quote!(__ctx,));
    let wrap = match f.output {
        Output::Result(_) => quote!(__out),
        Output::Unit | Output::Plain(_) => {
            quote!(::core::result::Result::<_, ::weft_sdk::Failure>::Ok(__out))
        }
    };
    let finish = if dynamic {
        quote!(::weft_sdk::__private::finish_dynamic(__ctx, #wrap))
    } else if outs.is_empty() {
        quote!(::weft_sdk::__private::finish(__ctx, #wrap))
    } else {
        let encode = outs::encode(outs);
        let take = match f.output {
            Output::Result(_) => quote! {
                let __outs: Outs = match __out {
                    ::core::result::Result::Ok(o) => o,
                    ::core::result::Result::Err(e) => {
                        return ::core::result::Result::Err(::weft_sdk::__private::failure_of(e));
                    }
                };
            },
            Output::Unit | Output::Plain(_) => quote!(let __outs: Outs = __out;),
        };
        quote!({ #take #encode })
    };
    let executor = quote! {
        fn __weft_execute(
            __ctx: &::weft_sdk::OpContext,
            __inputs: &mut ::weft_sdk::__private::Inputs,
        ) -> ::core::result::Result<
            ::std::vec::Vec<::weft_sdk::__private::Produced>,
            ::weft_sdk::Failure,
        > {
            #(#takes)*
            #[allow(clippy::let_unit_value)]
            let __out = super::#fn_name(#ctx #(#names),*);
            #finish
        }
    };
    Ok((spec, executor))
}

/// An asset's `group = "..."`, `default` when not given.
pub(crate) fn group_of(args: &[Arg], name: &LitStr) -> syn::Result<LitStr> {
    let group =
        args::get_string(args, "group")?.unwrap_or_else(|| LitStr::new("default", name.span()));
    args::check_name(&group)?;
    Ok(group)
}

/// `key = ["a", "b"]`, empty when not given.
pub(crate) fn strings_of(args: &[Arg], key: &str) -> syn::Result<Vec<LitStr>> {
    args::get(args, key)
        .map(args::strings)
        .transpose()
        .map(Option::unwrap_or_default)
}

fn name_of(f: &OpFn, args: &[Arg]) -> syn::Result<LitStr> {
    let name = args::get_string(args, "name")?.unwrap_or_else(|| args::name_lit(&f.item.sig.ident));
    args::check_name(&name)?;
    Ok(name)
}

/// Expands `#[op(...)]`.
pub fn expand_op(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = args::parse("op", attr, OP_KEYS)?;
    let f = sig::op_fn("op", item)?;
    let name = name_of(&f, &args)?;
    let outs = outs::parse(&args)?;
    let (spec, executor) = spec_and_executor("op", &f, &args, &name, &outs)?;
    let outs_struct = (!outs.is_empty()).then(|| outs::outs_struct(&name.value(), &outs));
    let (returns, handles) = if outs.is_empty() {
        let out_ty = f.output.ty();
        (quote!(::weft_sdk::Output<#out_ty>), quote!(__call.finish()))
    } else {
        let (types, values) = outs::handles(&outs);
        (
            types,
            quote!({ let __node = __call.finish_node(); #values }),
        )
    };
    let item = &f.item;
    let vis = &item.vis;
    let ident = &item.sig.ident;
    let params = f
        .inputs
        .iter()
        .map(|(i, ty)| quote!(#i: impl ::weft_sdk::IntoInput<#ty>));
    let feeds = f
        .inputs
        .iter()
        .enumerate()
        .map(|(index, (i, ty))| quote!(__call.input::<#ty>(#index, #i);));
    let doc = format!(
        "The op `{}`: its description and its invocation in a job body.",
        name.value()
    );
    Ok(quote! {
        #item

        #[doc = #doc]
        #[doc(hidden)]
        #[allow(non_snake_case, dead_code, unused_imports, clippy::all)]
        #vis mod #ident {
            use super::*;

            /// The op's description.
            pub static __WEFT_OP: ::weft_sdk::__private::OpSpec = #spec;

            #outs_struct

            #executor

            /// Invokes the op in a job body.
            pub fn __invoke(
                __node: ::weft_sdk::__private::NodeOptions,
                #(#params),*
            ) -> #returns {
                let mut __call = ::weft_sdk::__private::Invocation::new(&__WEFT_OP, __node);
                #(#feeds)*
                #handles
            }
        }
    })
}

/// Expands `#[asset(...)]`.
pub fn expand_asset(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = args::parse("asset", attr, ASSET_KEYS)?;
    let f = sig::op_fn("asset", item)?;
    let name = name_of(&f, &args)?;
    let (spec, executor) = spec_and_executor("asset", &f, &args, &name, &[])?;
    let group = group_of(&args, &name)?;
    let kinds = strings_of(&args, "kinds")?;
    let prefix = strings_of(&args, "key_prefix")?;
    for p in &prefix {
        args::check_name(p)?;
    }
    let deps = strings_of(&args, "deps")?;
    let item = &f.item;
    let vis = &item.vis;
    let ident = &item.sig.ident;
    Ok(quote! {
        #item

        #[doc(hidden)]
        #[allow(non_snake_case, dead_code, unused_imports, clippy::all)]
        #vis mod #ident {
            use super::*;

            /// The asset's description.
            pub static __WEFT_ASSET: ::weft_sdk::__private::AssetSpec = ::weft_sdk::__private::AssetSpec {
                key_prefix: &[#(#prefix),*],
                group: #group,
                kinds: &[#(#kinds),*],
                deps: &[#(#deps),*],
                op: #spec,
            };

            #executor
        }
    })
}

/// Expands `#[multi_asset(outs(a: T, b: U), can_subset = true, ...)]`: an op whose outputs
/// are assets (one per output, keyed by its name); with `can_subset` every output is
/// optional.
pub fn expand_multi_asset(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = args::parse("multi_asset", attr, MULTI_ASSET_KEYS)?;
    let f = sig::op_fn("multi_asset", item)?;
    let name = name_of(&f, &args)?;
    let can_subset = match args::get(&args, "can_subset") {
        Some(arg) => args::boolean(arg)?,
        None => false,
    };
    let mut outs = outs::parse(&args)?;
    if outs.is_empty() {
        return Err(syn::Error::new_spanned(
            &f.item.sig.ident,
            "a #[multi_asset] declares its assets: `outs(low: f64, high: f64)`",
        ));
    }
    if can_subset {
        for out in &mut outs {
            out.required = false;
        }
    }
    let (spec, executor) = spec_and_executor("multi_asset", &f, &args, &name, &outs)?;
    let outs_struct = outs::outs_struct(&name.value(), &outs);
    let group = group_of(&args, &name)?;
    let kinds = strings_of(&args, "kinds")?;
    let item = &f.item;
    let vis = &item.vis;
    let ident = &item.sig.ident;
    Ok(quote! {
        #item

        #[doc(hidden)]
        #[allow(non_snake_case, dead_code, unused_imports, clippy::all)]
        #vis mod #ident {
            use super::*;

            /// The multi-asset's description.
            pub static __WEFT_MULTI: ::weft_sdk::__private::MultiAssetSpec = ::weft_sdk::__private::MultiAssetSpec {
                group: #group,
                kinds: &[#(#kinds),*],
                can_subset: #can_subset,
                op: #spec,
            };

            #outs_struct

            #executor
        }
    })
}
