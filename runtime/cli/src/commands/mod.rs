//! The commands of the `weft` binary, each in its own module; `dispatch` picks one.

mod build;
mod inspect;
mod location;
mod run;

pub(crate) use run::executor_kind;

use anyhow::Context;
use weft_wasm::{CodeLocation, LoadError, WasmHost};

use crate::instance::{Grants, Instance};
use crate::launch::Target;
use crate::{Cli, Command, Failure, GrantOpts, RunsCommand};

pub async fn dispatch(cli: Cli) -> Result<(), Failure> {
    let instance = Instance::open(cli.home).map_err(Failure::BadInput)?;
    match cli.command {
        Command::Check { file, json } => off_runtime(|| inspect::check(&instance, &file, json)),
        Command::Run { file, job, opts } => {
            run::run(&instance, &[file], Target::Job(job), opts).await
        }
        Command::Materialize {
            files,
            select,
            opts,
        } => run::run(&instance, &files, Target::Assets(select), opts).await,
        Command::Sensor {
            state: Some(command),
            ..
        } => location::instigator("sensors", command).await,
        Command::Sensor {
            file,
            name,
            cursor,
            grants,
            json,
            ..
        } => {
            let (Some(file), Some(name)) = (file, name) else {
                return Err(Failure::BadInput(anyhow::anyhow!(
                    "give the component and the sensor's name: weft sensor FILE NAME"
                )));
            };
            off_runtime(|| inspect::sensor(&instance, &file, &name, cursor, grants, json))
        }
        Command::Schedule { command } => location::instigator("schedules", command).await,
        Command::Build {
            dir,
            out,
            no_pre_init,
        } => build::build(&instance, &dir, out, !no_pre_init),
        Command::Runs {
            command:
                RunsCommand::List {
                    status,
                    job,
                    tag,
                    limit,
                    json,
                },
        } => inspect::list_runs(&instance, status, job, tag, limit, json).await,
        Command::Runs {
            command: RunsCommand::Show { run_id, json },
        } => inspect::show_run(&instance, &run_id, json).await,
        Command::Logs { run_id, step, json } => inspect::logs(&instance, &run_id, step, json).await,
        Command::Serve { opts } => crate::serve::serve(instance, opts).await,
        Command::Dev { files, opts } => crate::serve::dev(instance, files, opts).await,
        Command::Daemon {
            once,
            now,
            interval,
            json,
        } => crate::daemon::command(instance, once, now, interval, json).await,
        Command::Location { command, server } => location::run(command, server).await,
        Command::ExecuteRun { run_id } => {
            crate::serve::execute_run::command(instance, run_id).await
        }
        Command::Step {
            run_id,
            step_key,
            attempt,
            answer,
        } => crate::serve::step_process::command(instance, run_id, step_key, attempt, answer).await,
        Command::Worker { slots, name } => {
            crate::serve::step_queue::worker(instance, slots, name).await
        }
    }
}

/// Runs guest code on a thread of its own, outside the async runtime: wasmtime-wasi's
/// blocking WASI calls (filesystem, clocks) must not run inside an async context.
pub fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    // The thread knows the runtime (to hand to what blocks on it), but is not one of its
    // workers.
    let runtime = tokio::runtime::Handle::try_current().ok();
    let f = move || {
        let _context = runtime.as_ref().map(tokio::runtime::Handle::enter);
        f()
    };
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

impl GrantOpts {
    fn grants(self) -> Grants {
        Grants {
            dirs: self.dirs,
            env: self.env,
            memory_mb: self.memory_mb,
            timeout_seconds: self.timeout,
        }
    }
}

/// Reads and loads a component as a code location; returns it with the file's bytes. A file that is not a valid location
/// is bad input; a cache or engine failure is the instance's.
pub fn load_location(
    instance: &Instance,
    file: &std::path::Path,
    name: Option<String>,
    grants: GrantOpts,
) -> Result<(CodeLocation, Vec<u8>), Failure> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("cannot read {}", file.display()))
        .map_err(Failure::BadInput)?;
    let name = match name {
        Some(n) => n,
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().replace('-', "_"))
            .unwrap_or_else(|| "location".into()),
    };
    let sandbox = instance
        .sandbox(&name, &grants.grants())
        .map_err(Failure::BadInput)?;
    let host = WasmHost::new(instance.cache_dir()).map_err(|e| Failure::Failed(Some(e.into())))?;
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        host.set_external_jobs(crate::external_jobs::KubeJobs::new(instance, runtime));
    }
    let location = host.load(&name, &bytes, sandbox).map_err(|e| {
        let context = format!("{}", file.display());
        match e {
            LoadError::Cache { .. } | LoadError::Engine(_) => {
                Failure::Failed(Some(anyhow::Error::new(e).context(context)))
            }
            _ => Failure::BadInput(anyhow::Error::new(e).context(context)),
        }
    })?;
    Ok((location, bytes))
}

/// Keeps events the database would not take in `dir/<run id>.jsonl`, and says where.
pub fn save_unwritten(dir: &std::path::Path, run_id: &str, events: &[weft_core::Event]) -> String {
    let path = dir.join(format!("{run_id}.jsonl"));
    let text: String = events
        .iter()
        .filter_map(|e| serde_json::to_string(e).ok())
        .map(|l| l + "\n")
        .collect();
    match std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, text)) {
        Ok(()) => format!("{} events saved to {}", events.len(), path.display()),
        Err(e) => format!("and saving them to {} failed too: {e}", path.display()),
    }
}
