//! Attribute arguments: `key = value`, `key(k = v, ...)`, parsed with spans so that an
//! unknown key or a wrong value is an error pointing at it.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprArray, ExprLit, Ident, Lit, LitInt, LitStr, Token};

/// One argument: `key = expr` or `key(tokens)`.
pub struct Arg {
    pub key: Ident,
    pub value: ArgValue,
}

/// An argument's value.
pub enum ArgValue {
    Expr(Expr),
    List(TokenStream),
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Ok(Arg {
                key,
                value: ArgValue::Expr(input.parse()?),
            })
        } else if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            Ok(Arg {
                key,
                value: ArgValue::List(content.parse()?),
            })
        } else {
            Err(syn::Error::new(
                key.span(),
                format!("expected `{key} = ...` or `{key}(...)`"),
            ))
        }
    }
}

/// Parses the arguments of `#[what(...)]`, rejecting keys not in `allowed`.
pub fn parse(what: &str, tokens: TokenStream, allowed: &[&str]) -> syn::Result<Vec<Arg>> {
    let args = Punctuated::<Arg, Token![,]>::parse_terminated.parse2(tokens)?;
    let mut seen: Vec<String> = Vec::new();
    for arg in &args {
        let key = arg.key.to_string();
        if !allowed.contains(&key.as_str()) {
            return Err(syn::Error::new(
                arg.key.span(),
                format!(
                    "unknown #[{what}] argument `{key}`; expected one of: {}",
                    allowed.join(", ")
                ),
            ));
        }
        if seen.contains(&key) {
            return Err(syn::Error::new(
                arg.key.span(),
                format!("`{key}` is given twice"),
            ));
        }
        seen.push(key);
    }
    Ok(args.into_iter().collect())
}

/// `key = expr`: the expression.
pub fn expr(arg: &Arg) -> syn::Result<&Expr> {
    match &arg.value {
        ArgValue::Expr(e) => Ok(e),
        ArgValue::List(_) => Err(syn::Error::new(
            arg.key.span(),
            format!("expected `{} = ...`", arg.key),
        )),
    }
}

/// `key = "text"` (or `key = some_ident`, taken as its name).
pub fn string(arg: &Arg) -> syn::Result<LitStr> {
    match expr(arg)? {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.clone()),
        Expr::Path(p) if p.path.get_ident().is_some() => {
            let ident = p.path.segments[0].ident.clone();
            Ok(LitStr::new(&ident.to_string(), ident.span()))
        }
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{}` takes a string literal", arg.key),
        )),
    }
}

/// `key = SomeType` (a path such as `Scale` or `config::Scale`).
pub fn ty(arg: &Arg) -> syn::Result<syn::Type> {
    match expr(arg)? {
        Expr::Path(p) => Ok(syn::Type::Path(syn::TypePath {
            qself: None,
            path: p.path.clone(),
        })),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{}` takes a type: `{} = MyConfig`", arg.key, arg.key),
        )),
    }
}

/// `key = 5`.
pub fn int(arg: &Arg) -> syn::Result<LitInt> {
    match expr(arg)? {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => Ok(i.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{}` takes an integer literal", arg.key),
        )),
    }
}

/// `key = true`.
pub fn boolean(arg: &Arg) -> syn::Result<bool> {
    match expr(arg)? {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{}` takes `true` or `false`", arg.key),
        )),
    }
}

/// `key = ["a", "b"]`.
pub fn strings(arg: &Arg) -> syn::Result<Vec<LitStr>> {
    match expr(arg)? {
        Expr::Array(ExprArray { elems, .. }) => elems
            .iter()
            .map(|e| match e {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Ok(s.clone()),
                other => Err(syn::Error::new_spanned(other, "expected a string literal")),
            })
            .collect(),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{}` takes a list of strings: `[\"a\", \"b\"]`", arg.key),
        )),
    }
}

