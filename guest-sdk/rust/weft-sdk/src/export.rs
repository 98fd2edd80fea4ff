//! The exports of the `code-location` world: [`Component`] implements them for the
//! location that `definitions!` declares, by dispatching to its [`Registry`].

use crate::bindings::exports::weft::plugin::{checks, definitions, hooks, ops, schedules, sensors};
use crate::bindings::weft::plugin::types as wit;
use crate::failure::Failure;
use crate::registry::{Entries, Registry, run_step};
use std::marker::PhantomData;

/// A code location: what `definitions!` declares.
#[doc(hidden)]
pub trait Location: 'static {
    /// What `definitions!` lists, not yet built.
    fn entries() -> Entries;
    /// The location's registry, built on first use.
    fn registry() -> &'static Result<Registry, Failure>;
}

/// The exported component of location `L`.
#[doc(hidden)]
pub struct Component<L>(PhantomData<L>);

fn to_wit(failure: &Failure) -> wit::Failure {
    wit::Failure {
        message: failure.message().into(),
        retryable: failure.is_retryable(),
    }
}

fn registry<L: Location>() -> Result<&'static Registry, wit::Failure> {
    L::registry().as_ref().map_err(|f| {
        to_wit(&Failure::fatal(format!(
            "the location's definitions are invalid: {f}"
        )))
    })
}

impl<L: Location> definitions::Guest for Component<L> {
    fn get() -> Result<wit::Definitions, wit::Failure> {
        Ok(registry::<L>()?.definitions())
    }
}

impl<L: Location> ops::Guest for Component<L> {
    fn execute(
        ctx: wit::StepContext,
        inputs: Vec<wit::StepInput>,
    ) -> Result<Vec<wit::StepOutput>, wit::Failure> {
        // A step runs in a fresh instance: find its op without building every job's graph.
        if let Some((op, what)) = L::entries().step_op(&ctx) {
            return run_step(op, what, ctx, inputs).map_err(|f| to_wit(&f));
        }
        registry::<L>()?
            .execute(ctx, inputs)
            .map_err(|f| to_wit(&f))
    }
}

impl<L: Location> sensors::Guest for Component<L> {
    fn evaluate(name: String, ctx: wit::SensorContext) -> Result<wit::SensorResult, wit::Failure> {
        registry::<L>()?
            .evaluate_sensor(&name, ctx)
            .map_err(|f| to_wit(&f))
    }
}

impl<L: Location> schedules::Guest for Component<L> {
    fn evaluate(
        name: String,
        ctx: wit::ScheduleContext,
    ) -> Result<wit::ScheduleResult, wit::Failure> {
        registry::<L>()?
            .evaluate_schedule(&name, ctx)
            .map_err(|f| to_wit(&f))
    }
}

impl<L: Location> checks::Guest for Component<L> {
    fn evaluate(
        ctx: wit::StepContext,
        inputs: Vec<wit::StepInput>,
    ) -> Result<wit::CheckResult, wit::Failure> {
        registry::<L>()?
            .evaluate_check(ctx, inputs)
            .map_err(|f| to_wit(&f))
    }
}

impl<L: Location> hooks::Guest for Component<L> {
    fn run(name: String, ctx: wit::HookContext) -> Result<(), wit::Failure> {
        registry::<L>()?
            .run_hook(&name, ctx)
            .map_err(|f| to_wit(&f))
    }
}

/// Declares the code location: every asset, asset check, job, asset job, schedule and
/// sensor it defines (Dagster's `Definitions`), and exports it as the component's `code-location`.
/// Use it once, in the crate root. Ops need not be listed: the jobs invoke them.
///
/// ```ignore
/// weft_sdk::definitions! {
///     assets: [generated_numbers],
///     asset_checks: [numbers_are_positive],
///     jobs: [process_numbers],
///     asset_jobs: [process_numbers_asset],
///     schedules: [process_numbers_every_minute],
///     sensors: [check_file_sensor],
/// }
/// ```
#[macro_export]
macro_rules! definitions {
    (@add $e:ident assets $($p:ident)::+) => { $e.assets.push(&$($p)::+::__WEFT_ASSET); };
    (@add $e:ident jobs $($p:ident)::+) => { $e.jobs.push($($p)::+); };
    (@add $e:ident asset_jobs $($p:ident)::+) => { $e.asset_jobs.push($($p)::+); };
    (@add $e:ident schedules $($p:ident)::+) => { $e.schedules.push($($p)::+); };
    (@add $e:ident sensors $($p:ident)::+) => { $e.sensors.push(&$($p)::+::__WEFT_SENSOR); };
    (@add $e:ident asset_checks $($p:ident)::+) => { $e.asset_checks.push(&$($p)::+::__WEFT_CHECK); };
    (@add $e:ident multi_assets $($p:ident)::+) => { $e.multi_assets.push(&$($p)::+::__WEFT_MULTI); };
    (@add $e:ident graph_assets $($p:ident)::+) => { $e.graph_assets.push(&$($p)::+::__WEFT_GRAPH_ASSET); };
    (@add $e:ident $other:ident $($p:ident)::+) => {
        ::core::compile_error!(::core::concat!(
            "unknown key `", ::core::stringify!($other),
            "` in definitions!: expected assets, multi_assets, graph_assets, asset_checks, jobs, asset_jobs, schedules or sensors"
        ));
    };
    ( $( $kind:ident : [ $( $($p:ident)::+ ),* $(,)? ] ),* $(,)? ) => {
        /// The code location this crate defines.
        #[doc(hidden)]
        pub struct __WeftLocation;

        impl $crate::__private::Location for __WeftLocation {
            fn entries() -> $crate::__private::Entries {
                #[allow(unused_mut)]
                let mut entries = $crate::__private::Entries::default();
                $( $( $crate::definitions!(@add entries $kind $($p)::+); )* )*
                entries
            }

            fn registry() -> &'static ::core::result::Result<$crate::__private::Registry, $crate::Failure> {
                static REGISTRY: ::std::sync::OnceLock<
                    ::core::result::Result<$crate::__private::Registry, $crate::Failure>,
                > = ::std::sync::OnceLock::new();
                REGISTRY.get_or_init(|| {
                    $crate::__private::Registry::build(<Self as $crate::__private::Location>::entries())
                })
            }
        }

        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            type __WeftComponent = $crate::__private::Component<__WeftLocation>;
            $crate::__private::bindings::__weft_export!(__WeftComponent with_types_in $crate::__private::bindings);
        };
    };
}
