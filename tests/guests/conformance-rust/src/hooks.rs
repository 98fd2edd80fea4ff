//! The `hooks_job` scenario: `fine` succeeds and `broken` fails for good; the job's hooks
//! `announce` (on success) and `alarm` (on failure) run after each, and `broken` alone
//! also has `grumpy`, a failure hook that fails.

use weft_sdk::prelude::*;

#[op]
fn fine() -> i64 {
    1
}

#[op]
fn broken() -> Result<i64, Failure> {
    Err(Failure::fatal("broken on purpose"))
}

#[success_hook]
fn announce(ctx: &HookContext) {
    ctx.log().info(format!(
        "announce: {} of {} succeeded",
        ctx.step_key(),
        ctx.job_name()
    ));
}

#[failure_hook]
fn alarm(ctx: &HookContext) {
    let saw = ctx
        .failure()
        .is_some_and(|message| message.contains("broken on purpose"));
    let fields = [(
        "saw_failure".to_owned(),
        if saw { "yes" } else { "no" }.to_owned(),
    )];
    ctx.log().with_fields(
        weft_sdk::log::Level::Info,
        format!("alarm: {} failed", ctx.op_name()),
        &fields,
    );
}

#[failure_hook]
fn grumpy(_ctx: &HookContext) -> Result<(), String> {
    Err("grumpy hook fails".into())
}

#[job(hooks = [announce, alarm])]
pub fn hooks_job() {
    fine();
    broken.with_hooks([grumpy])();
}