/// `key(inner, ...)`: the nested arguments.
pub fn nested(what: &str, arg: &Arg, allowed: &[&str]) -> syn::Result<Vec<Arg>> {
    match &arg.value {
        ArgValue::List(tokens) => parse(&format!("{what}({})", arg.key), tokens.clone(), allowed),
        ArgValue::Expr(e) => Err(syn::Error::new_spanned(
            e,
            format!("write `{}(...)`", arg.key),
        )),
    }
}

/// One tag: `key = "value"` or `"key/with/slashes" = "value"`.
struct Tag(LitStr, LitStr);

impl Parse for Tag {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = if input.peek(LitStr) {
            input.parse::<LitStr>()?
        } else {
            let ident: Ident = input.parse()?;
            LitStr::new(&ident.to_string(), ident.span())
        };
        input.parse::<Token![=]>()?;
        Ok(Tag(key, input.parse()?))
    }
}

/// `tags(domain = "numbers", "weft/k8s" = "...")` as a `&[(&str, &str)]` expression.
pub fn tags(arg: Option<&Arg>) -> syn::Result<TokenStream> {
    let Some(arg) = arg else {
        return Ok(quote!(&[]));
    };
    let ArgValue::List(tokens) = &arg.value else {
        return Err(syn::Error::new(
            arg.key.span(),
            "write `tags(key = \"value\", ...)`",
        ));
    };
    let tags = Punctuated::<Tag, Token![,]>::parse_terminated.parse2(tokens.clone())?;
    let pairs = tags.iter().map(|Tag(k, v)| quote!((#k, #v)));
    Ok(quote!(&[#(#pairs),*]))
}

/// `retry_policy(max_retries = 3, delay_ms = 10, backoff = "exponential")` as an
/// `Option<RetryPolicy>` expression.
pub fn retry_policy(what: &str, arg: Option<&Arg>) -> syn::Result<TokenStream> {
    let Some(arg) = arg else {
        return Ok(quote!(::core::option::Option::None));
    };
    let inner = nested(what, arg, &["max_retries", "delay_ms", "backoff"])?;
    let mut max_retries = quote!(0);
    let mut delay_ms = quote!(0);
    let mut backoff = quote!(::weft_sdk::Backoff::Constant);
    for a in &inner {
        match a.key.to_string().as_str() {
            "max_retries" => {
                let v = int(a)?;
                max_retries = quote!(#v);
            }
            "delay_ms" => {
                let v = int(a)?;
                delay_ms = quote!(#v);
            }
            _ => {
                let v = string(a)?;
                backoff = match v.value().as_str() {
                    "constant" => quote!(::weft_sdk::Backoff::Constant),
                    "exponential" => quote!(::weft_sdk::Backoff::Exponential),
                    _ => {
                        return Err(syn::Error::new(
                            v.span(),
                            "backoff is \"constant\" or \"exponential\"",
                        ));
                    }
                };
            }
        }
    }
    Ok(
        quote!(::core::option::Option::Some(::weft_sdk::RetryPolicy {
            max_retries: #max_retries, delay_ms: #delay_ms, backoff: #backoff,
        })),
    )
}

/// `Some("text")` or `None`.
pub fn opt_str(s: Option<LitStr>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

/// Finds argument `key`.
pub fn get<'a>(args: &'a [Arg], key: &str) -> Option<&'a Arg> {
    args.iter().find(|a| a.key == key)
}

/// `Some(string)` for `key = "..."` if given.
pub fn get_string(args: &[Arg], key: &str) -> syn::Result<Option<LitStr>> {
    get(args, key).map(string).transpose()
}

/// Checks a definition name is `snake_case`, as the contract requires.
pub fn check_name(name: &LitStr) -> syn::Result<()> {
    let v = name.value();
    let mut chars = v.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(syn::Error::new(
            name.span(),
            format!("`{v}` is not a snake_case name ([a-z_][a-z0-9_]*)"),
        ))
    }
}

/// A span-less name literal.
pub fn name_lit(ident: &Ident) -> LitStr {
    use syn::ext::IdentExt;
    LitStr::new(&ident.unraw().to_string(), ident.span())
}
