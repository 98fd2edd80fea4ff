//! What a code location may use. A location starts with nothing: [`Grants`] names each
//! thing it is given (directories, environment variables, hosts, resources, Kubernetes
//! Jobs), the same whether it comes from weft.yaml, the HTTP API or the command line, and
//! [`Limits`] bound each call. [`Grants::resolve`] turns both into the [`Sandbox`] the wasm
//! host enforces: environment values read, directories checked, host patterns parsed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::defs::Value;
use crate::hosts::{HostPattern, HostPatternError};

/// What a location is granted beyond the nothing it gets by default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    /// Host directories the location sees (preopens).
    #[serde(default)]
    pub dirs: Vec<DirGrant>,
    /// Environment variables passed by name from the host's own environment.
    #[serde(default)]
    pub env: Vec<String>,
    /// Hosts the location may reach over the network.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Environment variables set to these values for the location.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Resources its ops read by name (`resources.get`), as JSON.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resources: BTreeMap<String, serde_json::Value>,
    /// Whether its ops may start Kubernetes Jobs (`k8s-jobs.execute`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub k8s_jobs: bool,
}

/// One granted directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirGrant {
    /// The directory on the host.
    pub host: PathBuf,
    /// Where the location sees it, e.g. `/data`.
    pub guest: String,
    #[serde(default)]
    pub read_only: bool,
}

impl std::str::FromStr for DirGrant {
    type Err = String;

    /// `HOST=GUEST[:ro]` (or just `HOST`, seen at the same path; `:rw` is the default).
    fn from_str(text: &str) -> Result<Self, String> {
        let (spec, read_only) = match text.strip_suffix(":ro") {
            Some(rest) => (rest, true),
            None => (text.strip_suffix(":rw").unwrap_or(text), false),
        };
        let (host, guest) = spec.split_once('=').unwrap_or((spec, spec));
        if host.is_empty() || guest.is_empty() {
            return Err(format!("expected HOST=GUEST[:ro], got {text:?}"));
        }
        Ok(DirGrant {
            host: PathBuf::from(host),
            guest: guest.to_owned(),
            read_only,
        })
    }
}

/// How much one call of a location may take.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    /// Memory of one call's store, in MiB (default 256).
    pub memory_mb: Option<usize>,
    /// A step's deadline, in seconds (default 60).
    pub timeout_seconds: Option<f64>,
    /// The deadline of a sensor's or schedule's evaluation and of `definitions.get` at
    /// upload, in seconds (default 60).
    pub evaluation_timeout_seconds: Option<f64>,
    /// Bytes of one log line, message and fields, in KiB (default 64).
    pub log_line_kb: Option<usize>,
    /// Log lines of one step (default 10,000).
    pub log_lines: Option<usize>,
    /// Bytes of all the log lines of one step, in MiB (default 16).
    pub log_mb: Option<usize>,
    /// Bytes of a step's outputs, in MiB (default 64).
    pub output_mb: Option<usize>,
    /// HTTP requests and TCP connections of one step (default 1,000).
    pub network_requests: Option<usize>,
    /// Bytes one step sends and receives over the network, bodies, in MiB (default 256).
    pub network_mb: Option<usize>,
}

impl Limits {
    /// These limits, each unset one taken from `defaults`.
    pub fn or(self, defaults: Limits) -> Limits {
        Limits {
            memory_mb: self.memory_mb.or(defaults.memory_mb),
            timeout_seconds: self.timeout_seconds.or(defaults.timeout_seconds),
            evaluation_timeout_seconds: self
                .evaluation_timeout_seconds
                .or(defaults.evaluation_timeout_seconds),
            log_line_kb: self.log_line_kb.or(defaults.log_line_kb),
            log_lines: self.log_lines.or(defaults.log_lines),
            log_mb: self.log_mb.or(defaults.log_mb),
            output_mb: self.output_mb.or(defaults.output_mb),
            network_requests: self.network_requests.or(defaults.network_requests),
            network_mb: self.network_mb.or(defaults.network_mb),
        }
    }
}

