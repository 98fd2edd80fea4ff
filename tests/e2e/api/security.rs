//! The control plane as an attacker meets it: a server without a token says so when it
//! starts; a granted environment value is write-only (never in an answer, kept when sent
//! back as shown); no directory grant covers the instance's home; removing a location
//! clears its grants, so that a new upload under the name inherits nothing. (Tokens and their roles: `with_tokens_...` in `mod.rs`.)

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use serde_json::{Value, json};
use weft_tests::{Backend, Home, Server, output_of};

use crate::conformance_errors::location;

weft_tests::on_both_databases!(
    granted_environment_values_are_write_only_and_removal_clears_grants,
    another_sites_page_cannot_drive_the_api_through_a_browser,
);

fn put_grants(server: &Server, grants: Value) -> (u16, Value) {
    server.call(
        "PUT",
        "/locations/conformance/grants",
        Some((grants.to_string().into_bytes(), "application/json")),
    )
}

/// The output of a run of `instance_job`: `"<WEFT_INSTANCE_VAR> <a random number>"`.
fn instance_var(server: &Server) -> String {
    let run_id = server.launch(json!({ "location": "conformance", "job": "instance_job" }));
    let run = server.wait(&run_id);
    assert_eq!(run["status"], "SUCCESS", "{run}");
    let output = output_of(&server.events(&run_id), "instance");
    let text = output.as_str().unwrap_or_default().to_owned();
    text.split(' ').next().unwrap_or_default().to_owned()
}

fn granted_environment_values_are_write_only_and_removal_clears_grants(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    // Without a token it says, when it starts, that its API is open.
    let warning = server.wait_for_stderr("the API has no token");
    assert!(
        warning.contains("may read and change everything"),
        "{warning}"
    );
    let component = std::fs::read(location("rust")).unwrap();
    server.upload("conformance", &component);

    let secret = "hunter2";
    let (status, answer) = put_grants(
        &server,
        json!({ "environment": { "WEFT_INSTANCE_VAR": secret } }),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["environment"]["WEFT_INSTANCE_VAR"], "***");
    // No answer shows the value; the guest gets it.
    for path in [
        "/locations/conformance/grants",
        "/locations/conformance",
        "/locations",
    ] {
        let (status, body) = server.call("GET", path, None);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(!body.to_string().contains(secret), "{path}: {body}");
    }
    assert_eq!(
        server.get("/locations/conformance/grants")["environment"],
        json!({ "WEFT_INSTANCE_VAR": "***" })
    );
    assert_eq!(instance_var(&server), secret);

    // The grants sent back as shown keep the value; a mask with no value behind it is
    // refused, naming the variable.
    let (status, answer) = put_grants(
        &server,
        json!({ "env": [], "environment": { "WEFT_INSTANCE_VAR": "***" } }),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(instance_var(&server), secret);
    let (status, answer) = put_grants(&server, json!({ "environment": { "OTHER": "***" } }));
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("OTHER"),
        "{answer}"
    );
    assert_eq!(
        instance_var(&server),
        secret,
        "a refused change changes nothing"
    );

    // No directory grant reaches the instance's own files (its home, or any directory
    // above it), whoever asks.
    for dir in [home.dir.0.display().to_string(), "/".to_owned()] {
        let grants = json!({ "dirs": [{ "host": dir, "guest": "/data" }] });
        let (status, answer) = put_grants(&server, grants);
        assert_eq!(status, 422, "{dir}: {answer}");
        let said = answer["error"].as_str().unwrap_or_default();
        assert!(said.contains("covers the instance's home"), "{said}");
    }

    // Removed, then uploaded again under the name: nothing is granted.
    let (status, body) = server.call("DELETE", "/locations/conformance", None);
    assert_eq!(status, 204, "{body}");
    server.upload("conformance", &component);
    assert_eq!(
        server.get("/locations/conformance/grants")["environment"],
        json!({})
    );
    assert_eq!(instance_var(&server), "");
}

fn another_sites_page_cannot_drive_the_api_through_a_browser(backend: Backend) {
    let Some(home) = Home::on(backend) else {
        return;
    };
    let server = Server::start(&home, &[]);
    let port = server.url.rsplit(':').next().unwrap().to_owned();
    let launch = json!({ "location": "numbers", "job": "process_numbers" }).to_string();
    let call =
        |method: &str, path: &str, body: Option<(Vec<u8>, &str)>, headers: &[(&str, &str)]| {
            server.call_with(None, method, path, body, headers)
        };
    let json_body = || Some((launch.clone().into_bytes(), "application/json"));

    // DNS rebinding: a hostile name resolved to this address is not this server's name.
    let evil = format!("evil.example:{port}");
    let (status, answer) = call("GET", "/locations", None, &[("host", &evil)]);
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("evil.example"),
        "{answer}"
    );
    let localhost = format!("localhost:{port}");
    assert_eq!(
        call("GET", "/locations", None, &[("host", &localhost)]).0,
        200
    );

    // A change from another site's page: its Origin, or the browser's Sec-Fetch-Site.
    for headers in [
        [("origin", "http://evil.example")],
        [("sec-fetch-site", "cross-site")],
    ] {
        let (status, answer) = call("POST", "/runs", json_body(), &headers);
        assert_eq!(status, 403, "{headers:?}: {answer}");
    }
    // A form's content types, which a cross-site form posts without asking.
    let form = |content_type: &'static str| Some((launch.clone().into_bytes(), content_type));
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let (status, answer) = call("POST", "/runs", form(content_type), &[]);
        assert_eq!(status, 415, "{content_type}: {answer}");
    }
    let upload = Some((
        b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\0asm\r\n--x--\r\n".to_vec(),
        "multipart/form-data; boundary=x",
    ));
    assert_eq!(call("POST", "/locations/numbers", upload, &[]).0, 415);
    assert_eq!(server.get("/locations"), json!([]), "nothing was changed");

    // Its own page (same origin) and clients that are not browsers change as before.
    let own = server.url.clone();
    let (status, answer) = call(
        "POST",
        "/locations/numbers",
        Some((weft_tests::rust_guest_bytes("numbers"), "application/wasm")),
        &[("origin", &own), ("sec-fetch-site", "same-origin")],
    );
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = call("POST", "/runs", json_body(), &[]);
    assert_eq!(status, 201, "{answer}");
}
