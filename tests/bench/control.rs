//! The control plane's latencies, through a real `weft serve` on loopback (SQLite):
//! upload → runnable for the numbers component (the upload answers once the version is
//! validated, precompiled, stored and current: the next launch uses it), for a version the
//! server never saw (compiled) and for one whose precompiled form is cached; and launch →
//! run succeeded for process_numbers, polling the run as a client would, with the run on a
//! thread of the server (the default launcher) and in a `weft execute-run` process of its
//! own (`run_launcher: {type: process}`).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use weft_tests::{Home, Server, weft_bin, with_custom_section};

use crate::{median, ms};

/// Medians, in milliseconds.
pub struct ControlTimes {
    /// Upload of a never-seen version until it is current.
    pub upload_new: f64,
    /// Upload of a version whose precompiled form is cached.
    pub upload_cached: f64,
    /// Launch of process_numbers until the API reports SUCCESS.
    pub launch_to_success: f64,
    /// The same with the process launcher: a `weft execute-run` process per run.
    pub launch_to_success_process: f64,
    /// One step in a fresh process (`weft step RUN generate_numbers`: open the instance,
    /// read the run, load its version from the database and the precompile cache, run the
    /// op, print the attempt), what each step costs under the multiprocess executor.
    pub step_process: f64,
    /// The same with another build of `weft` (`--image-binary`: the image's static binary).
    pub step_process_image: Option<f64>,
}

impl ControlTimes {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "upload_new_version_ms": self.upload_new,
            "upload_cached_version_ms": self.upload_cached,
            "launch_to_success_ms": self.launch_to_success,
            "launch_to_success_process_launcher_ms": self.launch_to_success_process,
            "step_in_fresh_process_ms": self.step_process,
            "step_in_fresh_process_image_binary_ms": self.step_process_image,
        })
    }
}

/// Times `runs` uploads of each kind and `runs` launches; the step in a fresh process also
/// with `image` when given.
pub fn control_times(
    wasm: &Path,
    runs: usize,
    image: Option<&Path>,
) -> Result<ControlTimes, String> {
    let bytes = std::fs::read(wasm).map_err(|e| format!("reading {}: {e}", wasm.display()))?;
    let home = Home::new();
    let server = Server::start(&home, &[]);
    server.upload("numbers", &bytes);

    let mut upload_new = Vec::with_capacity(runs);
    let mut upload_cached = Vec::with_capacity(runs);
    for i in 0..runs {
        let version = with_custom_section(&bytes, &format!("bench-{i}"));
        let clock = Instant::now();
        server.upload("numbers", &version);
        upload_new.push(ms(clock.elapsed()));
        // Back to the first version: known to the precompile cache.
        let clock = Instant::now();
        server.upload("numbers", &bytes);
        upload_cached.push(ms(clock.elapsed()));
    }

    let launch_to_success = launches(&server, runs)?;
    drop(server);

    // The same home, now launching each run in a process of its own.
    home.add_config("run_launcher: { type: process }\n");
    let server = Server::start(&home, &[]);
    let launch_to_success_process = launches(&server, runs)?;

    let run_id = server.launch(json!({ "location": "numbers", "job": "process_numbers" }));
    server.wait(&run_id);
    let step_in = |binary: &Path| -> Result<f64, String> {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let clock = Instant::now();
            let out = home.run_binary(binary, ["step", run_id.as_str(), "generate_numbers"]);
            times.push(ms(clock.elapsed()));
            if out.code != 0 || !out.stdout.contains("\"Ok\"") {
                return Err(format!(
                    "{} step: {}{}",
                    binary.display(),
                    out.stdout,
                    out.stderr
                ));
            }
        }
        Ok(median(times))
    };
    let step_process = step_in(&weft_bin())?;
    let step_process_image = image.map(step_in).transpose()?;
    Ok(ControlTimes {
        step_process,
        step_process_image,
        upload_new: median(upload_new),
        upload_cached: median(upload_cached),
        launch_to_success,
        launch_to_success_process,
    })
}

/// The median of `runs` launches of process_numbers until the API says SUCCESS, after one
/// warm-up run.
fn launches(server: &Server, runs: usize) -> Result<f64, String> {
    let launch = json!({ "location": "numbers", "job": "process_numbers" });
    let first = server.launch(launch.clone());
    server.wait(&first);
    let mut launch_to_success = Vec::with_capacity(runs);
    for _ in 0..runs {
        let clock = Instant::now();
        let run_id = server.launch(launch.clone());
        loop {
            let run = server.get(&format!("/runs/{run_id}"));
            match run["status"].as_str() {
                Some("SUCCESS") => break,
                Some("FAILURE" | "CANCELED") => {
                    return Err(format!("process_numbers did not succeed: {run}"));
                }
                _ => std::thread::sleep(Duration::from_micros(200)),
            }
        }
        launch_to_success.push(ms(clock.elapsed()));
    }
    Ok(median(launch_to_success))
}
