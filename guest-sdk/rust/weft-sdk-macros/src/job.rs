//! `#[job]` and `#[graph]`: the body becomes a graph builder. Every call of a bare
//! lowercase name `f(args)` is rewritten into `f::__invoke(NodeOptions::default(), args)`
//! (the op's, or a graph's, invocation); `f.alias(name)` and `f.with_hooks([h, ...])`, in
//! any order, before the call set the node's alias and its own hooks. `x.map(f)` (Dagster's
//! `.map` over a dynamic output) becomes `x.map(|v| f::__invoke(NodeOptions::default(), v))`.
//! `#[graph_asset]` is a graph whose body computes an asset from its upstream assets.

use crate::args;
use crate::sig;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, ExprArray, ExprCall, ExprPath, Ident, LitStr, ReturnType};

/// Rewrites op calls in a job body.
struct Rewrite;

/// `f` when `e` is a bare lowercase single-segment path (not `drop`).
fn bare_op(e: &Expr) -> Option<&Ident> {
    let Expr::Path(ExprPath {
        qself: None,
        path,
        attrs,
    }) = e
    else {
        return None;
    };
    if !attrs.is_empty() || path.leading_colon.is_some() || path.segments.len() != 1 {
        return None;
    }
    let seg = &path.segments[0];
    let first = seg.ident.to_string().chars().next()?;
    let is_op = seg.arguments.is_none()
        && (first.is_ascii_lowercase() || first == '_')
        && seg.ident != "drop";
    is_op.then_some(&seg.ident)
}

