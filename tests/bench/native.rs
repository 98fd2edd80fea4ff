//! The numbers pipelines as plain Rust calls: the floor under any orchestrator, timed per
//! call.

use std::hint::black_box;
use std::time::Instant;

use crate::median;

/// The numbers pipeline as plain calls: what each op of `process_numbers` computes.
pub fn native_process_numbers() -> i64 {
    let numbers: Vec<i64> = black_box((1..=10).collect());
    let even: Vec<i64> = black_box(numbers.iter().copied().filter(|n| n % 2 == 0).collect());
    let odd: Vec<i64> = black_box(numbers.into_iter().filter(|n| n % 2 != 0).collect());
    let even_sum: i64 = black_box(even.iter().sum());
    let odd_sum: i64 = black_box(odd.iter().sum());
    even_sum + odd_sum
}

/// `wide_job` as plain calls: a seed, 100 × add_one, a total.
pub fn native_wide_job() -> i64 {
    let start = black_box(1_i64);
    let values: Vec<i64> = (0..100).map(|_| black_box(black_box(start) + 1)).collect();
    values.iter().sum()
}

/// Nanoseconds per call of `f`, the median of a few timed batches.
pub fn per_call_ns(f: fn() -> i64, expect: i64) -> Result<f64, String> {
    if f() != expect {
        return Err(format!(
            "the plain Rust pipeline returned {} instead of {expect}",
            f()
        ));
    }
    let batch = 20_000;
    let mut samples = Vec::new();
    for _ in 0..7 {
        let clock = Instant::now();
        for _ in 0..batch {
            black_box(f());
        }
        samples.push(clock.elapsed().as_secs_f64() * 1e9 / batch as f64);
    }
    Ok(median(samples))
}
