//! [`S3Components`]: code-location components by digest in an S3 bucket (`component_store:
//! {s3: ...}` in weft.yaml). The server writes each uploaded version there, with its
//! precompiled form, before the version is stored; run and step pods and workers read from
//! there, so user code reaches a pod without the server or the database carrying it.
//! Layout, relative to the configured prefix: `<digest>.wasm` and `<digest>/<engine>.cwasm`
//! (`<engine>` is the host's engine key: a precompiled form is only ever loaded by the
//! engine that made it). The objects are content-addressed, written whole and never changed;
//! a reader checks the bytes against the digest it asked for.

use weft_core::ports::IoError;

use crate::bucket::{Bucket, safe};
use crate::{ObjStoreError, S3Config};

/// Components and their precompiled forms, by digest, in an S3-compatible bucket.
///
/// Its methods block the calling thread until the store answers (see the crate docs).
pub struct S3Components {
    bucket: Bucket,
}

impl S3Components {
    /// The component store on `config`'s bucket and prefix (no request is sent yet).
    pub fn new(config: &S3Config) -> Result<Self, ObjStoreError> {
        Ok(S3Components {
            bucket: Bucket::open(config)?,
        })
    }

    /// Fails, naming the bucket, when it cannot be used (as [`crate::S3IoManager::check`]).
    pub fn check(&self) -> Result<(), ObjStoreError> {
        Ok(self.bucket.check()?)
    }

    /// Writes component `digest`.
    pub fn put(&self, digest: &str, bytes: Vec<u8>) -> Result<(), IoError> {
        let key = self
            .bucket
            .key([format!("{}.wasm", safe(digest)?).as_str()]);
        self.bucket.put(&key, bytes)
    }

    /// Component `digest`, or `None` when the bucket has no such object.
    pub fn get(&self, digest: &str) -> Result<Option<Vec<u8>>, IoError> {
        let key = self
            .bucket
            .key([format!("{}.wasm", safe(digest)?).as_str()]);
        self.bucket.get(&key)
    }

    /// Writes the precompiled form of component `digest` made by engine `engine`.
    pub fn put_precompiled(
        &self,
        digest: &str,
        engine: &str,
        bytes: Vec<u8>,
    ) -> Result<(), IoError> {
        let key = self.precompiled_key(digest, engine)?;
        self.bucket.put(&key, bytes)
    }

    /// The precompiled form of component `digest` for engine `engine`, or `None`.
    pub fn get_precompiled(&self, digest: &str, engine: &str) -> Result<Option<Vec<u8>>, IoError> {
        let key = self.precompiled_key(digest, engine)?;
        self.bucket.get(&key)
    }

    /// `s3://bucket/key` of component `digest`, for messages.
    pub fn url(&self, digest: &str) -> String {
        self.bucket
            .url(&self.bucket.key([format!("{digest}.wasm").as_str()]))
    }

    fn precompiled_key(
        &self,
        digest: &str,
        engine: &str,
    ) -> Result<object_store::path::Path, IoError> {
        Ok(self
            .bucket
            .key([safe(digest)?, format!("{}.cwasm", safe(engine)?).as_str()]))
    }
}
