//! `#[sensor]` and `#[schedule]`: functions the daemon calls. A sensor keeps its function
//! and gets a hidden module with its `SensorSpec`; a schedule function becomes a
//! `fn() -> ScheduleDefinition` whose evaluator is the original body.

use crate::args;
use crate::sig;
use proc_macro2::TokenStream;
use quote::quote;

/// Expands `#[sensor(...)]`.
pub fn expand_sensor(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = args::parse(
        "sensor",
        attr,
        &[
            "name",
            "job",
            "minimum_interval_seconds",
            "description",
            "default_status",
        ],
    )?;
    let f = sig::parse_fn("sensor", item)?;
    let has_ctx = sig::trigger_fn("sensor", "SensorContext", &f)?;
    let name = args::get_string(&args, "name")?.unwrap_or_else(|| args::name_lit(&f.sig.ident));
    args::check_name(&name)?;
    let job = args::opt_str(args::get_string(&args, "job")?);
    let description = args::opt_str(args::get_string(&args, "description")?);
    let interval = match args::get(&args, "minimum_interval_seconds") {
        Some(a) => {
            let v = args::int(a)?;
            quote!(#v)
        }
        None => quote!(30),
    };
    let status = default_status(&args)?;
    let ident = &f.sig.ident;
    let vis = &f.vis;
    let call = if has_ctx {
        quote!(super::#ident(__ctx))
    } else {
        quote!({ let _ = __ctx; super::#ident() })
    };
    Ok(quote! {
        #f

        #[doc(hidden)]
        #[allow(non_snake_case, dead_code, unused_imports, clippy::all)]
        #vis mod #ident {
            use super::*;

            /// The sensor's description.
            pub static __WEFT_SENSOR: ::weft_sdk::__private::SensorSpec = ::weft_sdk::__private::SensorSpec {
                name: #name,
                job: #job,
                minimum_interval_seconds: #interval,
                description: #description,
                default_status: #status,
                evaluate: __weft_evaluate,
            };

            fn __weft_evaluate(
                __ctx: &::weft_sdk::SensorContext,
            ) -> ::core::result::Result<::weft_sdk::SensorResult, ::weft_sdk::Failure> {
                ::weft_sdk::__private::IntoSensorResult::into_sensor_result(#call)
            }
        }
    })
}

fn default_status(args: &[args::Arg]) -> syn::Result<TokenStream> {
    match args::get_string(args, "default_status")? {
        None => Ok(quote!(::weft_sdk::DefaultStatus::Stopped)),
        Some(s) => match s.value().as_str() {
            "running" => Ok(quote!(::weft_sdk::DefaultStatus::Running)),
            "stopped" => Ok(quote!(::weft_sdk::DefaultStatus::Stopped)),
            _ => Err(syn::Error::new(
                s.span(),
                "default_status is \"running\" or \"stopped\"",
            )),
        },
    }
}

/// Expands `#[schedule(...)]`.
pub fn expand_schedule(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = args::parse(
        "schedule",
        attr,
        &[
            "name",
            "job",
            "cron",
            "timezone",
            "description",
            "default_status",
        ],
    )?;
    let f = sig::parse_fn("schedule", item)?;
    let has_ctx = sig::trigger_fn("schedule", "ScheduleContext", &f)?;
    let name = args::get_string(&args, "name")?.unwrap_or_else(|| args::name_lit(&f.sig.ident));
    args::check_name(&name)?;
    let (Some(job), Some(cron)) = (
        args::get_string(&args, "job")?,
        args::get_string(&args, "cron")?,
    ) else {
        return Err(syn::Error::new(
            f.sig.ident.span(),
            "#[schedule] needs `job = \"...\"` and `cron = \"...\"`",
        ));
    };
    let timezone = args::get_string(&args, "timezone")?.map(|t| quote!(.timezone(#t)));
    let description = args::get_string(&args, "description")?.map(|d| quote!(.description(#d)));
    let status = default_status(&args)?;
    let attrs = &f.attrs;
    let vis = &f.vis;
    let ident = &f.sig.ident;
    let inputs = &f.sig.inputs;
    let output = &f.sig.output;
    let body = &f.block;
    let call = if has_ctx {
        quote!(__weft_schedule(__ctx))
    } else {
        quote!({
            let _ = __ctx;
            __weft_schedule()
        })
    };
    Ok(quote! {
        #(#attrs)*
        #vis fn #ident() -> ::weft_sdk::ScheduleDefinition {
            fn __weft_schedule(#inputs) #output #body
            fn __weft_tick(
                __ctx: &::weft_sdk::ScheduleContext,
            ) -> ::core::result::Result<::weft_sdk::ScheduleResult, ::weft_sdk::Failure> {
                ::weft_sdk::__private::IntoScheduleResult::into_schedule_result(#call)
            }
            ::weft_sdk::ScheduleDefinition::new(#name, #job, #cron)
                #timezone
                #description
                .default_status(#status)
                .__evaluator(__weft_tick)
        }
    })
}
