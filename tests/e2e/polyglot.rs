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
