//! The commands of the `weft` binary, each in its own module; `dispatch` picks one.

mod assets;
mod build;
mod daemon;
#[cfg(feature = "build")]
mod init;
mod inspect;
mod location;
mod processes;
mod run;
mod serve;
mod token;

use anyhow::Context;
use weft_core::grants::{Grants, Limits};
use weft_server::Instance;
use weft_server::launch::Target;
use weft_wasm::{LoadError, WasmLocation};

use crate::{AssetsCommand, Cli, Command, Failure, GrantOpts, RunsCommand};

pub async fn dispatch(cli: Cli) -> Result<(), Failure> {
    let instance = crate::instance::open(cli.home).map_err(Failure::BadInput)?;
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
        #[cfg(feature = "build")]
        Command::Init { dir, lang } => init::init(&instance, &dir, lang),
        #[cfg(not(feature = "build"))]
        Command::Init { .. } => Err(Failure::BadInput(anyhow::anyhow!(
            "this weft was built without the SDKs (the `build` feature; the image runs \
             components and never builds them): run `weft init` with a full weft"
        ))),
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
        Command::Runs {
            command: RunsCommand::Cancel { run_id, json },
        } => inspect::cancel_run(instance, &run_id, json).await,
        Command::Assets {
            command: AssetsCommand::Checks { key, limit, json },
        } => assets::checks(&instance, &key, limit, json).await,
        Command::Logs { run_id, step, json } => inspect::logs(&instance, &run_id, step, json).await,
        Command::Serve { opts } => serve::serve(instance, opts).await,
        Command::Token { role } => token::token(&role),
        Command::Dev { files, hosts, opts } => serve::dev(instance, files, hosts, opts).await,
        Command::Daemon {
            once,
            now,
            interval,
            json,
        } => daemon::command(instance, once, now, interval, json).await,
        Command::Location { command, server } => location::run(command, server).await,
        Command::ExecuteRun { run_id } => processes::execute(instance, run_id).await,
        Command::Step {
            run_id,
            step_key,
            attempt,
            answer,
        } => processes::step(instance, run_id, step_key, attempt, answer).await,
        Command::Worker { slots, name } => processes::worker(instance, slots, name).await,
    }
}

pub use weft_server::off_runtime;

impl GrantOpts {
    /// What the flags grant, and the limits they set.
    fn grants(self) -> (Grants, Limits) {
        let grants = Grants {
            dirs: self.dirs,
            env: self.env,
            hosts: self.hosts,
            ..Grants::default()
        };
        let limits = Limits {
            memory_mb: self.memory_mb,
            timeout_seconds: self.timeout,
            evaluation_timeout_seconds: None,
            log_line_kb: self.log_line_kb,
            log_lines: self.log_lines,
            log_mb: self.log_mb,
            output_mb: self.output_mb,
            network_requests: self.network_requests,
            network_mb: self.network_mb,
        };
        (grants, limits)
    }
}

/// A location's default name: its file's stem, with `-` as `_`.
pub fn location_name(file: &std::path::Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().replace('-', "_"))
        .unwrap_or_else(|| "location".into())
}

/// Reads and loads a component as a code location; returns it with the file's bytes. A file that is not a valid location
/// is bad input; a cache or engine failure is the instance's.
pub fn load_location(
    instance: &Instance,
    file: &std::path::Path,
    name: Option<String>,
    grants: GrantOpts,
) -> Result<(WasmLocation, Vec<u8>), Failure> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("cannot read {}", file.display()))
        .map_err(Failure::BadInput)?;
    let name = name.unwrap_or_else(|| location_name(file));
    let (grants, limits) = grants.grants();
    let sandbox = instance
        .sandbox(&name, &grants, limits)
        .map_err(|e| Failure::BadInput(e.into()))?;
    let host = instance
        .wasm_host(weft_wasm::Allocation::Pooled)
        .map_err(|e| match e.is_bad_input() {
            true => Failure::BadInput(e.into()),
            false => Failure::Failed(Some(e.into())),
        })?;
    if tokio::runtime::Handle::try_current().is_ok() {
        host.set_external_jobs(weft_server::services::external_jobs(instance));
    }
    let location = host.load(&name, &bytes, sandbox).map_err(|e| {
        let context = format!("{}", file.display());
        match e {
            LoadError::Cache { .. } | LoadError::Engine(_) | LoadError::Tls(_) => {
                Failure::Failed(Some(anyhow::Error::new(e).context(context)))
            }
            _ => Failure::BadInput(anyhow::Error::new(e).context(context)),
        }
    })?;
    Ok((location, bytes))
}

pub use weft_server::save_unwritten;
