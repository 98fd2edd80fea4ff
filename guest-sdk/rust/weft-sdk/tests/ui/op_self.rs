use weft_sdk::prelude::*;

struct Thing;

impl Thing {
    #[op]
    fn count(&self) -> i64 {
        1
    }
}

fn main() {}
