//! A throwaway Weft instance for one test (its own `WEFT_HOME`, on SQLite or a fresh
//! PostgreSQL database), the `weft` commands run against it, and temporary directories.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::weft_bin;

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory under the system's temp dir.
    pub fn new(label: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("weft-test-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A Weft instance for one test: its own `WEFT_HOME`.
pub struct Home {
    pub dir: TempDir,
}

/// What a `weft` command did.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Stdout parsed as JSON (the `--json` commands print one document).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Default for Home {
    fn default() -> Self {
        Self::new()
    }
}

impl Home {
    /// A new, empty instance.
    pub fn new() -> Self {
        Home {
            dir: TempDir::new("home"),
        }
    }

    /// Runs `weft ARGS` against this instance.
    pub fn weft<I, S>(&self, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.run_binary(&weft_bin(), args)
    }

    /// Runs `weft ARGS` against this instance from the directory `cwd` (outside the
    /// checkout, say) with these environment variables too.
    pub fn weft_in(&self, cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> Outcome {
        let mut cmd = Command::new(weft_bin());
        cmd.args(args)
            .current_dir(cwd)
            .env("WEFT_HOME", &self.dir.0)
            .env_remove("WEFT_LOG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run weft: {e}"));
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `BINARY ARGS` against this instance: another build of `weft` (the image's
    /// static binary, say).
    pub fn run_binary<I, S>(&self, binary: &Path, args: I) -> Outcome
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let out = Command::new(binary)
            .args(args)
            .env("WEFT_HOME", &self.dir.0)
            .env_remove("WEFT_LOG")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// [`Home::build`], unless `out` is a build of `project` from the same sources, SDKs,
    /// `weft` and toolchains (by an earlier run: see `guest_cache.rs`): for the guests that
    /// tests share, not for the tests of `weft build`.
    pub fn build_shared(&self, project: &Path, out: &Path) -> Result<(), String> {
        let key = crate::guest_cache::key(project)?;
        let key_file = crate::guest_cache::key_file(out);
        if out.is_file() && std::fs::read_to_string(&key_file).is_ok_and(|k| k == key) {
            return Ok(());
        }
        let _ = std::fs::remove_file(&key_file);
        self.build(project, out)?;
        std::fs::write(&key_file, key).map_err(|e| format!("writing {}: {e}", key_file.display()))
    }

    /// Builds the guest project `project` into `out` with `weft build`.
    pub fn build(&self, project: &Path, out: &Path) -> Result<(), String> {
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        let done = self.weft([
            "build".as_ref(),
            project.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
        if done.code == 0 {
            Ok(())
        } else {
            Err(format!(
                "weft build {}: {}\n{}",
                project.display(),
                done.stdout,
                done.stderr
            ))
        }
    }

    /// Runs `weft ARGS --json`, asserts the exit code, and returns the JSON.
    pub fn weft_json(&self, args: &[&str], code: i32) -> serde_json::Value {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let out = self.weft(&all);
        assert_eq!(
            out.code, code,
            "weft {args:?}: exit {}\nstdout:\n{}\nstderr:\n{}",
            out.code, out.stdout, out.stderr
        );
        out.json()
    }

    /// The events of a run, from `weft runs show --json`.
    pub fn events(&self, run_id: &str) -> Vec<serde_json::Value> {
        let shown = self.weft_json(&["runs", "show", run_id], 0);
        shown["events"].as_array().cloned().unwrap_or_default()
    }
}
/// Which database a test's instance uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file in the instance's home.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `WEFT_TEST_POSTGRES_URL` (`tests/pg.sh`
    /// starts one).
    Postgres,
}

impl Home {
    /// A new instance whose weft.yaml names its database on `backend`. Without a PostgreSQL
    /// server to use, `None` (the test is skipped, saying so), unless `CI` is set: then the
    /// test fails, since CI must run it.
    pub fn on(backend: Backend) -> Option<Home> {
        let home = Home::new();
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}", home.dir.join("weft.db").display()),
            Backend::Postgres => {
                let var = weft_store::testing::POSTGRES_URL_VARIABLE;
                let base = match std::env::var(var) {
                    Ok(base) if !base.is_empty() => base,
                    _ if std::env::var_os("CI").is_some() => panic!(
                        "{var} is not set, and CI is: the PostgreSQL tests must run \
                         (`source tests/pg.sh` starts a server and sets it)"
                    ),
                    _ => {
                        eprintln!("skipped: {var} is not set");
                        return None;
                    }
                };
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime")
                    .block_on(weft_store::testing::fresh_postgres_database(&base))
                    .unwrap_or_else(|e| panic!("creating a PostgreSQL database: {e}"))
            }
        };
        home.set_database(&url);
        Some(home)
    }

    /// The database URL this instance's weft.yaml names, if any.
    pub fn database_url(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.dir.join("weft.yaml")).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("database_url: "))
            .map(str::to_owned)
    }

    /// Points this instance at the database `url` (weft.yaml's `database_url`), keeping the
    /// rest of its weft.yaml.
    pub fn set_database(&self, url: &str) {
        let path = self.dir.join("weft.yaml");
        let rest: String = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.starts_with("database_url:"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&path, format!("database_url: {url}\n{rest}"))
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// Appends `yaml` to this instance's weft.yaml.
    pub fn add_config(&self, yaml: &str) {
        let path = self.dir.join("weft.yaml");
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(yaml);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
}
