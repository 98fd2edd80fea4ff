//! Bad input to `weft`: each is refused with exit code 2 and a message naming the problem,
//! and nothing is written (no run, no location version).

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use weft_tests::{Home, TempDir, rust_guest};

/// Asserts `weft ARGS` exits 2 with `needle` in its error, and that no run was recorded.
fn refused(home: &Home, args: &[&str], needle: &str) {
    let out = home.weft(args);
    assert_eq!(
        out.code, 2,
        "weft {args:?}\nstdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr.contains(needle),
        "weft {args:?}: expected {needle:?} in:\n{}",
        out.stderr
    );
    assert!(
        !home.dir.join("weft.db").exists(),
        "weft {args:?} wrote the database"
    );
}

#[test]
fn a_file_that_is_not_wasm() {
    let home = Home::new();
    let dir = TempDir::new("bad");
    let path = dir.join("notes.wasm");
    std::fs::write(&path, "hello").unwrap();
    refused(
        &home,
        &["run", path.to_str().unwrap(), "--job", "x"],
        "not a WebAssembly file",
    );
    refused(
        &home,
        &["run", "/nonexistent/x.wasm", "--job", "x"],
        "cannot read /nonexistent/x.wasm",
    );
}

#[test]
fn a_core_module_that_is_not_a_component() {
    let home = Home::new();
    let dir = TempDir::new("core");
    let path = dir.join("core.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
    refused(
        &home,
        &["check", path.to_str().unwrap()],
        "core WebAssembly module, not a component",
    );
}

#[test]
fn a_component_of_another_world() {
    let home = Home::new();
    let dir = TempDir::new("world");
    let out = weft_tests::wasi_command_component(&dir);
    refused(
        &home,
        &["run", out.to_str().unwrap(), "--job", "x"],
        "not a Weft code location",
    );
}

#[test]
fn a_job_that_does_not_exist() {
    let home = Home::new();
    let numbers = rust_guest("numbers");
    refused(
        &home,
        &["run", numbers.to_str().unwrap(), "--job", "proces_numbers"],
        "no job named \"proces_numbers\" in this code location (jobs: process_numbers, wide_job, process_numbers_asset)",
    );
    refused(
        &home,
        &[
            "materialize",
            numbers.to_str().unwrap(),
            "--select",
            "group:nope",
        ],
        "matches no asset",
    );
}

#[test]
fn malformed_config_and_flags() {
    let home = Home::new();
    let numbers = rust_guest("numbers");
    let n = numbers.to_str().unwrap();
    refused(
        &home,
        &["run", n, "--job", "process_numbers", "--config", "{oops"],
        "run config is not valid JSON",
    );
    refused(
        &home,
        &[
            "run",
            n,
            "--job",
            "process_numbers",
            "--config",
            r#"{"ops": {"nope": {"config": 1}}}"#,
        ],
        "run config names step \"nope\"",
    );
    refused(
        &home,
        &["run", n, "--job", "process_numbers", "--tag", "novalue"],
        "expected key=value",
    );
    refused(
        &home,
        &[
            "run",
            n,
            "--job",
            "process_numbers",
            "--grant-dir",
            "/no/such/dir=/x",
        ],
        "granted directory /no/such/dir does not exist",
    );
    refused(
        &home,
        &[
            "run",
            n,
            "--job",
            "process_numbers",
            "--grant-host",
            "https://api.example.com/v1",
        ],
        "host grant \"https://api.example.com/v1\" is not a pattern: it may name only a host \
         and a port",
    );
}

#[test]
fn a_broken_weft_yaml_is_named() {
    let home = Home::new();
    std::fs::write(home.dir.join("weft.yaml"), "executr: parallel\n").unwrap();
    let out = home.weft(["runs", "list"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("weft.yaml is not valid") && out.stderr.contains("executr"),
        "{}",
        out.stderr
    );
}
