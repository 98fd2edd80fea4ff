//! One bucket and prefix, as both ports use it: keys built from checked parts, blocking
//! get/put over the crate's own tokio runtime, and `object_store` errors turned into
//! messages that name the bucket, the key and what to do.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use object_store::aws::AmazonS3;
use object_store::client::{HttpError, HttpErrorKind};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::runtime::Runtime;
use weft_core::ports::IoError;

use crate::{ObjStoreError, S3Config};

/// The runtime every store's requests run on: made on first use, shared by the process and
/// never dropped (so no store's drop can stop it inside someone else's async context).
fn runtime() -> Result<&'static Runtime, String> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("weft-objstore")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Runs `future` on the crate's runtime and waits for it on this thread. It never enters
/// that runtime from the calling thread, so it works from any thread: a plain std thread,
/// several at once, or a worker of another runtime (which it blocks meanwhile).
fn block_on<F>(future: F) -> Result<F::Output, IoError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = runtime().map_err(|e| IoError(format!("the S3 client's runtime: {e}")))?;
    let (send, receive) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        // The receiver outlives the task unless the caller's thread died: nothing to tell.
        let _ = send.send(future.await);
    });
    receive
        .recv()
        .map_err(|_| IoError("an S3 request was abandoned: its task panicked".into()))
}

/// A bucket and a key prefix.
pub(crate) struct Bucket {
    store: Arc<AmazonS3>,
    name: String,
    prefix: Vec<String>,
    /// The endpoint (or "AWS S3 (region)"), for messages.
    place: String,
}

impl Bucket {
    pub(crate) fn open(config: &S3Config) -> Result<Self, ObjStoreError> {
        let prefix = config.prefix_parts()?;
        let store = config.client()?;
        runtime().map_err(ObjStoreError::Runtime)?;
        Ok(Bucket {
            store: Arc::new(store),
            name: config.bucket.trim().to_owned(),
            prefix,
            place: config.place(),
        })
    }

    /// The key of `parts` under the prefix. Each part must already be [`safe`]; characters
    /// S3 advises against (`%`, `#`, `\`, ...) are percent-encoded by `object_store`.
    pub(crate) fn key<'a>(&'a self, parts: impl IntoIterator<Item = &'a str>) -> Path {
        self.prefix
            .iter()
            .map(String::as_str)
            .chain(parts)
            .collect()
    }

    /// `s3://bucket/key`, for messages.
    pub(crate) fn url(&self, key: &Path) -> String {
        format!("s3://{}/{key}", self.name)
    }

    /// Writes `bytes` at `key` (whole: a reader never sees part of it).
    pub(crate) fn put(&self, key: &Path, bytes: Vec<u8>) -> Result<(), IoError> {
        let store = Arc::clone(&self.store);
        let at = key.clone();
        block_on(async move { store.put(&at, PutPayload::from(bytes)).await })?
            .map(|_| ())
            .map_err(|e| self.error(&e, "writing", key))
    }

    /// The bytes at `key`, or `None` when there is no such object (in a bucket that exists).
    pub(crate) fn get(&self, key: &Path) -> Result<Option<Vec<u8>>, IoError> {
        let store = Arc::clone(&self.store);
        let at = key.clone();
        let result = block_on(async move {
            match store.get(&at).await {
                Ok(found) => found.bytes().await.map(|b| Some(b.to_vec())),
                Err(e) => Err(e),
            }
        })?;
        match result {
            Ok(bytes) => Ok(bytes),
            Err(e @ object_store::Error::NotFound { .. })
                if s3_code(&e).is_none_or(|c| c == "NoSuchKey") =>
            {
                Ok(None)
            }
            Err(e) => Err(self.error(&e, "reading", key)),
        }
    }

    /// Lists at most one object under the prefix: the bucket exists and the credentials
    /// are accepted.
    pub(crate) fn check(&self) -> Result<(), IoError> {
        let store = Arc::clone(&self.store);
        let prefix = self.key([]);
        let at = prefix.clone();
        block_on(async move { store.list_with_delimiter(Some(&at)).await })?
            .map(|_| ())
            .map_err(|e| self.error(&e, "listing", &prefix))
    }

    /// What went wrong, for a person: the bucket, the key, and what to look at.
    pub(crate) fn error(&self, err: &object_store::Error, doing: &str, key: &Path) -> IoError {
        let (bucket, url, place) = (&self.name, self.url(key), &self.place);
        let code = s3_code(err);
        let detail = s3_message(err).unwrap_or_else(|| err.to_string());
        let detail = detail.trim_end_matches('.');
        let message = match (code.as_deref(), err) {
            (Some("NoSuchBucket"), _) => format!(
                "S3 bucket {bucket} does not exist at {place} ({doing} {url}): create it, or \
                 name another bucket"
            ),
            (
                Some(
                    "InvalidAccessKeyId"
                    | "SignatureDoesNotMatch"
                    | "ExpiredToken"
                    | "InvalidToken"
                    | "AccessDenied"
                    | "AllAccessDisabled"
                    | "InvalidClientTokenId",
                ),
                _,
            )
            | (
                _,
                object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. },
            ) => format!(
                "S3 refused the credentials for bucket {bucket} at {place} ({doing} {url}): \
                 {}{detail}; check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the \
                 credentials: variables) and what they are allowed",
                code.map(|c| format!("{c}: ")).unwrap_or_default()
            ),
            _ if unreachable(err) => format!(
                "cannot reach the S3 endpoint {place} for bucket {bucket} ({doing} {url}): {}",
                root_cause(err)
            ),
            _ if code.is_none() && detail.to_ascii_lowercase().contains("credential") => {
                format!(
                    "no S3 credentials for bucket {bucket} ({doing} {url}): {detail}; set \
                     AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or credentials: in the \
                     configuration)"
                )
            }
            _ => format!(
                "S3 error {doing} {url} at {place}: {}{detail}",
                code.map(|c| format!("{c}: ")).unwrap_or_default()
            ),
        };
        IoError(message)
    }
}

