//! The contract fits Go and Python: a one-op guest in each, built from source with the
//! project's tooling, runs through the same `weft` binary.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use weft_tests::{Home, polyglot_guest};

#[test]
fn a_go_op_and_a_python_op_run() {
    let home = Home::new();
    for (guest, greeting) in [
        ("hello-go", "hello from go"),
        ("hello-python", "hello from python"),
    ] {
        let path = polyglot_guest(guest);
        let defs = home.weft_json(&["check", path.to_str().unwrap()], 0);
        assert_eq!(defs["definitions"]["ops"][0]["name"], "hello", "{guest}");
        let run = home.weft_json(&["run", path.to_str().unwrap(), "--job", "hello_job"], 0);
        assert_eq!(run["status"], "SUCCESS", "{guest}");
        assert_eq!(
            run["steps"]["hello"]["outputs"]["result"], greeting,
            "{guest}"
        );
    }
}

#[test]
fn weft_build_turns_a_go_project_into_a_location() {
    let home = Home::new();
    let out = home.dir.join("hello.wasm");
    let project = weft_tests::repo_root().join("examples/hello-go");
    let built = home.weft([
        "build".as_ref(),
        project.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(built.code, 0, "{}\n{}", built.stdout, built.stderr);
    let run = home.weft_json(&["run", out.to_str().unwrap(), "--job", "hello_job"], 0);
    assert_eq!(run["steps"]["hello"]["outputs"]["result"], "hello from go");
}

#[test]
fn weft_build_names_what_it_expected() {
    let home = Home::new();
    let wit = weft_tests::repo_root().join("wit");
    let out = home.weft(["build".as_ref(), wit.as_os_str()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("is not a guest project: expected Cargo.toml (Rust), go.mod (Go)"),
        "{}",
        out.stderr
    );
}
