use weft_sdk::prelude::*;

#[op]
fn generate_numbers() -> Vec<i64> {
    (1..=10).collect()
}

#[op]
fn add_one(x: i64) -> i64 {
    x + 1
}

#[job]
fn wrong() {
    let numbers = generate_numbers();
    add_one(numbers);
}

fn main() {}