/// Every message in `err`'s chain, outermost first.
fn chain(err: &object_store::Error) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
    let first: &(dyn std::error::Error + 'static) = err;
    std::iter::successors(Some(first), |e| e.source())
}

/// Text between `<tag>` and `</tag>` in the first of `err`'s messages that has it (S3
/// puts its XML error document in the message).
fn xml_field(err: &object_store::Error, tag: &str) -> Option<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    chain(err).find_map(|e| {
        let text = e.to_string();
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find(&close)?;
        Some(text[start..end].trim().to_owned())
    })
}

/// The S3 error code (`NoSuchBucket`, `InvalidAccessKeyId`, ...), if the server sent one.
fn s3_code(err: &object_store::Error) -> Option<String> {
    xml_field(err, "Code").filter(|c| !c.is_empty())
}

/// The server's own explanation, if it sent one.
fn s3_message(err: &object_store::Error) -> Option<String> {
    xml_field(err, "Message").filter(|m| !m.is_empty())
}

/// The request never got an answer: no connection, or no reply in time.
fn unreachable(err: &object_store::Error) -> bool {
    chain(err).any(|e| {
        e.downcast_ref::<HttpError>()
            .is_some_and(|h| matches!(h.kind(), HttpErrorKind::Connect | HttpErrorKind::Timeout))
    })
}

/// The innermost message ("tcp connect error: Connection refused (os error 111)").
fn root_cause(err: &object_store::Error) -> String {
    chain(err)
        .last()
        .map(ToString::to_string)
        .unwrap_or_else(|| err.to_string())
}

/// Rejects key parts that would leave their place or be dropped by S3 path handling.
pub(crate) fn safe(part: &str) -> Result<&str, IoError> {
    if part.is_empty() || part == "." || part == ".." || part.contains(['/', '\\', '\0']) {
        Err(IoError(format!(
            "{part:?} cannot be used as a storage key component"
        )))
    } else {
        Ok(part)
    }
}

/// A step key as one key part: each `/`-separated part safe, joined with `__` (the
/// filesystem layout).
pub(crate) fn step_part(step_key: &str) -> Result<String, IoError> {
    let parts: Vec<&str> = step_key.split('/').map(safe).collect::<Result<_, _>>()?;
    Ok(parts.join("__"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_filesystem_layout() -> Result<(), ObjStoreError> {
        let bucket = Bucket::open(&S3Config {
            bucket: "b".into(),
            prefix: Some("team/prod/".into()),
            endpoint: Some("https://example.invalid".into()),
            ..S3Config::default()
        })?;
        let step = step_part("warehouse/orders")?;
        let key = bucket.key(["r1", &format!("{step}.result")]);
        assert_eq!(key.as_ref(), "team/prod/r1/warehouse__orders.result");
        assert_eq!(
            bucket.url(&key),
            "s3://b/team/prod/r1/warehouse__orders.result"
        );
        assert!(step_part("a//b").is_err());
        assert!(safe("..").is_err());
        assert_eq!(bucket.key(["a#b"]).as_ref(), "team/prod/a%23b");
        Ok(())
    }

    #[test]
    fn block_on_works_inside_another_runtime() -> Result<(), IoError> {
        let outer = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| IoError(e.to_string()))?;
        let answer = outer.block_on(async { block_on(async { 6 * 7 }) })?;
        assert_eq!(answer, 42);
        Ok(())
    }
}
