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

/// `weft build PROJECT -o OUT`.
fn build(home: &Home, project: &weft_tests::TempDir, out: &std::path::Path) -> weft_tests::Outcome {
    home.weft([
        "build".as_ref(),
        project.0.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ])
}

/// A Go project whose `init` is `body`, built in a fresh directory.
fn go_project(name: &str, body: &str) -> weft_tests::TempDir {
    let dir = weft_tests::TempDir::new(name);
    let sdk = weft_tests::repo_root().join("guest-sdk/go");
    std::fs::write(
        dir.join("go.mod"),
        format!(
            "module example.invalid/{name}\n\ngo 1.25\n\nrequire example.invalid/weft/guest-sdk/go v0.0.0\n\n\
             replace example.invalid/weft/guest-sdk/go => {}\n",
            sdk.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("main.go"),
        format!(
            "package main\n\nimport weft \"example.invalid/weft/guest-sdk/go\"\n\n\
             var hello = weft.NewOp0(\"hello\", func(*weft.Context) (string, error) {{ return \"hi\", nil }})\n\n\
             func init() {{\n{body}\n\tweft.Register(weft.Definitions{{Jobs: []*weft.Job{{weft.NewJob(\"hello_job\", func(j *weft.Job) {{ j.Node(hello) }})}}}})\n}}\n\n\
             func main() {{}}\n"
        ),
    )
    .unwrap();
    dir
}

#[test]
fn a_go_build_is_pre_initialized_unless_told_not_to() {
    let home = Home::new();
    let project = go_project("preinit-ok", "");
    for (flags, note) in [(&[][..], true), (&["--no-pre-init"][..], false)] {
        let out = home.dir.join("hello.wasm");
        let mut args = vec!["build".as_ref(), project.0.as_os_str(), "-o".as_ref()];
        args.push(out.as_os_str());
        args.extend(flags.iter().map(std::ffi::OsStr::new));
        let built = home.weft(args);
        assert_eq!(built.code, 0, "{flags:?}: {}", built.stderr);
        assert_eq!(
            built.stdout.contains("pre-initialized"),
            note,
            "{flags:?}: {}",
            built.stdout
        );
        let run = home.weft_json(&["run", out.to_str().unwrap(), "--job", "hello_job"], 0);
        assert_eq!(
            run["steps"]["hello"]["outputs"]["result"], "hi",
            "{flags:?}"
        );
    }
}

#[test]
fn the_same_go_source_pre_initializes_to_the_same_digest() {
    let home = Home::new();
    let project = go_project("preinit-twice", "");
    let digests: Vec<String> = ["first.wasm", "second.wasm"]
        .iter()
        .map(|name| {
            let out = home.dir.join(name);
            let built = build(&home, &project, &out);
            assert_eq!(built.code, 0, "{}", built.stderr);
            let checked = home.weft_json(&["check", out.to_str().unwrap()], 0);
            checked["digest"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert!(!digests[0].is_empty(), "weft check --json gives the digest");
    assert_eq!(digests[0], digests[1], "two builds of one source differ");
}

#[test]
fn a_go_program_that_fails_while_initializing_fails_its_build_with_the_panic() {
    let home = Home::new();
    let project = go_project("preinit-panics", "\tpanic(\"no config file\")");
    let out = home.dir.join("broken.wasm");
    let built = build(&home, &project, &out);
    assert_eq!(built.code, 1, "{}", built.stdout);
    assert!(
        built
            .stderr
            .contains("the Go program failed while it initialized")
            && built.stderr.contains("panic: no config file"),
        "{}",
        built.stderr
    );
    assert!(!out.exists(), "a failed build leaves no component behind");
}