/// `&h::__WEFT_HOOK, ...` for a list of hooks `[h, ...]`.
pub(crate) fn hook_list(list: &Expr) -> syn::Result<Vec<TokenStream>> {
    let Expr::Array(ExprArray { elems, .. }) = list else {
        return Err(syn::Error::new_spanned(
            list,
            "hooks are a list of #[success_hook] or #[failure_hook] functions: `[notify, alarm]`",
        ));
    };
    elems
        .iter()
        .map(|e| match e {
            Expr::Path(p) => {
                let path = &p.path;
                Ok(quote_spanned!(p.span()=> &#path::__WEFT_HOOK))
            }
            other => Err(syn::Error::new_spanned(
                other,
                "expected the name of a #[success_hook] or #[failure_hook] function",
            )),
        })
        .collect()
}

/// The op invoked by `func` (`f`, `f.alias(..)`, `f.with_hooks(..)`, chained) and the
/// `NodeOptions` the chain sets; `None` if `func` is not such an expression.
fn invocation(func: &Expr) -> Option<syn::Result<(Ident, TokenStream)>> {
    let mut alias = quote!(::core::option::Option::None);
    let mut hooks = Vec::new();
    let mut at = func;
    loop {
        if let Some(op) = bare_op(at) {
            let options = quote!(::weft_sdk::__private::NodeOptions {
                alias: #alias,
                hooks: ::std::vec![#(#hooks),*],
            });
            return Some(Ok((op.clone(), options)));
        }
        let Expr::MethodCall(m) = at else {
            return None;
        };
        if m.args.len() != 1 || m.turbofish.is_some() {
            return None;
        }
        let arg = &m.args[0];
        if m.method == "alias" {
            alias = quote!(::core::option::Option::Some(::core::convert::Into::<::std::string::String>::into(#arg)));
        } else if m.method == "with_hooks" {
            match hook_list(arg) {
                Ok(list) => hooks.extend(list),
                Err(e) => return Some(Err(e)),
            }
        } else {
            return None;
        }
        at = &m.receiver;
    }
}

impl VisitMut for Rewrite {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        visit_mut::visit_expr_mut(self, e);
        // `dynamic.map(op)`: the op invoked on each mapped value (Dagster's `.map`).
        if let Expr::MethodCall(m) = e
            && m.method == "map"
            && m.args.len() == 1
        {
            let mapped = match invocation(&m.args[0]) {
                None => return,
                Some(Ok((op, options))) => {
                    quote_spanned!(op.span()=> |__weft_value| #op::__invoke(#options, __weft_value))
                }
                Some(Err(error)) => error.to_compile_error(),
            };
            m.args[0] = syn::parse_quote!(#mapped);
            return;
        }
        let Expr::Call(ExprCall { func, args, .. }) = e else {
            return;
        };
        let (op, options) = match invocation(func) {
            None => return,
            Some(Ok(found)) => found,
            Some(Err(error)) => {
                let error = error.to_compile_error();
                *e = syn::parse_quote!(#error);
                return;
            }
        };
        let args = args.clone();
        *e = syn::parse_quote_spanned!(op.span()=> #op::__invoke(#options, #args));
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Expands `#[job(...)]`.
pub fn expand_job(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = args::parse("job", attr, &["name", "description", "tags", "hooks"])?;
    let mut f = sig::parse_fn("job", item)?;
    if !f.sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &f.sig.inputs,
            "a #[job] function takes no parameters: its body wires ops together",
        ));
    }
    if let ReturnType::Type(_, ty) = &f.sig.output {
        return Err(syn::Error::new_spanned(
            ty,
            "a #[job] function returns nothing: #[job] makes it return the job's definition",
        ));
    }
    let name = args::get_string(&args, "name")?.unwrap_or_else(|| args::name_lit(&f.sig.ident));
    args::check_name(&name)?;
    let description = args::opt_str(args::get_string(&args, "description")?);
    let tags = args::tags(args::get(&args, "tags"))?;
    let hooks = match args::get(&args, "hooks") {
        Some(arg) => hook_list(args::expr(arg)?)?,
        None => Vec::new(),
    };
    Rewrite.visit_block_mut(&mut f.block);
    let body = &f.block;
    let attrs = &f.attrs;
    let vis = &f.vis;
    let ident = &f.sig.ident;
    let span = ident.span();
    Ok(quote_spanned! {span=>
        #(#attrs)*
        #vis fn #ident() -> ::weft_sdk::JobDefinition {
            ::weft_sdk::__private::build_job(#name, #description, #tags, &[#(#hooks),*], || #body)
        }
    })
}

/// Expands `#[graph(...)]`: the function becomes a module `name` whose `__invoke` runs the
/// rewritten body with its ops named `graph.op`, so a job (or graph) body calls it as an op.
pub fn expand_graph(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = args::parse("graph", attr, &["name", "description"])?;
    let mut f = sig::parse_fn("graph", item)?;
    let name = args::get_string(&args, "name")?.unwrap_or_else(|| args::name_lit(&f.sig.ident));
    args::check_name(&name)?;
    for input in &f.sig.inputs {
        if let syn::FnArg::Receiver(r) = input {
            return Err(syn::Error::new_spanned(
                r,
                "a #[graph] function takes no self",
            ));
        }
    }
    Rewrite.visit_block_mut(&mut f.block);
    let body = &f.block;
    let vis = &f.vis;
    let ident = &f.sig.ident;
    let inputs = &f.sig.inputs;
    let output = &f.sig.output;
    let doc = format!(
        "The graph `{}`: its invocation in a job body.",
        name.value()
    );
    Ok(quote! {
        #[doc = #doc]
        #[allow(non_snake_case, dead_code, unused_imports, clippy::all)]
        #vis mod #ident {
            use super::*;

            /// Calls the graph in a job body: its ops are named `graph.op`.
            pub fn __invoke(__node: ::weft_sdk::__private::NodeOptions, #inputs) #output {
                let __graph = ::weft_sdk::__private::GraphCall::enter(#name, __node);
                #body
            }
        }
    })
}

/// Expands `#[graph_asset(...)]`: the function becomes a module `name` whose
/// `__WEFT_GRAPH_ASSET` describes the asset and builds its graph by running the rewritten
/// body on handles to its parameters (its upstream assets), its ops named `name.op`.
pub fn expand_graph_asset(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let keys = &[
        "name",
        "description",
        "group",
        "kinds",
        "key_prefix",
        "deps",
    ];
    let args = args::parse("graph_asset", attr, keys)?;
    let mut f = sig::parse_fn("graph_asset", item)?;
    let name = args::get_string(&args, "name")?.unwrap_or_else(|| args::name_lit(&f.sig.ident));
    args::check_name(&name)?;
    let description = args::opt_str(args::get_string(&args, "description")?);
    let group = crate::op::group_of(&args, &name)?;
    let kinds = crate::op::strings_of(&args, "kinds")?;
    let prefix = crate::op::strings_of(&args, "key_prefix")?;
    for p in &prefix {
        args::check_name(p)?;
    }
    let deps = crate::op::strings_of(&args, "deps")?;
    let mut inputs = Vec::new();
    for input in &f.sig.inputs {
        let syn::FnArg::Typed(typed) = input else {
            return Err(syn::Error::new_spanned(
                input,
                "a #[graph_asset] function takes no self",
            ));
        };
        let syn::Pat::Ident(ident) = typed.pat.as_ref() else {
            return Err(syn::Error::new_spanned(
                &typed.pat,
                "name the parameter after the upstream asset it reads",
            ));
        };
        let n = args::name_lit(&ident.ident);
        let t = sig::type_name(&typed.ty);
        inputs.push(quote!(::weft_sdk::__private::InputSpec { name: #n, type_name: #t }));
    }
    let handles = (0..inputs.len()).map(|i| quote!(::weft_sdk::__private::graph_input(#i)));
    // Its graph is named by the asset's key, parts joined with `__` (as Dagster names it):
    // its ops are the steps `boosted.double_score`, or `warehouse__boosted.double_score`.
    let graph: Vec<String> = prefix.iter().chain([&name]).map(LitStr::value).collect();
    let graph = LitStr::new(&graph.join("__"), name.span());
    Rewrite.visit_block_mut(&mut f.block);
    let body = &f.block;
    let vis = &f.vis;
    let ident = &f.sig.ident;
    let params = &f.sig.inputs;
    let output = &f.sig.output;
    Ok(quote! {
        #[doc(hidden)]
        #[allow(non_snake_case, dead_code, unused_imports, clippy::all)]
        #vis mod #ident {
            use super::*;

            fn __body(#params) #output #body

            fn __build() -> ::weft_sdk::JobDefinition {
                ::weft_sdk::__private::build_graph_asset(#graph, || __body(#(#handles),*))
            }

            /// The graph-backed asset's description.
            pub static __WEFT_GRAPH_ASSET: ::weft_sdk::__private::GraphAssetSpec =
                ::weft_sdk::__private::GraphAssetSpec {
                    name: #name,
                    description: #description,
                    key_prefix: &[#(#prefix),*],
                    group: #group,
                    kinds: &[#(#kinds),*],
                    deps: &[#(#deps),*],
                    inputs: &[#(#inputs),*],
                    build: __build,
                };
        }
    })
}
