use weft_sdk::prelude::*;

#[asset(group = "numbers", group_name = "numbers")]
fn generated_numbers() -> Vec<i64> {
    (1..=10).collect()
}

fn main() {}
