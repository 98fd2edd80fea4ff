//! [`S3IoManager`]: the engine's `IoManager` port over an S3 bucket, so that a step in one
//! pod reads what a step in another stored. Layout and encoding are those of the engine's
//! `FsIoManager`, relative to the configured prefix: outputs at
//! `<run id>/<step key>.<output>` (`/` in a step key written `__`), assets at
//! `assets/<key path>`; each object is the codec tag, a newline, then the value's bytes.

use weft_core::defs::{AssetKey, Value};
use weft_core::ports::{IoError, IoManager};

use crate::bucket::{Bucket, safe, step_part};
use crate::{ObjStoreError, S3Config};

/// Keeps step outputs and asset values in an S3-compatible bucket.
///
/// Its methods block the calling thread until the store answers (see the crate docs for
/// why that is correct from any thread). One instance may be shared by many threads.
pub struct S3IoManager {
    bucket: Bucket,
}

impl S3IoManager {
    /// An I/O manager on `config`'s bucket and prefix. It sends no request: a bucket that
    /// does not exist, or credentials the server refuses, show on first use (or call
    /// [`S3IoManager::check`]).
    pub fn new(config: &S3Config) -> Result<Self, ObjStoreError> {
        Ok(S3IoManager {
            bucket: Bucket::open(config)?,
        })
    }

    /// Asks the store for (at most one page of) the prefix's listing: fails, naming the
    /// bucket, when it does not exist, the credentials are refused or the endpoint cannot
    /// be reached. For a command to call once at start.
    pub fn check(&self) -> Result<(), ObjStoreError> {
        Ok(self.bucket.check()?)
    }

    fn output_key(
        &self,
        run_id: &str,
        step_key: &str,
        output: &str,
    ) -> Result<object_store::path::Path, IoError> {
        let file = format!("{}.{}", step_part(step_key)?, safe(output)?);
        Ok(self.bucket.key([safe(run_id)?, file.as_str()]))
    }

    fn asset_key(&self, key: &AssetKey) -> Result<object_store::path::Path, IoError> {
        let parts: Vec<&str> = key.0.iter().map(|p| safe(p)).collect::<Result<_, _>>()?;
        Ok(self.bucket.key(std::iter::once("assets").chain(parts)))
    }
}

/// The stored form: the codec tag on the first line, the bytes after it.
fn encode(value: &Value) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(value.codec.len() + 1 + value.data.len());
    bytes.extend_from_slice(value.codec.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(&value.data);
    bytes
}

fn decode(bytes: &[u8], url: &str) -> Result<Value, IoError> {
    let newline = bytes.iter().position(|&b| b == b'\n').ok_or_else(|| {
        IoError(format!(
            "{url} is not a stored value (no codec line): was it written by Weft?"
        ))
    })?;
    Ok(Value {
        codec: String::from_utf8_lossy(&bytes[..newline]).into_owned(),
        data: bytes[newline + 1..].to_vec(),
    })
}

impl IoManager for S3IoManager {
    fn store_output(
        &self,
        run_id: &str,
        step_key: &str,
        output: &str,
        value: &Value,
    ) -> Result<(), IoError> {
        let key = self.output_key(run_id, step_key, output)?;
        self.bucket.put(&key, encode(value))
    }

    fn load_output(&self, run_id: &str, step_key: &str, output: &str) -> Result<Value, IoError> {
        let key = self.output_key(run_id, step_key, output)?;
        let url = self.bucket.url(&key);
        match self.bucket.get(&key)? {
            Some(bytes) => decode(&bytes, &url),
            None => Err(IoError(format!(
                "no stored value for output {output} of step {step_key} in run {run_id} \
                 (looked for {url})"
            ))),
        }
    }

    fn store_asset(&self, key: &AssetKey, value: &Value) -> Result<(), IoError> {
        let object = self.asset_key(key)?;
        self.bucket.put(&object, encode(value))
    }

    fn load_asset(&self, key: &AssetKey) -> Result<Value, IoError> {
        let object = self.asset_key(key)?;
        let url = self.bucket.url(&object);
        match self.bucket.get(&object)? {
            Some(bytes) => decode(&bytes, &url),
            None => Err(IoError(format!(
                "asset {key} has no stored value (looked for {url})"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_encode_as_the_filesystem_does() -> Result<(), IoError> {
        let value = Value {
            codec: "pickle".into(),
            data: b"\n\x00bytes\n".to_vec(),
        };
        let bytes = encode(&value);
        assert_eq!(bytes, b"pickle\n\n\x00bytes\n");
        assert_eq!(decode(&bytes, "s3://b/k")?, value);
        let err = decode(b"no newline", "s3://b/k").err().map(|e| e.0);
        assert!(
            err.as_deref().is_some_and(|e| e.contains("s3://b/k")),
            "{err:?}"
        );
        Ok(())
    }

    #[test]
    fn keys_are_checked_before_any_request() -> Result<(), ObjStoreError> {
        let io = S3IoManager::new(&S3Config {
            bucket: "b".into(),
            endpoint: Some("https://example.invalid".into()),
            ..S3Config::default()
        })?;
        let value = Value::json("1");
        assert!(io.store_output("..", "s", "result", &value).is_err());
        assert!(io.load_output("r", "a//b", "result").is_err());
        assert!(io.store_asset(&AssetKey::parse("a/../b"), &value).is_err());
        let key = io.asset_key(&AssetKey::parse("warehouse/orders"))?;
        assert_eq!(key.as_ref(), "assets/warehouse/orders");
        let key = io.output_key("r1", "a/b", "result")?;
        assert_eq!(key.as_ref(), "r1/a__b.result");
        Ok(())
    }
}
