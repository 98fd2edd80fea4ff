//! Rebuilds this crate when the contract and SDK sources it embeds (`src/sdk.rs`) change: include_dir
//! reads them at compile time, but stable Rust cannot track them from a macro.

fn main() {
    println!("cargo:rerun-if-changed=../../wit");
    println!("cargo:rerun-if-changed=../../guest-sdk/python/weft");
    println!("cargo:rerun-if-changed=../../guest-sdk/go");
    println!("cargo:rerun-if-changed=../../guest-sdk/rust/weft-sdk");
    println!("cargo:rerun-if-changed=../../guest-sdk/rust/weft-sdk-macros");
    println!("cargo:rerun-if-changed=../../Cargo.toml");
}
