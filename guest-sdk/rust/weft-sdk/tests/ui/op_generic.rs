use weft_sdk::prelude::*;

#[op]
fn identity<T: Clone>(x: T) -> T {
    x
}

fn main() {}
