//! `weft token`: makes an API token for weft.yaml's `api_tokens`. The token is printed once,
//! for its user; weft.yaml keeps only its SHA-256 (the entry printed beside it).

use std::io::Read;

use anyhow::Context;
use weft_api::{ApiToken, Role};

use crate::Failure;

pub fn token(role: &str) -> Result<(), Failure> {
    let role = Role::parse(role).ok_or_else(|| {
        Failure::BadInput(anyhow::anyhow!(
            "unknown role {role:?}: viewer (reads), editor (also changes) or admin (also \
             grants and removals)"
        ))
    })?;
    let mut random = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut random))
        .context("reading /dev/urandom")?;
    let token = hex::encode(random);
    println!("token: {token}");
    println!("weft.yaml:");
    println!("api_tokens:");
    println!(
        "  - {{ role: {role}, sha256: {} }}",
        ApiToken::sha256_hex(&token)
    );
    eprintln!("(the token is shown this once: weft.yaml holds only its SHA-256)");
    Ok(())
}
