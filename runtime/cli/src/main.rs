//! The `weft` command: check a code location, run a job, materialize assets, and read back
//! runs, events and compute logs. Exit codes: 0 success, 1 the run failed (or the instance
//! could not do its work), 2 bad input (a file, a name, config or a flag).

mod commands;
mod instance;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use weft_core::grants::DirGrant;

/// The image's allocator (the `mimalloc` feature; see Cargo.toml).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Weft: Dagster-style orchestration of WebAssembly code locations.
#[derive(Parser)]
#[command(name = "weft", version, about)]
struct Cli {
    /// The instance directory (database, caches, stored values, compute logs).
    #[arg(long, env = "WEFT_HOME", global = true)]
    home: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a code location and print what it defines.
    Check {
        /// The component (`.wasm`).
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Run a job (or asset job) of a code location.
    Run {
        file: PathBuf,
        /// The job to run.
        #[arg(long)]
        job: String,
        #[command(flatten)]
        opts: RunOpts,
    },
    /// Materialize the assets picked by a selection (`group:numbers`, `a+`, `+b`, `a,b`),
    /// across every location given: an asset may depend on another location's asset.
    Materialize {
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
        #[arg(long)]
        select: String,
        #[command(flatten)]
        opts: RunOpts,
    },
    /// Evaluate a sensor once and print its run requests or skip reason.
    ///
    /// `weft sensor start|stop|list` turn the sensors of a running server on and off.
    #[command(args_conflicts_with_subcommands = true)]
    Sensor {
        #[command(subcommand)]
        state: Option<InstigatorCommand>,
        /// The component (`.wasm`).
        #[arg(required = true)]
        file: Option<PathBuf>,
        /// The sensor's name.
        #[arg(required = true)]
        name: Option<String>,
        /// The cursor the previous evaluation returned.
        #[arg(long)]
        cursor: Option<String>,
        #[command(flatten)]
        grants: GrantOpts,
        #[arg(long)]
        json: bool,
    },
    /// Turn the schedules of a running server on and off, and list them.
    Schedule {
        #[command(subcommand)]
        command: InstigatorCommand,
    },
    /// Write a starter code location (an op and a job) that builds and runs at once.
    Init {
        /// The directory to write it in (created if need be; files already there are kept,
        /// and the command refuses to overwrite one).
        dir: PathBuf,
        /// The guest language.
        #[arg(long, value_enum)]
        lang: InitLanguage,
    },
    /// Build a guest project (Rust, Go or Python) into a code-location component.
    Build {
        /// The project's directory (with Cargo.toml, go.mod, or pyproject.toml / defs.py).
        dir: PathBuf,
        /// Where to write the component (default: `<directory name>.wasm`).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Go: do not pre-initialize (by default Go's runtime and the package initializers
        /// run once here, so each instance starts initialized).
        #[arg(long)]
        no_pre_init: bool,
    },
    /// What an asset's checks found (`weft assets checks KEY`).
    Assets {
        #[command(subcommand)]
        command: AssetsCommand,
    },
    /// List or show runs.
    Runs {
        #[command(subcommand)]
        command: RunsCommand,
    },
    /// Serve the HTTP API and the web UI: upload code locations, launch and watch runs.
    Serve {
        #[command(flatten)]
        opts: ServeOpts,
    },
    /// Run schedules and sensors: launch their runs (in this process), record their ticks.
    Daemon {
        /// One pass, then wait for the runs it launched and exit.
        #[arg(long)]
        once: bool,
        /// The time of the pass (`--once`): RFC 3339 (`2026-12-01T09:00:00Z`) or
        /// milliseconds since the Unix epoch. Default: now.
        #[arg(long, requires = "once")]
        now: Option<String>,
        /// Seconds between passes.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
        /// Print the pass's ticks as JSON (`--once`).
        #[arg(long)]
        json: bool,
    },
    /// Execute one launched run in this process, reading it and its code locations from
    /// the database, and exit with its outcome (what a run's own process does: the
    /// `process` run launcher starts one per run).
    ExecuteRun {
        /// The run's id.
        run_id: String,
    },
    /// Run one attempt of a step of a stored run in this process and print it as JSON
    /// (what a step's own process does under the multiprocess executor).
    Step {
        /// The run's id.
        run_id: String,
        /// The step's key.
        step_key: String,
        /// Which attempt (1 for the first).
        #[arg(long, default_value_t = 1)]
        attempt: u32,
        /// Where the answer goes: printed (the multiprocess executor) or stored in the
        /// database (a step's pod under the k8s-job executor).
        #[arg(long, value_enum, default_value = "stdout")]
        answer: Answer,
    },
    /// Take steps from the queue of the `queue` executor and run them, `--slots` at once,
    /// until stopped (Ctrl-C or SIGTERM: the steps under way finish first). New component
    /// versions are loaded by digest as steps need them; nothing restarts.
    Worker {
        /// Steps at once.
        #[arg(long, default_value_t = 1)]
        slots: u32,
        /// This worker's name in the queue (default: host name and process id).
        #[arg(long)]
        name: Option<String>,
    },
    /// The server, the daemon and the launcher in one process, serving the given components
    /// as code locations and reloading each when its file changes (Dagster's `dagster dev`).
    Dev {
        /// Components (`.wasm`) to serve, each named by its file stem.
        files: Vec<PathBuf>,
        /// Grant every location served a network endpoint, `scheme://host[:port]`
        /// (repeatable; weft.yaml's `locations:` grants each its own).
        #[arg(long = "grant-host", value_parser = parse_host_grant)]
        hosts: Vec<String>,
        #[command(flatten)]
        opts: ServeOpts,
    },
    /// Manage the code locations of a running `weft serve`.
    Location {
        #[command(subcommand)]
        command: LocationCommand,
        #[command(flatten)]
        server: ServerOpts,
    },
    /// Make an API token for weft.yaml's `api_tokens`: prints the token (shown once, for
    /// its user) and the entry to add, which holds only its SHA-256.
    Token {
        /// viewer (reads), editor (also launches, uploads, schedules) or admin (also grants
        /// and removals).
        #[arg(long, default_value = "viewer")]
        role: String,
    },
    /// Print a run's logs: guest log lines and compute logs (stdout/stderr).
    Logs {
        run_id: String,
        /// Only this step.
        #[arg(long)]
        step: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AssetsCommand {
    /// The checks of asset KEY (`a/b`): each with what it last found, and the evaluations,
    /// newest first.
    Checks {
        key: String,
        /// At most this many evaluations.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum RunsCommand {
    /// Runs, newest first.
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        job: Option<String>,
        /// Only runs with this tag (`key=value`).
        #[arg(long, value_parser = parse_tag)]
        tag: Option<(String, String)>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// One run with its events.
    Show {
        run_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Cancel a run (Dagster's terminate): the steps under way are stopped where they
    /// are, wherever the run executes, and the run ends CANCELED.
    Cancel {
        run_id: String,
        #[arg(long)]
        json: bool,
    },
}

/// Options of `weft serve`.
#[derive(clap::Args)]
pub struct ServeOpts {
    /// The address to listen on (`127.0.0.1:0` picks a free port; the bound address is
    /// printed as `listening on http://ADDR`).
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: String,
    /// An admin's token: with it (or `api_tokens` in weft.yaml), every API request but
    /// `/api/health` needs `Authorization: Bearer TOKEN` (see `weft token`).
    #[arg(long, env = "WEFT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The largest component an upload may carry, in MiB.
    #[arg(long, default_value_t = 64)]
    max_upload_mb: usize,
}

/// Which server a client command talks to.
#[derive(clap::Args)]
pub struct ServerOpts {
    /// The server's URL.
    #[arg(
        long,
        env = "WEFT_SERVER",
        default_value = "http://127.0.0.1:3000",
        global = true
    )]
    server: String,
    /// The server's token, if it requires one.
    #[arg(long, env = "WEFT_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// Print the server's answer as JSON.
    #[arg(long, global = true)]
    json: bool,
}

/// `weft schedule ...` and `weft sensor ...` against a server.
#[derive(Subcommand)]
pub enum InstigatorCommand {
    /// Turn it on: the daemon ticks it from now.
    Start {
        name: String,
        /// Its code location (needed when several define the name).
        #[arg(long)]
        location: Option<String>,
        #[command(flatten)]
        server: ServerOpts,
    },
    /// Turn it off.
    Stop {
        name: String,
        #[arg(long)]
        location: Option<String>,
        #[command(flatten)]
        server: ServerOpts,
    },
    /// Every one, with its state and last tick.
    List {
        #[command(flatten)]
        server: ServerOpts,
    },
}

#[derive(Subcommand)]
enum LocationCommand {
    /// Add a new code location from a component (fails if the name is taken).
    Add { name: String, file: PathBuf },
    /// Upload a new version of a code location; it is live at once.
    Upload { name: String, file: PathBuf },
    /// List the code locations with their current versions.
    List,
    /// The versions of a code location, newest first.
    History { name: String },
    /// Make an earlier version current again.
    Rollback { name: String, digest: String },
    /// Remove a code location (its runs and versions stay).
    Remove { name: String },
}

/// Options of `run` and `materialize`.
#[derive(clap::Args)]
struct RunOpts {
    /// Run config as JSON: `{"ops": {"step": {"config": ...}}}`.
    #[arg(long)]
    config: Option<String>,
    /// A run tag, `key=value` (repeatable).
    #[arg(long = "tag", value_parser = parse_tag)]
    tags: Vec<(String, String)>,
    /// The executor; default from weft.yaml, else in-process.
    #[arg(long, value_enum)]
    executor: Option<ExecutorArg>,
    /// Steps at once with the parallel executor (default: the number of cores).
    #[arg(long)]
    max_concurrent: Option<usize>,
    /// The code location's name (default: the file's stem).
    #[arg(long)]
    location: Option<String>,
    #[command(flatten)]
    grants: GrantOpts,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Sandbox grants and limits on the command line (added to weft.yaml's).
#[derive(clap::Args, Clone, Default)]
struct GrantOpts {
    /// Grant a host directory, `HOST=GUEST[:ro]` (repeatable).
    #[arg(long = "grant-dir", value_parser = parse_dir_grant)]
    dirs: Vec<DirGrant>,
    /// Pass an environment variable by name (repeatable).
    #[arg(long = "grant-env")]
    env: Vec<String>,
    /// Grant a network endpoint, `scheme://host[:port]` (`https://api.example.com`,
    /// `tcp://db:5432`, `*://localhost:*`; repeatable).
    #[arg(long = "grant-host", value_parser = parse_host_grant)]
    hosts: Vec<String>,
    /// Memory limit per step, in MiB.
    #[arg(long)]
    memory_mb: Option<usize>,
    /// Deadline per step, in seconds.
    #[arg(long)]
    timeout: Option<f64>,
    /// Bytes of one log line (message and fields), in KiB; longer lines are cut.
    #[arg(long)]
    log_line_kb: Option<usize>,
    /// Log lines per step; more are dropped and counted.
    #[arg(long)]
    log_lines: Option<usize>,
    /// Bytes of all the log lines of a step, in MiB.
    #[arg(long)]
    log_mb: Option<usize>,
    /// Bytes of a step's outputs, in MiB; a step over it fails.
    #[arg(long)]
    output_mb: Option<usize>,
    /// HTTP requests and TCP connections per step; past it they are refused.
    #[arg(long)]
    network_requests: Option<usize>,
    /// Bytes of request and response bodies per step, in MiB; past it the transfer fails.
    #[arg(long)]
    network_mb: Option<usize>,
}

/// The languages `weft init` writes a starter location in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitLanguage {
    Rust,
    Go,
    Python,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExecutorArg {
    InProcess,
    Parallel,
}

/// Where `weft step` puts its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Answer {
    /// Printed as JSON (the multiprocess executor reads it).
    Stdout,
    /// Stored in the database's step tasks (a step's pod, whose stdout is only a log).
    Db,
}

fn parse_dir_grant(text: &str) -> Result<DirGrant, String> {
    text.parse()
}

/// A `--grant-host` pattern, checked as it is given (clap exits 2 naming it).
fn parse_host_grant(text: &str) -> Result<String, String> {
    weft_core::hosts::HostPattern::parse(text)
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

fn parse_tag(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected key=value, got {text:?}")),
    }
}

/// How a command failed, which decides the exit code.
pub enum Failure {
    /// The user's input is wrong: exit 2.
    BadInput(anyhow::Error),
    /// The run failed, or the instance could not do its work: exit 1.
    Failed(Option<anyhow::Error>),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::BadInput(e) | Failure::Failed(Some(e)) => write!(f, "{e:#}"),
            Failure::Failed(None) => f.write_str("failed"),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Failed(Some(e))
    }
}

impl From<weft_server::Error> for Failure {
    /// The asker's fault is bad input (exit 2); the instance's, a failure (exit 1).
    fn from(e: weft_server::Error) -> Self {
        match e.is_bad_input() {
            true => Failure::BadInput(e.into()),
            false => Failure::Failed(Some(e.into())),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("WEFT_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(e)) => {
            if let Some(e) = e {
                eprintln!("error: {e:#}");
            }
            ExitCode::from(1)
        }
    }
}
