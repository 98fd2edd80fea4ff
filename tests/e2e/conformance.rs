//! One list of scenarios, run against the numbers code location in every guest language
//! (Rust, Go, Python), each built from source with `weft build` in the test run: the same
//! definitions, the same outputs, the same event sequence, the same sensor behaviour.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};
use weft_tests::{Home, TempDir, comparable_definitions, repo_root, rust_guest, wasm_target_dir};

const LANGUAGES: [&str; 3] = ["rust", "go", "python"];

/// The numbers location in `language`, built once per test binary.
fn numbers(language: &str) -> PathBuf {
    if language == "rust" {
        return rust_guest("numbers");
    }
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let out = wasm_target_dir().join("polyglot");
    let built = BUILT.get_or_init(|| {
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        let home = Home::new();
        for lang in ["go", "python"] {
            let project = repo_root().join(format!("examples/numbers-{lang}"));
            let target = out.join(format!("numbers-{lang}.wasm"));
            home.build_shared(&project, &target)?;
        }
        Ok(())
    });
    if let Err(e) = built {
        panic!("{e}");
    }
    out.join(format!("numbers-{language}.wasm"))
}

fn path(language: &str) -> String {
    numbers(language).display().to_string()
}

#[test]
fn every_language_defines_the_same_objects() {
    let home = Home::new();
    let rust =
        comparable_definitions(home.weft_json(&["check", &path("rust")], 0)["definitions"].clone());
    for language in ["go", "python"] {
        let other = comparable_definitions(
            home.weft_json(&["check", &path(language)], 0)["definitions"].clone(),
        );
        for part in [
            "ops",
            "jobs",
            "assets",
            "asset_jobs",
            "schedules",
            "sensors",
        ] {
            assert_eq!(
                other[part], rust[part],
                "{language}: {part} differ from Rust's"
            );
        }
    }
}

/// `(step, output)` of every step of a run.
fn outputs(run: &Value) -> Outputs {
    run["steps"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, s)| (k.clone(), s["outputs"]["result"].clone()))
        .collect()
}

/// Each step's output.
type Outputs = BTreeMap<String, Value>;
/// Each step's event types, in order.
type Sequence = BTreeMap<String, Vec<String>>;

/// `(step, event type)` of a run's events, in order, per step (steps may interleave).
fn sequence(home: &Home, run: &Value) -> Sequence {
    let mut seq = Sequence::new();
    for e in home.events(run["run_id"].as_str().unwrap()) {
        let step = e["step_key"].as_str().unwrap_or("(run)").to_owned();
        seq.entry(step)
            .or_default()
            .push(e["type"].as_str().unwrap_or_default().to_owned());
    }
    seq
}

#[test]
fn every_language_computes_the_same_outputs_with_the_same_events() {
    let home = Home::new();
    let mut seen: Vec<(&str, Outputs, Sequence)> = Vec::new();
    for language in LANGUAGES {
        let run = home.weft_json(&["run", &path(language), "--job", "process_numbers"], 0);
        assert_eq!(
            run["steps"]["sum_two_sums"]["outputs"]["result"],
            json!(55),
            "{language}"
        );
        let wide = home.weft_json(&["run", &path(language), "--job", "wide_job"], 0);
        assert_eq!(
            wide["steps"]["total"]["outputs"]["result"],
            json!(200),
            "{language}"
        );
        seen.push((language, outputs(&run), sequence(&home, &run)));
    }
    let (_, rust_out, rust_seq) = &seen[0];
    for (language, out, seq) in &seen[1..] {
        assert_eq!(out, rust_out, "{language}: outputs differ from Rust's");
        assert_eq!(seq, rust_seq, "{language}: events differ from Rust's");
    }
}

#[test]
fn every_language_materializes_the_same_assets() {
    for language in LANGUAGES {
        // A home of its own: assets are stored by key, shared by every location of a home.
        let home = Home::new();
        let run = home.weft_json(
            &["materialize", &path(language), "--select", "group:numbers"],
            0,
        );
        let out = outputs(&run);
        assert_eq!(out.len(), 6, "{language}");
        assert_eq!(out["summed_two_sums"], json!(55), "{language}");
        assert_eq!(
            out["filtered_odd_numbers"],
            json!([1, 3, 5, 7, 9]),
            "{language}"
        );
        let down = home.weft_json(
            &[
                "materialize",
                &path(language),
                "--select",
                "summed_even_numbers+",
            ],
            0,
        );
        assert_eq!(outputs(&down)["summed_two_sums"], json!(55), "{language}");
    }
}

#[test]
fn every_language_sensor_round_trips_its_run_key() {
    let home = Home::new();
    for language in LANGUAGES {
        let root = TempDir::new("conformance-sensor");
        let grant = format!("{}=/:ro", root.0.display());
        let args = [
            "sensor",
            &path(language),
            "check_file_sensor",
            "--grant-dir",
            &grant,
        ];
        let skip = home.weft_json(&args, 0);
        assert_eq!(skip["skip_reason"], "check file not exists", "{language}");
        std::fs::write(root.join("check"), "").unwrap();
        let fire = home.weft_json(&args, 0);
        assert_eq!(
            fire["run_requests"][0]["run_key"], "check_file_exists",
            "{language}"
        );
    }
}
