use weft_sdk::prelude::*;

#[op(outs(even: Vec<i64>, odd: Vec<i64>), optional(odds))]
fn split(numbers: Vec<i64>) -> split::Outs {
    let (even, odd) = numbers.into_iter().partition(|n| n % 2 == 0);
    split::Outs { even, odd: Some(odd) }
}

fn main() {}
