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
    home.build(&project, &out).unwrap();
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

#[test]
fn a_python_asset_downstream_of_a_rust_asset() {
    let home = Home::new();
    let lineage = home.dir.join("lineage.wasm");
    let project = weft_tests::repo_root().join("examples/lineage-python");
    home.build(&project, &lineage).unwrap();
    let lineage = lineage.to_str().unwrap();
    let numbers = weft_tests::rust_guest("numbers");
    let numbers = numbers.to_str().unwrap();

    // Alone, before anything upstream exists, the input cannot be read.
    let early = home.weft_json(&["materialize", lineage, "--select", "doubled_sum"], 1);
    let error = early["steps"]["doubled_sum"]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.contains("asset summed_two_sums has no stored value"),
        "{error}"
    );

    // Together: one run across both locations, the Rust steps first.
    let both = home.weft_json(
        &["materialize", numbers, lineage, "--select", "+doubled_sum"],
        0,
    );
    assert_eq!(both["location"], "numbers+lineage");
    assert_eq!(both["steps"].as_object().map(|s| s.len()), Some(7));
    assert_eq!(both["steps"]["doubled_sum"]["outputs"]["result"], 110);
    let digests: Vec<&str> = both["digest"].as_str().unwrap().split('+').collect();
    assert_eq!(digests.len(), 2, "the run is pinned to both versions");

    // Alone again: the upstream value is read through the I/O manager.
    let alone = home.weft_json(&["materialize", lineage, "--select", "doubled_sum"], 0);
    assert_eq!(alone["steps"]["doubled_sum"]["outputs"]["result"], 110);

    // An asset defined twice is refused.
    let twice = home.weft(["materialize", numbers, numbers, "--select", "*"]);
    assert_eq!(twice.code, 2, "{}", twice.stderr);
}
