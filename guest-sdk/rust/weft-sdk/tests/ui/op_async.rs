use weft_sdk::prelude::*;

#[op]
async fn fetch() -> i64 {
    1
}

fn main() {}
