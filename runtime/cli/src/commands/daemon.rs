//! `weft daemon`: schedules, sensors and the run policies of `weft_server::daemon`, a pass
//! every `--interval` until stopped, or one pass (`--once`, at `--now`) whose ticks are
//! printed.

use std::sync::Arc;
use std::time::Duration;

use weft_server::daemon::{Daemon, describe};
use weft_server::{Instance, Services};

use crate::Failure;

/// `weft daemon`: passes every `interval` seconds until stopped, or one pass (`--once`) at
/// `now` (default: the clock), waiting for the runs it launched.
pub async fn command(
    instance: Instance,
    once: bool,
    now: Option<String>,
    interval: f64,
    json: bool,
) -> Result<(), Failure> {
    let bad = |e: String| Failure::BadInput(anyhow::anyhow!(e));
    if !(interval > 0.0 && interval.is_finite()) {
        return Err(bad(format!(
            "--interval must be a positive number of seconds, got {interval}"
        )));
    }
    let now_ms = match now.as_deref() {
        None => weft_core::now_ms(),
        Some(text) => parse_time(text).map_err(bad)?,
    };
    let services = Services::open(instance).await?;
    let daemon = Daemon::new(&services, Arc::new(services.control()));
    if !once {
        eprintln!("weft daemon: a pass every {interval} s (Ctrl-C to stop)");
        tokio::select! {
            () = daemon.run_forever(Duration::from_secs_f64(interval)) => {}
            () = weft_server::shutdown() => {}
        }
        daemon.release().await;
        return Ok(());
    }
    let pass = daemon
        .pass(now_ms)
        .await
        .map_err(|e| Failure::Failed(Some(anyhow::anyhow!(e.message))))?;
    services.launcher.wait_for_runs().await;
    daemon.release().await;
    if json {
        println!(
            "{}",
            serde_json::json!({ "leader": pass.leader, "ticks": pass.ticks })
        );
    } else if !pass.leader {
        println!("another daemon holds the lease: nothing done");
    } else if pass.ticks.is_empty() {
        println!("nothing due");
    } else {
        for tick in &pass.ticks {
            println!("{}", describe(tick));
        }
    }
    Ok(())
}

/// RFC 3339 or milliseconds since the Unix epoch.
fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| {
            format!(
                "--now {text:?} is neither RFC 3339 (2026-12-01T09:00:00Z) nor milliseconds: {e}"
            )
        })
}
