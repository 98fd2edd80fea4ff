//! The read-only commands: `weft check` (what a location defines), `weft sensor` (one
//! evaluation), `weft runs list|show` and `weft logs`.

use std::path::Path;

use anyhow::anyhow;
use weft_core::events::{EventKind, RunStatus};
use weft_core::ports::CodeLocation;
use weft_core::run::{RunFilter, RunRecord};
use weft_store::Store;

use crate::{Failure, GrantOpts};
use weft_server::Instance;

pub fn check(instance: &Instance, file: &Path, json: bool) -> Result<(), Failure> {
    let no_grants = GrantOpts::default();
    let (location, bytes) = super::load_location(instance, file, None, no_grants)?;
    let defs = location.definitions();
    if json {
        let out = serde_json::json!({
            "location": location.name(),
            "digest": location.digest(),
            "size": bytes.len(),
            "definitions": defs,
            "grants": grants_json(location.sandbox()),
        });
        println!("{out}");
        return Ok(());
    }
    println!(
        "Code location {} ({} bytes, sha256 {})",
        location.name(),
        bytes.len(),
        location.digest()
    );
    print_grants(location.sandbox());
    println!("ops ({}):", defs.ops.len());
    for op in &defs.ops {
        let inputs: Vec<&str> = op.inputs.iter().map(|i| i.name.as_str()).collect();
        println!(
            "  {}({})  {}",
            op.name,
            inputs.join(", "),
            op.description.as_deref().unwrap_or("")
        );
    }
    println!("jobs ({}):", defs.jobs.len() + defs.asset_jobs.len());
    for job in &defs.jobs {
        println!(
            "  {}  {} nodes  {}",
            job.name,
            job.nodes.len(),
            job.description.as_deref().unwrap_or("")
        );
    }
    for job in &defs.asset_jobs {
        println!("  {}  assets {}", job.name, job.selection);
    }
    println!("assets ({}):", defs.assets.len());
    for asset in &defs.assets {
        let deps: Vec<String> = asset.deps.iter().map(|d| d.key.to_string()).collect();
        println!(
            "  {}  group {}  deps [{}]",
            asset.key,
            asset.group,
            deps.join(", ")
        );
    }
    println!("schedules ({}):", defs.schedules.len());
    for s in &defs.schedules {
        println!("  {}  {}  cron {:?}", s.name, s.job, s.cron);
    }
    println!("sensors ({}):", defs.sensors.len());
    for s in &defs.sensors {
        println!(
            "  {}  {}  every {} s",
            s.name,
            s.job.as_deref().unwrap_or("-"),
            s.minimum_interval_seconds
        );
    }
    if !defs.hooks.is_empty() {
        println!("hooks ({}):", defs.hooks.len());
        for hook in &defs.hooks {
            let on = match hook.on {
                weft_core::defs::HookTrigger::Success => "on success",
                weft_core::defs::HookTrigger::Failure => "on failure",
            };
            println!(
                "  {}  {on}  {}",
                hook.name,
                hook.description.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}

/// What the location is granted (weft.yaml's `locations:`): names only, never values.
fn grants_json(sandbox: &weft_wasm::Sandbox) -> serde_json::Value {
    serde_json::json!({
        "hosts": sandbox.hosts.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "dirs": sandbox.dirs.iter().map(|d| d.guest.clone()).collect::<Vec<_>>(),
        "env": sandbox.env.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>(),
        "k8s_jobs": sandbox.k8s_jobs,
    })
}

/// `grants: hosts https://api.example.com; dirs /data; env TOKEN` (or `nothing`).
fn print_grants(sandbox: &weft_wasm::Sandbox) {
    let mut parts = Vec::new();
    let list = |items: Vec<String>| items.join(", ");
    if !sandbox.hosts.is_empty() {
        parts.push(format!(
            "hosts {}",
            list(sandbox.hosts.iter().map(ToString::to_string).collect())
        ));
    }
    if !sandbox.dirs.is_empty() {
        let dirs = sandbox.dirs.iter().map(|d| {
            format!(
                "{}{}",
                d.guest,
                if d.read_only { " (read-only)" } else { "" }
            )
        });
        parts.push(format!("dirs {}", list(dirs.collect())));
    }
    if !sandbox.env.is_empty() {
        parts.push(format!(
            "env {}",
            list(sandbox.env.iter().map(|(n, _)| n.clone()).collect())
        ));
    }
    if sandbox.k8s_jobs {
        parts.push("Kubernetes Jobs".into());
    }
    let granted = if parts.is_empty() {
        "nothing".to_owned()
    } else {
        parts.join("; ")
    };
    println!("grants: {granted}");
}

pub fn sensor(
    instance: &Instance,
    file: &Path,
    name: &str,
    cursor: Option<String>,
    grants: GrantOpts,
    json: bool,
) -> Result<(), Failure> {
    let (location, _) = super::load_location(instance, file, None, grants)?;
    let sensor = location
        .definitions()
        .sensors
        .iter()
        .find(|s| s.name == name);
    if let Some(sensor) = sensor
        && !sensor.kind.is_standard()
    {
        return Err(Failure::BadInput(anyhow!(
            "{name} is a run-status sensor: the daemon evaluates it when runs of the jobs it \
             watches end (`weft sensor start {name} --server URL`)"
        )));
    }
    if sensor.is_none() {
        let known: Vec<&str> = location
            .definitions()
            .sensors
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        return Err(Failure::BadInput(anyhow!(
            "no sensor named {name:?} (sensors: {})",
            known.join(", ")
        )));
    }
    let tick = location
        .evaluate_sensor(name, cursor, None, None)
        .map_err(|e| Failure::Failed(Some(anyhow!("sensor {name} failed: {e}"))))?;
    if json {
        let requests: Vec<_> = tick
            .run_requests
            .iter()
            .map(|r| serde_json::json!({"run_key": r.run_key, "job": r.job, "config": r.config, "tags": r.tags}))
            .collect();
        let out = serde_json::json!({"run_requests": requests, "skip_reason": tick.skip_reason, "cursor": tick.cursor});
        println!("{out}");
    } else if tick.run_requests.is_empty() {
        println!(
            "skipped: {}",
            tick.skip_reason.as_deref().unwrap_or("(no reason given)")
        );
    } else {
        for r in &tick.run_requests {
            println!(
                "run requested: job {} run_key {}",
                r.job.as_deref().unwrap_or("(sensor's job)"),
                r.run_key.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(())
}

pub(super) async fn open_store(instance: &Instance) -> Result<Store, Failure> {
    if instance.database_url().is_none() && !instance.db_path().exists() {
        return Err(Failure::BadInput(anyhow!(
            "no runs yet: {} does not exist",
            instance.db_path().display()
        )));
    }
    instance
        .open_store()
        .await
        .map_err(|e| Failure::Failed(Some(e.into())))
}

async fn find_run(store: &Store, run_id: &str) -> Result<RunRecord, Failure> {
    match store
        .run(run_id)
        .await
        .map_err(|e| Failure::Failed(Some(anyhow!("{e}"))))?
    {
        Some(run) => Ok(run),
        None => Err(Failure::BadInput(anyhow!("no run with id {run_id}"))),
    }
}

fn duration(run: &RunRecord) -> String {
    match (run.started_ms, run.finished_ms) {
        (Some(s), Some(f)) => format!("{} ms", f - s),
        _ => "-".into(),
    }
}

pub async fn list_runs(
    instance: &Instance,
    status: Option<String>,
    job: Option<String>,
    tag: Option<(String, String)>,
    limit: u32,
    json: bool,
) -> Result<(), Failure> {
    let status = match status {
        Some(s) => Some(RunStatus::parse(&s.to_uppercase()).ok_or_else(|| {
            Failure::BadInput(anyhow!(
                "unknown status {s:?} (QUEUED, STARTED, SUCCESS, FAILURE, CANCELED, ...)"
            ))
        })?),
        None => None,
    };
    let store = open_store(instance).await?;
    let filter = RunFilter {
        status,
        job,
        location: None,
        tag,
        before: None,
        limit: Some(limit),
    };
    let runs = store
        .runs(&filter)
        .await
        .map_err(|e| Failure::Failed(Some(anyhow!("{e}"))))?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&runs).map_err(|e| Failure::Failed(Some(e.into())))?
        );
        return Ok(());
    }
    println!(
        "{:<38} {:<9} {:<24} {:<12} {:>10}",
        "RUN ID", "STATUS", "JOB", "LOCATION", "DURATION"
    );
    for run in &runs {
        println!(
            "{:<38} {:<9} {:<24} {:<12} {:>10}",
            run.run_id,
            run.status,
            run.job,
            run.location,
            duration(run)
        );
    }
    Ok(())
}

pub async fn show_run(instance: &Instance, run_id: &str, json: bool) -> Result<(), Failure> {
    let store = open_store(instance).await?;
    let run = find_run(&store, run_id).await?;
    let events = store
        .events(run_id, 0, u32::MAX)
        .await
        .map_err(|e| Failure::Failed(Some(anyhow!("{e}"))))?;
    if json {
        let events: Vec<_> = events.iter().map(|(_, e)| e).collect();
        println!("{}", serde_json::json!({"run": run, "events": events}));
        return Ok(());
    }
    println!(
        "Run {}  {}  job {}  location {} ({})",
        run.run_id,
        run.status,
        run.job,
        run.location,
        &run.digest[..12.min(run.digest.len())]
    );
    if !run.tags.is_empty() {
        let tags: Vec<String> = run.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("tags: {}", tags.join(", "));
    }
    if run.finished_ms.is_none() {
        println!("{}", liveness(&run, weft_core::now_ms()));
    }
    let start = events.first().map_or(0, |(_, e)| e.timestamp_ms);
    for (_, e) in &events {
        println!(
            "{:>7} ms  {:<24} {:<22} {}",
            e.timestamp_ms - start,
            e.step_key.as_deref().unwrap_or(""),
            e.kind.type_name(),
            e.summary()
        );
        if let Some(cost) = e.kind.cost() {
            println!("{:>37} cost: {}", "", cost.summary());
        }
    }
    Ok(())
}

/// `weft runs cancel RUN_ID`: records the cancel in the database, where the process that
/// executes the run (a server, a run's process or pod) sees it and stops its steps.
pub async fn cancel_run(instance: Instance, run_id: &str, json: bool) -> Result<(), Failure> {
    let services = weft_server::Services::open(instance).await?;
    let status = services.control().cancel(run_id).await?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "run_id": run_id, "status": status })
        );
    } else {
        println!("run {run_id}: {status}");
    }
    Ok(())
}

