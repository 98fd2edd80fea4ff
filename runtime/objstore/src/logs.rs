//! [`S3ComputeLogs`]: the engine's `ComputeLogStore` port over an S3 bucket, so the server
//! shows what a step printed in whichever pod it ran. Layout as the engine's
//! `FsComputeLogs`, relative to the configured prefix: `<run id>/<step key>.out` and
//! `.err` (`/` in a step key written `__`).

use weft_core::ports::{ComputeLogStore, IoError};

use crate::bucket::{Bucket, safe, step_part};
use crate::{ObjStoreError, S3Config};

/// Keeps each step's stdout and stderr in an S3-compatible bucket.
///
/// Like the filesystem store, a retried step keeps every attempt's output: S3 cannot
/// append, so `store` reads what is there and writes it back with the new bytes after it.
/// That is correct because the attempts of one step run one after another; two processes
/// storing logs of the same run and step at once could lose one's bytes.
///
/// Its methods block the calling thread until the store answers (see the crate docs).
pub struct S3ComputeLogs {
    bucket: Bucket,
}

impl S3ComputeLogs {
    /// A compute-log store on `config`'s bucket and prefix (no request is sent yet). Give
    /// it a prefix apart from the I/O manager's (see [`S3Config::under`]).
    pub fn new(config: &S3Config) -> Result<Self, ObjStoreError> {
        Ok(S3ComputeLogs {
            bucket: Bucket::open(config)?,
        })
    }

    /// Fails, naming the bucket, when it cannot be used (as [`crate::S3IoManager::check`]).
    pub fn check(&self) -> Result<(), ObjStoreError> {
        Ok(self.bucket.check()?)
    }

    fn keys(
        &self,
        run_id: &str,
        step_key: &str,
    ) -> Result<(object_store::path::Path, object_store::path::Path), IoError> {
        let run = safe(run_id)?;
        let step = step_part(step_key)?;
        Ok((
            self.bucket.key([run, format!("{step}.out").as_str()]),
            self.bucket.key([run, format!("{step}.err").as_str()]),
        ))
    }
}

impl ComputeLogStore for S3ComputeLogs {
    fn store(
        &self,
        run_id: &str,
        step_key: &str,
        stdout: &[u8],
        stderr: &[u8],
    ) -> Result<(), IoError> {
        let (out, err) = self.keys(run_id, step_key)?;
        for (key, bytes) in [(out, stdout), (err, stderr)] {
            if bytes.is_empty() {
                continue;
            }
            let mut all = self.bucket.get(&key)?.unwrap_or_default();
            all.extend_from_slice(bytes);
            self.bucket.put(&key, all)?;
        }
        Ok(())
    }

    fn load(&self, run_id: &str, step_key: &str) -> Result<(Vec<u8>, Vec<u8>), IoError> {
        let (out, err) = self.keys(run_id, step_key)?;
        Ok((
            self.bucket.get(&out)?.unwrap_or_default(),
            self.bucket.get(&err)?.unwrap_or_default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_filesystem_layout() -> Result<(), ObjStoreError> {
        let logs = S3ComputeLogs::new(&S3Config {
            bucket: "b".into(),
            prefix: Some("logs".into()),
            endpoint: Some("https://example.invalid".into()),
            ..S3Config::default()
        })?;
        let (out, err) = logs.keys("r", "a/b")?;
        assert_eq!(
            (out.as_ref(), err.as_ref()),
            ("logs/r/a__b.out", "logs/r/a__b.err")
        );
        assert!(logs.keys("r/x", "a").is_err());
        Ok(())
    }
}