/// What one call may push through the host besides its memory and time: each bounded, so
/// a flood costs its own step and never the host's memory. Past a log budget, lines are
/// cut or dropped and the step is told in a log line; past the output budget, the step
/// fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budgets {
    /// Bytes of one log line, its message and fields together (64 KiB).
    pub log_line_bytes: usize,
    /// Log lines of one call: the events a step can make (10,000).
    pub log_lines: usize,
    /// Bytes of all of a call's log lines (16 MiB).
    pub log_bytes: usize,
    /// Bytes of a step's outputs, all together (64 MiB).
    pub output_bytes: usize,
    /// HTTP requests and TCP connections of one call (1,000).
    pub network_requests: usize,
    /// Bytes of request and response bodies one call sends and receives (256 MiB).
    pub network_bytes: usize,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            log_line_bytes: 64 << 10,
            log_lines: 10_000,
            log_bytes: 16 << 20,
            output_bytes: 64 << 20,
            network_requests: 1_000,
            network_bytes: 256 << 20,
        }
    }
}

/// What a location may use, resolved: what the wasm host enforces on every call. The
/// default grants nothing, and allows 256 MiB of memory and 60 s per step.
#[derive(Clone, Debug, PartialEq)]
pub struct Sandbox {
    pub dirs: Vec<DirGrant>,
    /// Environment variables handed to the guest, by name and value.
    pub env: Vec<(String, String)>,
    /// Resources (`resources.get`), by name.
    pub resources: Vec<(String, Value)>,
    pub memory_limit_bytes: usize,
    /// A step's deadline.
    pub timeout: Duration,
    /// The deadline of every other call: a sensor's or schedule's evaluation, the
    /// definitions at upload.
    pub evaluation_timeout: Duration,
    /// How many bytes of stdout and of stderr are kept per call; the rest is dropped.
    pub output_limit_bytes: usize,
    /// Whether its steps may start Kubernetes Jobs (the `k8s-jobs` import).
    pub k8s_jobs: bool,
    /// The network endpoints it may reach (the `hosts` grant, parsed).
    pub hosts: Vec<HostPattern>,
    /// What a call may push through the host.
    pub budgets: Budgets,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox {
            dirs: Vec::new(),
            env: Vec::new(),
            resources: Vec::new(),
            memory_limit_bytes: 256 << 20,
            timeout: Duration::from_secs(60),
            evaluation_timeout: Duration::from_secs(60),
            output_limit_bytes: 1 << 20,
            k8s_jobs: false,
            hosts: Vec::new(),
            budgets: Budgets::default(),
        }
    }
}

/// Why grants cannot make a sandbox.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GrantError {
    #[error("granted directory {} does not exist (location {location})", dir.display())]
    MissingDir { location: String, dir: PathBuf },
    #[error(
        "granted directory {} covers the instance's home {} (location {location}): its \
         database, caches, stored values and logs are never granted",
        dir.display(),
        home.display()
    )]
    CoversHome {
        location: String,
        dir: PathBuf,
        home: PathBuf,
    },
    #[error("environment variable {var} is granted to location {location} but not set")]
    UnsetEnv { location: String, var: String },
    #[error("a timeout must be a positive number of seconds, got {0}")]
    Timeout(f64),
    #[error("{0} must be a positive number")]
    Budget(&'static str),
    #[error("location {location}: {error}")]
    Host {
        location: String,
        error: HostPatternError,
    },
}

/// What is shown in place of a granted environment value: the values are write-only.
pub const MASK: &str = "***";

impl Grants {
    /// The grants as they may be shown (API answers, the UI, `weft check`, the grant
    /// history): each environment value is [`MASK`], never itself.
    pub fn masked(&self) -> Grants {
        let mut shown = self.clone();
        for value in shown.environment.values_mut() {
            *value = MASK.to_owned();
        }
        shown
    }

