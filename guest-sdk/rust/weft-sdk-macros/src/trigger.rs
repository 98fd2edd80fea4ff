//! `#[sensor]`, `#[run_status_sensor]`, `#[run_failure_sensor]` and `#[schedule]`: functions
//! the daemon calls. A sensor keeps its function and gets a hidden module with its
//! `SensorSpec`; a schedule function becomes a `fn() -> ScheduleDefinition` whose
//! evaluator is the original body.

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
    let ident = &f.sig.ident;
    let call = if has_ctx {
        quote!(super::#ident(__ctx))
    } else {
        quote!({ let _ = __ctx; super::#ident() })
    };
    sensor_spec(
        &args,
        &f,
        name,
        job,
        call,
        quote!(::core::option::Option::None),
    )
}

/// Which run-status sensor attribute it is.
pub enum RunStatusFlavor {
    /// `#[run_status_sensor(run_status = "...")]`.
    Any,
    /// `#[run_failure_sensor]`.
    Failure,
}

/// Expands `#[run_status_sensor(...)]` and `#[run_failure_sensor(...)]` (Dagster's
/// arguments: `run_status`, `monitored_jobs`, `monitor_all_code_locations`, `request_job`).
pub fn expand_run_status_sensor(
    flavor: RunStatusFlavor,
    attr: TokenStream,
    item: TokenStream,
) -> syn::Result<TokenStream> {
    let (what, keys): (&str, &[&str]) = match flavor {
        RunStatusFlavor::Any => ("run_status_sensor", &["run_status"]),
        RunStatusFlavor::Failure => ("run_failure_sensor", &[]),
    };
    let mut allowed = vec![
        "name",
        "monitored_jobs",
        "monitor_all_code_locations",
        "request_job",
        "minimum_interval_seconds",
        "description",
        "default_status",
    ];
    allowed.extend_from_slice(keys);
    let args = args::parse(what, attr, &allowed)?;
    let f = sig::parse_fn(what, item)?;
    let has_ctx = sig::trigger_params(what, "RunStatusSensorContext", &f)?;
    let name = args::get_string(&args, "name")?.unwrap_or_else(|| args::name_lit(&f.sig.ident));
    args::check_name(&name)?;
    let status = match flavor {
        RunStatusFlavor::Failure => quote!(::weft_sdk::RunStatus::Failure),
        RunStatusFlavor::Any => {
            let Some(s) = args::get_string(&args, "run_status")? else {
                return Err(syn::Error::new(
                    f.sig.ident.span(),
                    "#[run_status_sensor] needs `run_status = \"success\"` (or \"failure\", \"canceled\")",
                ));
            };
            match s.value().as_str() {
                "success" => quote!(::weft_sdk::RunStatus::Success),
                "failure" => quote!(::weft_sdk::RunStatus::Failure),
                "canceled" => quote!(::weft_sdk::RunStatus::Canceled),
                _ => {
                    return Err(syn::Error::new(
                        s.span(),
                        "run_status is \"success\", \"failure\" or \"canceled\"",
                    ));
                }
            }
        }
    };
    let jobs = match args::get(&args, "monitored_jobs") {
        Some(a) => args::strings(a)?,
        None => Vec::new(),
    };
    let all_locations = match args::get(&args, "monitor_all_code_locations") {
        Some(a) => args::boolean(a)?,
        None => false,
    };
    let job = args::opt_str(args::get_string(&args, "request_job")?);
    let ident = &f.sig.ident;
    let returns_unit = matches!(f.sig.output, syn::ReturnType::Default);
    let invoke = if has_ctx {
        quote!(super::#ident(&__run_ctx))
    } else {
        quote!({ let _ = &__run_ctx; super::#ident() })
    };
    let invoke = if returns_unit {
        quote!({ #invoke; })
    } else {
        invoke
    };
    let call = quote!({
        let __run_ctx = ::weft_sdk::RunStatusSensorContext::__of(__ctx)?;
        #invoke
    });
    let spec = quote!(::core::option::Option::Some(::weft_sdk::__private::RunStatusSpec {
        status: #status,
        monitored_jobs: &[#(#jobs),*],
        all_locations: #all_locations,
    }));
    sensor_spec(&args, &f, name, job, call, spec)
}

/// The sensor's function and its hidden module holding the `SensorSpec`.
fn sensor_spec(
    args: &[args::Arg],
    f: &syn::ItemFn,
    name: syn::LitStr,
    job: TokenStream,
    call: TokenStream,
    run_status: TokenStream,
) -> syn::Result<TokenStream> {
    let description = args::opt_str(args::get_string(args, "description")?);
    let interval = match args::get(args, "minimum_interval_seconds") {
        Some(a) => {
            let v = args::int(a)?;
            quote!(#v)
        }
        None => quote!(30),
    };
    let status = default_status(args)?;
    let ident = &f.sig.ident;
    let vis = &f.vis;
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
                run_status: #run_status,
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
