use weft_sdk::prelude::*;

#[op]
fn one() -> i64 {
    1
}

#[failure_hook]
fn alarm(_ctx: &HookContext) {}

#[failure_hook]
fn two_params(_ctx: &HookContext, _more: i64) {}

#[job]
fn wrong() {
    one.with_hooks(alarm)();
}

#[job(hooks = alarm)]
fn also_wrong() {
    one();
}

fn main() {}
