//! `weft init` and `weft build` outside a checkout, as a new user runs them: a starter
//! location in each language, written in a directory that is not under a Weft checkout,
//! built there with only the toolchains (the SDKs are the copies the binary carries) and
//! run.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::path::Path;

use serde_json::Value;
use weft_tests::{Home, TempDir, wasm_target_dir};

fn starter(language: &str) {
    let home = Home::new();
    let outside = TempDir::new(&format!("init-{language}"));
    let project = outside.0.join("my-location");
    // Rust's dependencies compile once per test binary's target dir, not per project.
    let target = wasm_target_dir().join("init");
    let env: [(&str, &Path); 1] = [("CARGO_TARGET_DIR", &target)];
    let init = home.weft_in(
        &outside.0,
        &["init", "--lang", language, "my-location"],
        &env,
    );
    assert_eq!(init.code, 0, "{}{}", init.stdout, init.stderr);
    assert!(
        init.stdout.contains("weft build my-location"),
        "{}",
        init.stdout
    );

    let built = home.weft_in(
        &outside.0,
        &["build", "my-location", "-o", "starter.wasm"],
        &env,
    );
    assert_eq!(
        built.code, 0,
        "{language}: {}{}",
        built.stdout, built.stderr
    );
    // The author's files are as init wrote them (Go's SDK is supplied on the side).
    if language == "go" {
        let go_mod = std::fs::read_to_string(project.join("go.mod")).unwrap();
        assert!(!go_mod.contains("replace"), "{go_mod}");
    }
    let ran = home.weft_in(
        &outside.0,
        &["run", "starter.wasm", "--job", "hello_job", "--json"],
        &env,
    );
    assert_eq!(ran.code, 0, "{language}: {}{}", ran.stdout, ran.stderr);
    let run: Value = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(run["status"], "SUCCESS", "{run}");
    assert_eq!(
        run["steps"]["hello"]["outputs"]["result"],
        format!("hello from {language}"),
        "{run}"
    );

    // init writes a new project and overwrites nothing.
    let again = home.weft_in(
        &outside.0,
        &["init", "--lang", language, "my-location"],
        &env,
    );
    assert_eq!(again.code, 2, "{}{}", again.stdout, again.stderr);
    assert!(
        again.stderr.contains("overwrites nothing"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_python_starter_builds_and_runs_outside_a_checkout() {
    starter("python");
}

#[test]
fn a_go_starter_builds_and_runs_outside_a_checkout() {
    starter("go");
}

#[test]
fn a_rust_starter_builds_and_runs_outside_a_checkout() {
    starter("rust");
}