    /// These grants with each environment value given as [`MASK`] taken from `stored`: a
    /// client sending back the grants it was shown keeps the values it never saw. The
    /// error names a masked variable `stored` has no value for.
    pub fn unmasked(mut self, stored: &Grants) -> Result<Grants, String> {
        for (name, value) in &mut self.environment {
            if value == MASK {
                match stored.environment.get(name) {
                    Some(kept) => value.clone_from(kept),
                    None => {
                        return Err(format!(
                            "environment variable {name} is given as {MASK}, which keeps a                              value already granted, and it has none: give its value"
                        ));
                    }
                }
            }
        }
        Ok(self)
    }

    /// Adds what `other` grants to these grants (a grant given twice is kept once).
    pub fn merge(&mut self, other: &Grants) {
        for dir in &other.dirs {
            if !self.dirs.contains(dir) {
                self.dirs.push(dir.clone());
            }
        }
        for (mine, theirs) in [(&mut self.env, &other.env), (&mut self.hosts, &other.hosts)] {
            for item in theirs {
                if !mine.contains(item) {
                    mine.push(item.clone());
                }
            }
        }
        self.environment.extend(other.environment.clone());
        self.resources.extend(other.resources.clone());
        self.k8s_jobs |= other.k8s_jobs;
    }

    /// The sandbox of location `location` under these grants and `limits`: each variable
    /// granted by name read with `env`, each directory checked with `is_dir`.
    pub fn resolve(
        &self,
        location: &str,
        limits: Limits,
        env: impl Fn(&str) -> Option<String>,
        is_dir: impl Fn(&std::path::Path) -> bool,
    ) -> Result<Sandbox, GrantError> {
        let mut sandbox = Sandbox::default();
        if let Some(mb) = limits.memory_mb {
            sandbox.memory_limit_bytes = mb << 20;
        }
        for (secs, slot) in [
            (limits.timeout_seconds, &mut sandbox.timeout),
            (
                limits.evaluation_timeout_seconds,
                &mut sandbox.evaluation_timeout,
            ),
        ] {
            if let Some(secs) = secs {
                if !(secs > 0.0 && secs.is_finite()) {
                    return Err(GrantError::Timeout(secs));
                }
                *slot = Duration::from_secs_f64(secs);
            }
        }
        let budgets = &mut sandbox.budgets;
        for (value, name, slot, scale) in [
            (
                limits.log_line_kb,
                "log_line_kb",
                &mut budgets.log_line_bytes,
                10,
            ),
            (limits.log_lines, "log_lines", &mut budgets.log_lines, 0),
            (limits.log_mb, "log_mb", &mut budgets.log_bytes, 20),
            (limits.output_mb, "output_mb", &mut budgets.output_bytes, 20),
            (
                limits.network_requests,
                "network_requests",
                &mut budgets.network_requests,
                0,
            ),
            (
                limits.network_mb,
                "network_mb",
                &mut budgets.network_bytes,
                20,
            ),
        ] {
            match value {
                Some(0) => return Err(GrantError::Budget(name)),
                Some(n) => *slot = n.saturating_mul(1 << scale),
                None => {}
            }
        }
        for dir in &self.dirs {
            if !is_dir(&dir.host) {
                return Err(GrantError::MissingDir {
                    location: location.to_owned(),
                    dir: dir.host.clone(),
                });
            }
        }
        sandbox.dirs = self.dirs.clone();
        for var in &self.env {
            let value = env(var).ok_or_else(|| GrantError::UnsetEnv {
                location: location.to_owned(),
                var: var.clone(),
            })?;
            sandbox.env.push((var.clone(), value));
        }
        sandbox.env.extend(self.environment.clone());
        sandbox.resources = self
            .resources
            .iter()
            .map(|(key, value)| (key.clone(), Value::json(value.to_string())))
            .collect();
        sandbox.k8s_jobs = self.k8s_jobs;
        sandbox.hosts = self
            .hosts
            .iter()
            .map(|pattern| HostPattern::parse(pattern))
            .collect::<Result<_, _>>()
            .map_err(|error| GrantError::Host {
                location: location.to_owned(),
                error,
            })?;
        Ok(sandbox)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn environment_values_are_shown_masked_and_a_mask_sent_back_keeps_the_value() {
        let stored = Grants {
            env: vec!["HOME".into()],
            environment: [("DB_PASSWORD".to_owned(), "hunter2".to_owned())].into(),
            ..Grants::default()
        };
        let shown = stored.masked();
        assert_eq!(shown.environment["DB_PASSWORD"], MASK);
        assert_eq!(shown.env, stored.env);
        assert!(!serde_json::to_string(&shown).unwrap().contains("hunter2"));

        let mut sent = shown.clone();
        sent.environment.insert("REGION".into(), "eu".into());
        let kept = sent.unmasked(&stored).unwrap();
        assert_eq!(kept.environment["DB_PASSWORD"], "hunter2");
        assert_eq!(kept.environment["REGION"], "eu");

        let error = shown.unmasked(&Grants::default()).unwrap_err();
        assert!(error.contains("DB_PASSWORD"), "{error}");
    }

    use super::*;

    #[test]
    fn dir_grants_parse() {
        let g: DirGrant = "/srv/in=/data:ro".parse().unwrap();
        assert_eq!(
            (g.host.to_str(), g.guest.as_str(), g.read_only),
            (Some("/srv/in"), "/data", true)
        );
        let g: DirGrant = "/tmp".parse().unwrap();
        assert_eq!((g.guest.as_str(), g.read_only), ("/tmp", false));
        assert!("=/x".parse::<DirGrant>().is_err());
    }

    #[test]
    fn grants_merge_once_and_resolve_with_their_limits() {
        let mut grants = Grants {
            env: vec!["A".into()],
            ..Grants::default()
        };
        grants.merge(&Grants {
            env: vec!["A".into(), "B".into()],
            environment: BTreeMap::from([("C".into(), "3".into())]),
            resources: BTreeMap::from([("r".into(), serde_json::json!({"x": 1}))]),
            k8s_jobs: true,
            ..Grants::default()
        });
        assert_eq!(grants.env, ["A", "B"]);
        let env = |name: &str| (name != "B").then(|| format!("{name}!"));
        let unset = grants.resolve("l", Limits::default(), env, |_| true);
        assert_eq!(
            unset.unwrap_err().to_string(),
            "environment variable B is granted to location l but not set"
        );
        let limits = Limits {
            memory_mb: Some(8),
            timeout_seconds: Some(0.5),
            evaluation_timeout_seconds: Some(2.0),
            log_lines: Some(5),
            output_mb: Some(2),
            ..Limits::default()
        };
        let sandbox = grants
            .resolve("l", limits, |n| Some(n.to_lowercase()), |_| true)
            .unwrap();
        assert_eq!(
            sandbox.env,
            [
                ("A".into(), "a".into()),
                ("B".into(), "b".into()),
                ("C".into(), "3".into())
            ]
        );
        assert_eq!(sandbox.memory_limit_bytes, 8 << 20);
        assert_eq!(sandbox.timeout, Duration::from_millis(500));
        assert_eq!(sandbox.evaluation_timeout, Duration::from_secs(2));
        let budgets = Budgets {
            log_lines: 5,
            output_bytes: 2 << 20,
            ..Budgets::default()
        };
        assert_eq!(sandbox.budgets, budgets);
        let none = Limits {
            log_mb: Some(0),
            ..Limits::default()
        };
        let refused = grants.resolve("l", none, |_| Some(String::new()), |_| true);
        assert_eq!(
            refused.unwrap_err().to_string(),
            "log_mb must be a positive number"
        );
        assert_eq!(sandbox.resources[0].1, Value::json(r#"{"x":1}"#));
        assert!(sandbox.k8s_jobs);
        let bad = Limits {
            timeout_seconds: Some(-1.0),
            ..Limits::default()
        };
        assert!(grants.resolve("l", bad, |_| None, |_| true).is_err());
    }

    #[test]
    fn the_api_sees_the_grants_it_always_saw() {
        let json = serde_json::to_value(Grants::default()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"dirs": [], "env": [], "hosts": [], "environment": {}})
        );
        let typo = serde_json::from_str::<Grants>(r#"{"dir": []}"#).unwrap_err();
        assert!(typo.to_string().contains("unknown field `dir`"), "{typo}");
    }
}
