use weft_sdk::prelude::*;

#[op]
fn scaled(x: i64, ctx: &OpContext) -> i64 {
    x * i64::from(ctx.attempt())
}

fn main() {}
