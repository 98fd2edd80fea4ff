//! I/O managers and the compute-log store: the filesystem ones (the default, under
//! `$WEFT_HOME/storage` and `$WEFT_HOME/logs`) and an in-memory I/O manager for tests and
//! runs whose values need not outlive the process.
//!
//! The filesystem layout is like Dagster's `fs_io_manager`: op outputs at
//! `storage/<run id>/<step key>.<output>`, assets at `storage/assets/<key path>`, each file
//! holding the codec tag on its first line and the value's bytes after it.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use weft_core::defs::{AssetKey, Value};

use weft_core::ports::{ComputeLogStore, IoError, IoManager};

/// Keeps values as files under a base directory.
pub struct FsIoManager {
    base: PathBuf,
    /// Directories known to exist: each is created once, not once per value.
    made: Mutex<HashSet<PathBuf>>,
}

impl FsIoManager {
    /// An I/O manager rooted at `base` (created on first write).
    pub fn new(base: impl Into<PathBuf>) -> Self {
        FsIoManager {
            base: base.into(),
            made: Mutex::default(),
        }
    }

    fn write(&self, path: &Path, value: &Value) -> Result<(), IoError> {
        let err = |e: std::io::Error| IoError(format!("writing {}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            let known = self.made.lock().map(|m| m.contains(dir)).unwrap_or(false);
            if !known {
                fs::create_dir_all(dir).map_err(err)?;
                if let Ok(mut made) = self.made.lock() {
                    made.insert(dir.to_path_buf());
                }
            }
        }
        write_value(path, value).map_err(err)
    }

    fn output_path(&self, run_id: &str, step_key: &str, output: &str) -> Result<PathBuf, IoError> {
        // One directory per run, one file per output: a directory per step would cost a
        // mkdir per step, as much again as the write itself.
        let step = safe_path(step_key)?.to_string_lossy().replace('/', "__");
        Ok(self
            .base
            .join(safe(run_id)?)
            .join(format!("{step}.{}", safe(output)?)))
    }

    fn asset_path(&self, key: &AssetKey) -> Result<PathBuf, IoError> {
        let mut path = self.base.join("assets");
        for part in &key.0 {
            path.push(safe(part)?);
        }
        Ok(path)
    }
}

/// Rejects path components that would leave the base directory.
fn safe(part: &str) -> Result<&str, IoError> {
    if part.is_empty() || part == "." || part == ".." || part.contains(['/', '\\', '\0']) {
        Err(IoError(format!(
            "{part:?} cannot be used as a storage path component"
        )))
    } else {
        Ok(part)
    }
}

/// A step key may contain `/` (asset keys); each part must be safe.
fn safe_path(key: &str) -> Result<PathBuf, IoError> {
    key.split('/').map(safe).collect()
}

/// Writes `value` beside `path`, then renames it into place: a reader never sees half a
/// value, and two writers of one asset never share a temporary file.
fn write_value(path: &Path, value: &Value) -> std::io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".partial-{}-{n}", std::process::id()));
    let mut bytes = Vec::with_capacity(value.codec.len() + 1 + value.data.len());
    bytes.extend_from_slice(value.codec.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(&value.data);
    fs::write(&tmp, &bytes)?;
    fs::rename(&tmp, path)
}

fn read_value(path: &Path, what: &str) -> Result<Value, IoError> {
    let bytes = fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => IoError(format!(
            "{what} has no stored value (looked in {})",
            path.display()
        )),
        _ => IoError(format!("reading {}: {e}", path.display())),
    })?;
    let newline = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| IoError(format!("{} is not a stored value", path.display())))?;
    let codec = String::from_utf8_lossy(&bytes[..newline]).into_owned();
    Ok(Value {
        codec,
        data: bytes[newline + 1..].to_vec(),
    })
}

impl IoManager for FsIoManager {
    fn store_output(
        &self,
        run_id: &str,
        step_key: &str,
        output: &str,
        value: &Value,
    ) -> Result<(), IoError> {
        self.write(&self.output_path(run_id, step_key, output)?, value)
    }

    fn load_output(&self, run_id: &str, step_key: &str, output: &str) -> Result<Value, IoError> {
        read_value(
            &self.output_path(run_id, step_key, output)?,
            &format!("output {output} of step {step_key}"),
        )
    }

    fn store_asset(&self, key: &AssetKey, value: &Value) -> Result<(), IoError> {
        self.write(&self.asset_path(key)?, value)
    }

    fn load_asset(&self, key: &AssetKey) -> Result<Value, IoError> {
        read_value(&self.asset_path(key)?, &format!("asset {key}"))
    }
}

type OutputKey = (String, String, String);

/// Keeps values in memory, for the life of the process.
#[derive(Default)]
pub struct InMemoryIoManager {
    outputs: Mutex<HashMap<OutputKey, Value>>,
    assets: Mutex<HashMap<AssetKey, Value>>,
}