pub async fn logs(
    instance: &Instance,
    run_id: &str,
    step: Option<String>,
    json: bool,
) -> Result<(), Failure> {
    let store = open_store(instance).await?;
    find_run(&store, run_id).await?;
    let events = store
        .events(run_id, 0, u32::MAX)
        .await
        .map_err(|e| Failure::Failed(Some(anyhow!("{e}"))))?;
    let mut steps: Vec<String> = Vec::new();
    for (_, e) in &events {
        if let Some(key) = &e.step_key
            && !steps.contains(key)
            && step.as_ref().is_none_or(|s| s == key)
        {
            steps.push(key.clone());
        }
    }
    if let Some(s) = &step
        && steps.is_empty()
    {
        return Err(Failure::BadInput(anyhow!("run {run_id} has no step {s:?}")));
    }
    let compute = instance.compute_logs()?;
    let mut out = Vec::new();
    for key in &steps {
        let lines: Vec<_> = events
            .iter()
            .filter(|(_, e)| {
                e.step_key.as_ref() == Some(key) && matches!(e.kind, EventKind::Log { .. })
            })
            .map(|(_, e)| e)
            .collect();
        let (stdout, stderr) = compute
            .load(run_id, key)
            .map_err(|e| Failure::Failed(Some(anyhow!("{e}"))))?;
        out.push((key, lines, stdout, stderr));
    }
    if json {
        let list: Vec<_> = out
            .iter()
            .map(|(key, lines, stdout, stderr)| {
                serde_json::json!({
                    "step": key,
                    "logs": lines,
                    "stdout": String::from_utf8_lossy(stdout),
                    "stderr": String::from_utf8_lossy(stderr),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    for (key, lines, stdout, stderr) in out {
        if lines.is_empty() && stdout.is_empty() && stderr.is_empty() {
            continue;
        }
        println!("== {key}");
        for e in lines {
            println!("  {}", e.summary());
        }
        for (name, bytes) in [("stdout", &stdout), ("stderr", &stderr)] {
            if !bytes.is_empty() {
                println!("  -- {name}");
                for line in String::from_utf8_lossy(bytes).lines() {
                    println!("  {line}");
                }
            }
        }
    }
    Ok(())
}

/// Whether a run under way is alive and making progress: `alive: heartbeat 1 s ago, last
/// progress 12 s ago`.
fn liveness(run: &RunRecord, now_ms: i64) -> String {
    let ago = |at: Option<i64>| match at {
        Some(at) => format!("{} s ago", (now_ms - at).max(0) / 1000),
        None => "never".to_owned(),
    };
    format!(
        "alive: heartbeat {}, last progress {}",
        ago(run.heartbeat_ms),
        ago(run.progress_ms)
    )
}
