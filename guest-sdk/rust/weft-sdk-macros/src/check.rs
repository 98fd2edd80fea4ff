//! `#[asset_check]`: keep the function, and add a hidden module of the same name holding
//! its `CheckSpec` (what `definitions!`'s `asset_checks` lists) and the evaluator that
//! decodes the asset's value and calls it.

use crate::args;
use crate::sig;
use proc_macro2::TokenStream;
use quote::quote;

/// Expands `#[asset_check(asset = "key", blocking = true, name = "...", description = "...")]`.
pub fn expand_asset_check(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = args::parse(
        "asset_check",
        attr,
        &["asset", "name", "description", "blocking"],
    )?;
    let f = sig::op_fn("asset_check", item)?;
    let Some(asset) = args::get(&args, "asset") else {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[asset_check] needs the asset it checks: `asset = \"orders\"`",
        ));
    };
    let asset = args::string(asset)?;
    let name =
        args::get_string(&args, "name")?.unwrap_or_else(|| args::name_lit(&f.item.sig.ident));
    args::check_name(&name)?;
    let description = args::opt_str(args::get_string(&args, "description")?);
    let blocking = match args::get(&args, "blocking") {
        Some(arg) => args::boolean(arg)?,
        None => false,
    };
    if f.inputs.len() > 1 {
        return Err(syn::Error::new_spanned(
            &f.item.sig.inputs,
            "an #[asset_check] function takes at most the asset's value (after `ctx: &OpContext`)",
        ));
    }
    let input = match f.inputs.first() {
        Some((ident, _)) => {
            let n = args::name_lit(ident);
            quote!(::core::option::Option::Some(#n))
        }
        None => quote!(::core::option::Option::None),
    };
    let takes = f.inputs.iter().map(|(ident, ty)| {
        let n = args::name_lit(ident);
        let t = sig::type_name(ty);
        quote!(let #ident: #ty = __inputs.take::<#ty>(#n, #t)?;)
    });
    let names = f.inputs.iter().map(|(ident, _)| ident);
    let ctx = f.has_ctx.then(|| quote!(__ctx,));
    let item = &f.item;
    let vis = &item.vis;
    let ident = &item.sig.ident;
    let doc = format!("The asset check `{}`: its description.", name.value());
    Ok(quote! {
        #item

        #[doc = #doc]
        #[doc(hidden)]
        #[allow(non_snake_case, dead_code, unused_imports, clippy::all)]
        #vis mod #ident {
            use super::*;

            fn __weft_evaluate(
                __ctx: &::weft_sdk::OpContext,
                __inputs: &mut ::weft_sdk::__private::Inputs,
            ) -> ::core::result::Result<::weft_sdk::AssetCheckResult, ::weft_sdk::Failure> {
                #(#takes)*
                let __out = super::#ident(#ctx #(#names),*);
                ::weft_sdk::__private::IntoCheckResult::into_check_result(__out)
            }

            /// The check's description and evaluator.
            pub static __WEFT_CHECK: ::weft_sdk::__private::CheckSpec = ::weft_sdk::__private::CheckSpec {
                name: #name,
                asset: #asset,
                description: #description,
                blocking: #blocking,
                input: #input,
                evaluate: __weft_evaluate,
            };
        }
    })
}
