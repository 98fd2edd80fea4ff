//! Hooks on the host: `#[success_hook]` / `#[failure_hook]` described in the definitions,
//! given to nodes by `#[job(hooks = [...])]` and `.with_hooks([...])` (also on a graph, and
//! after `.alias`), each node's listed once and by name, and `hooks.run` calling the hook
//! with its context through the same registry the component's export dispatches to.

use std::sync::Mutex;

use weft_sdk::__private::bindings::weft::plugin::types as wit;
use weft_sdk::__private::{Location, Registry};
use weft_sdk::prelude::*;

/// What the hooks were told, in order.
static TOLD: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[op]
fn one() -> i64 {
    1
}

#[op]
fn inc(x: i64) -> i64 {
    x + 1
}

#[success_hook(description = "Says the step succeeded")]
fn cheer(ctx: &HookContext) {
    TOLD.lock().unwrap_or_else(|e| e.into_inner()).push(format!(
        "cheer {} {} {} {}",
        ctx.run_id(),
        ctx.job_name(),
        ctx.step_key(),
        ctx.op_name()
    ));
}

#[failure_hook(name = "page_someone")]
fn alarm(ctx: &HookContext) -> Result<(), String> {
    Err(format!("paging failed after {:?}", ctx.failure()))
}

#[graph]
fn twice(x: Output<i64>) -> Output<i64> {
    inc(inc(x))
}

#[job(hooks = [cheer])]
fn hooked() {
    let a = one.with_hooks([alarm])();
    let b = inc.alias("b").with_hooks([cheer, alarm])(a);
    twice.with_hooks([alarm])(b);
    inc(a);
}

weft_sdk::definitions! {
    jobs: [hooked],
}

fn registry() -> &'static Registry {
    match __WeftLocation::registry() {
        Ok(r) => r,
        Err(e) => panic!("invalid location: {e}"),
    }
}

#[test]
fn hooks_are_defined_and_each_node_lists_its_own_and_its_jobs_by_name() {
    let defs = registry().definitions();
    let hooks: Vec<(String, Option<String>, wit::HookTrigger)> = defs
        .hooks
        .iter()
        .map(|h| (h.name.clone(), h.description.clone(), h.on))
        .collect();
    assert_eq!(
        hooks,
        [
            (
                "cheer".to_owned(),
                Some("Says the step succeeded".to_owned()),
                wit::HookTrigger::Success
            ),
            ("page_someone".to_owned(), None, wit::HookTrigger::Failure),
        ]
    );
    let job = &defs.jobs[0];
    let nodes: Vec<(&str, Vec<&str>)> = job
        .nodes
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.hooks.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    let both = vec!["cheer", "page_someone"];
    assert_eq!(
        nodes,
        [
            ("one", both.clone()),
            ("b", both.clone()),
            ("twice.inc", both.clone()),
            ("twice.inc_2", both),
            ("inc", vec!["cheer"]),
        ]
    );
}

#[test]
fn hooks_run_is_called_with_the_steps_context() {
    let ctx = |failure: Option<&str>| wit::HookContext {
        run_id: "r1".into(),
        job: "hooked".into(),
        step_key: "b".into(),
        op: "inc".into(),
        failure: failure.map(Into::into),
    };
    registry().run_hook("cheer", ctx(None)).expect("cheer");
    let told = TOLD.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(told, ["cheer r1 hooked b inc"]);
    let failed = registry()
        .run_hook("page_someone", ctx(Some("boom")))
        .expect_err("fails");
    assert_eq!(failed.message(), "paging failed after Some(\"boom\")");
    let unknown = registry().run_hook("nope", ctx(None)).expect_err("unknown");
    assert_eq!(
        unknown.message(),
        "no hook named \"nope\" in this code location"
    );
}

#[test]
fn a_hook_is_a_function_too() {
    let ctx = HookContext::for_test("inc").with_failure("boom");
    assert_eq!(
        alarm(&ctx),
        Err("paging failed after Some(\"boom\")".to_owned())
    );
}