fn poisoned<T>(_: T) -> IoError {
    IoError("in-memory I/O manager is unusable: a thread panicked while holding it".into())
}

impl IoManager for InMemoryIoManager {
    fn store_output(
        &self,
        run_id: &str,
        step_key: &str,
        output: &str,
        value: &Value,
    ) -> Result<(), IoError> {
        let key = (run_id.to_owned(), step_key.to_owned(), output.to_owned());
        self.outputs
            .lock()
            .map_err(poisoned)?
            .insert(key, value.clone());
        Ok(())
    }

    fn load_output(&self, run_id: &str, step_key: &str, output: &str) -> Result<Value, IoError> {
        let key = (run_id.to_owned(), step_key.to_owned(), output.to_owned());
        let outputs = self.outputs.lock().map_err(poisoned)?;
        outputs.get(&key).cloned().ok_or_else(|| {
            IoError(format!(
                "output {output} of step {step_key} is not in memory"
            ))
        })
    }

    fn store_asset(&self, key: &AssetKey, value: &Value) -> Result<(), IoError> {
        self.assets
            .lock()
            .map_err(poisoned)?
            .insert(key.clone(), value.clone());
        Ok(())
    }

    fn load_asset(&self, key: &AssetKey) -> Result<Value, IoError> {
        let assets = self.assets.lock().map_err(poisoned)?;
        assets
            .get(key)
            .cloned()
            .ok_or_else(|| IoError(format!("asset {key} has no value in memory")))
    }
}

/// Keeps compute logs as `<base>/<run id>/<step key>.out` and `.err`.
pub struct FsComputeLogs {
    base: PathBuf,
}

impl FsComputeLogs {
    /// A compute-log store rooted at `base`.
    pub fn new(base: impl Into<PathBuf>) -> Self {
        FsComputeLogs { base: base.into() }
    }

    fn paths(&self, run_id: &str, step_key: &str) -> Result<(PathBuf, PathBuf), IoError> {
        let file = step_key.replace('/', "__");
        let dir = self.base.join(safe(run_id)?);
        Ok((
            dir.join(format!("{}.out", safe(&file)?)),
            dir.join(format!("{file}.err")),
        ))
    }
}

impl ComputeLogStore for FsComputeLogs {
    fn store(
        &self,
        run_id: &str,
        step_key: &str,
        stdout: &[u8],
        stderr: &[u8],
    ) -> Result<(), IoError> {
        let (out, err) = self.paths(run_id, step_key)?;
        for (path, bytes) in [(out, stdout), (err, stderr)] {
            if bytes.is_empty() {
                continue;
            }
            let fail =
                |e: std::io::Error| IoError(format!("writing compute log {}: {e}", path.display()));
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(fail)?;
            }
            // Appended: a retried step keeps every attempt's output.
            let mut file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(fail)?;
            file.write_all(bytes).map_err(fail)?;
        }
        Ok(())
    }

    fn load(&self, run_id: &str, step_key: &str) -> Result<(Vec<u8>, Vec<u8>), IoError> {
        let (out, err) = self.paths(run_id, step_key)?;
        let read = |path: &Path| match fs::read(path) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(IoError(format!(
                "reading compute log {}: {e}",
                path.display()
            ))),
        };
        Ok((read(&out)?, read(&err)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("weft-io-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn fs_round_trips_outputs_and_assets() {
        let dir = temp_dir("fs");
        let io = FsIoManager::new(&dir);
        let v = Value::json("[1,2,3]");
        io.store_output("r1", "add_1", "result", &v).unwrap();
        assert_eq!(io.load_output("r1", "add_1", "result").unwrap(), v);
        let key = AssetKey::parse("warehouse/orders");
        io.store_asset(&key, &v).unwrap();
        assert_eq!(io.load_asset(&key).unwrap(), v);
        assert!(dir.join("assets/warehouse/orders").exists());
        let err = io.load_asset(&AssetKey::parse("nope")).unwrap_err();
        assert!(err.0.starts_with("asset nope has no stored value"), "{err}");
        assert!(io.store_output("..", "x", "result", &v).is_err());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn memory_round_trips() {
        let io = InMemoryIoManager::default();
        let v = Value::json("1");
        io.store_output("r", "s", "result", &v).unwrap();
        assert_eq!(io.load_output("r", "s", "result").unwrap(), v);
        assert!(io.load_output("r", "t", "result").is_err());
    }

    #[test]
    fn compute_logs_append_attempts() {
        let dir = temp_dir("logs");
        let logs = FsComputeLogs::new(&dir);
        logs.store("r", "a/b", b"one\n", b"").unwrap();
        logs.store("r", "a/b", b"two\n", b"warn\n").unwrap();
        assert_eq!(
            logs.load("r", "a/b").unwrap(),
            (b"one\ntwo\n".to_vec(), b"warn\n".to_vec())
        );
        assert_eq!(logs.load("r", "none").unwrap(), (vec![], vec![]));
        fs::remove_dir_all(dir).unwrap();
    }
}
