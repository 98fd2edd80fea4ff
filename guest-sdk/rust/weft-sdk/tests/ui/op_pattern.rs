use weft_sdk::prelude::*;

#[op]
fn add((a, b): (i64, i64)) -> i64 {
    a + b
}

fn main() {}
