use weft_sdk::prelude::*;

#[op]
struct NotAFunction;

fn main() {}
