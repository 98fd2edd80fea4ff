//! `#[success_hook]` and `#[failure_hook]`: keep the function, and add a hidden module of
//! the same name holding its `HookSpec` (what `#[job(hooks = [h])]` and
//! `.with_hooks([h])` refer to).

use crate::args;
use crate::sig;
use proc_macro2::TokenStream;
use quote::quote;

/// Which hook macro it is.
#[derive(Clone, Copy)]
pub enum On {
    Success,
    Failure,
}

/// Expands `#[success_hook(...)]` or `#[failure_hook(...)]` on `fn h(ctx: &HookContext)`.
pub fn expand_hook(on: On, attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let what = match on {
        On::Success => "success_hook",
        On::Failure => "failure_hook",
    };
    let args = args::parse(what, attr, &["name", "description"])?;
    let f = sig::parse_fn(what, item)?;
    if f.sig.inputs.len() != 1 {
        return Err(syn::Error::new_spanned(
            &f.sig.inputs,
            format!("a #[{what}] function takes one parameter: `ctx: &HookContext`"),
        ));
    }
    let name = args::get_string(&args, "name")?.unwrap_or_else(|| args::name_lit(&f.sig.ident));
    args::check_name(&name)?;
    let description = args::opt_str(args::get_string(&args, "description")?);
    let on = match on {
        On::Success => quote!(::weft_sdk::__private::HookOn::Success),
        On::Failure => quote!(::weft_sdk::__private::HookOn::Failure),
    };
    let vis = &f.vis;
    let ident = &f.sig.ident;
    let doc = format!("The hook `{}`: its description.", name.value());
    Ok(quote! {
        #f

        #[doc = #doc]
        #[doc(hidden)]
        #[allow(non_snake_case, dead_code, unused_imports, clippy::all)]
        #vis mod #ident {
            use super::*;

            fn __run(ctx: &::weft_sdk::HookContext) -> ::core::result::Result<(), ::weft_sdk::Failure> {
                ::weft_sdk::__private::IntoHookResult::into_hook_result(super::#ident(ctx))
            }

            /// The hook's description and function.
            pub static __WEFT_HOOK: ::weft_sdk::__private::HookSpec = ::weft_sdk::__private::HookSpec {
                name: #name,
                description: #description,
                on: #on,
                run: __run,
            };
        }
    })
}
