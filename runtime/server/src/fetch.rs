//! Components by digest for run and step pods and workers, from an object store
//! (`component_store` in weft.yaml, which the server writes every upload to) or from `weft
//! serve` (`component_server`): the bytes are fetched once, checked against the digest the
//! run is pinned to (a mismatch is refused, never run), and cached under
//! `$WEFT_HOME/cache/<digest>.wasm`; the precompiled form for this build's engine is
//! fetched into the precompile cache beside it when the source has one and it hashes to the
//! digest the server recorded when it compiled it (native code from anywhere else is never
//! run: the component is compiled here instead), so the step starts without compiling. One
//! image serves every location and every version.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, ErrorKind};
use weft_core::ports::{LocationLoader, digest_of};
use weft_objstore::S3Components;

/// Where component `digest` and its precompiled form are cached: `(bytes, precompiled)`.
fn cache_paths(host: &dyn LocationLoader, digest: &str) -> (PathBuf, PathBuf) {
    let cwasm = host.cache_path(digest);
    (cwasm.with_file_name(format!("{digest}.wasm")), cwasm)
}

/// Component `digest` from the cache, if it is there whole.
async fn cached(path: &Path, digest: &str) -> Option<Vec<u8>> {
    let bytes = tokio::fs::read(path).await.ok()?;
    if digest_of(&bytes) == digest {
        return Some(bytes);
    }
    tracing::warn!(
        "{} does not hash to its digest: fetching it again",
        path.display()
    );
    None
}

/// Refuses bytes `from` answered for component `digest` unless they hash to it.
fn checked(bytes: Vec<u8>, digest: &str, from: &str) -> Result<Vec<u8>, Error> {
    let got = digest_of(&bytes);
    if got != digest {
        return Err(Error::new(
            ErrorKind::Unprocessable,
            format!("{from} answered component {digest} with bytes whose digest is {got}"),
        ));
    }
    Ok(bytes)
}

/// Component `digest`: from the cache, else from `server`, checked and cached.
pub(crate) async fn component(
    host: &dyn LocationLoader,
    server: &str,
    digest: &str,
    precompiled: Option<&str>,
) -> Result<Vec<u8>, Error> {
    let (path, cwasm) = cache_paths(host, digest);
    if let Some(bytes) = cached(&path, digest).await {
        return Ok(bytes);
    }
    let base = server.trim_end_matches('/');
    let bytes = checked(
        get(&format!("{base}/api/components/{digest}")).await?,
        digest,
        server,
    )?;
    if let Some(expected) = precompiled.filter(|_| !cwasm.exists()) {
        let url = format!(
            "{base}/api/components/{digest}/precompiled/{}",
            host.engine_key()
        );
        match get(&url).await {
            Ok(compiled) => keep_precompiled(&cwasm, digest, compiled, expected, &url).await,
            Err(e) => tracing::info!("compiling {digest} here: {}", e.message),
        }
    }
    save(&path, &bytes).await;
    Ok(bytes)
}

/// Component `digest`: from the cache, else from the component store, checked and cached;
/// `None` when the store does not hold it (a version uploaded before the store was
/// configured).
pub(crate) async fn component_from_store(
    host: &dyn LocationLoader,
    store: &Arc<S3Components>,
    digest: &str,
    precompiled: Option<&str>,
) -> Result<Option<Vec<u8>>, Error> {
    let (path, cwasm) = cache_paths(host, digest);
    if let Some(bytes) = cached(&path, digest).await {
        return Ok(Some(bytes));
    }
    let unavailable = |e: weft_core::ports::IoError| Error::new(ErrorKind::Unavailable, e.0);
    let (from, key) = (store.clone(), digest.to_owned());
    let Some(bytes) = blocking(move || from.get(&key))
        .await?
        .map_err(unavailable)?
    else {
        return Ok(None);
    };
    let bytes = checked(bytes, digest, &store.url(digest))?;
    if let Some(expected) = precompiled.filter(|_| !cwasm.exists()) {
        let (from, key, engine) = (
            store.clone(),
            digest.to_owned(),
            host.engine_key().to_owned(),
        );
        match blocking(move || from.get_precompiled(&key, &engine)).await? {
            Ok(Some(compiled)) => {
                let source = store.url(digest);
                keep_precompiled(&cwasm, digest, compiled, expected, &source).await
            }
            Ok(None) => {
                tracing::info!("compiling {digest} here: no precompiled form for this engine")
            }
            Err(e) => tracing::info!("compiling {digest} here: {e}"),
        }
    }
    save(&path, &bytes).await;
    Ok(Some(bytes))
}

/// Caches `compiled`, the precompiled form of component `digest` fetched from `source`, if
/// it hashes to `expected` (what the server recorded when it compiled it); otherwise says
/// so and leaves the component to be compiled here.
async fn keep_precompiled(
    cwasm: &Path,
    digest: &str,
    compiled: Vec<u8>,
    expected: &str,
    source: &str,
) {
    let got = digest_of(&compiled);
    if got == expected {
        save(cwasm, &compiled).await;
    } else {
        tracing::warn!(
            "the precompiled form of component {digest} from {source} hashes to {got}, not to \
             the {expected} its server recorded: compiling the component here instead"
        );
    }
}

/// Writes component `digest` and its precompiled form (from this host's cache, when it has
/// one) to the component store.
pub(crate) async fn publish(
    host: &dyn LocationLoader,
    store: &Arc<S3Components>,
    digest: &str,
    bytes: Arc<Vec<u8>>,
) -> Result<(), Error> {
    let failed = |e: weft_core::ports::IoError| {
        Error::new(
            ErrorKind::Unavailable,
            format!("storing the component in the component store: {e}"),
        )
    };
    let compiled = tokio::fs::read(host.cache_path(digest)).await.ok();
    let (to, key, engine) = (
        store.clone(),
        digest.to_owned(),
        host.engine_key().to_owned(),
    );
    blocking(move || {
        to.put(&key, bytes.to_vec())?;
        match compiled {
            Some(compiled) => to.put_precompiled(&key, &engine, compiled),
            None => Ok(()),
        }
    })
    .await?
    .map_err(failed)
}

/// Runs the object store's blocking call `f` off the async runtime's workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("the component store's request: {e}")))
}

/// The body of `GET url`, with the API token of `WEFT_TOKEN` when set.
async fn get(url: &str) -> Result<Vec<u8>, Error> {
    let unavailable = |e: String| Error::new(ErrorKind::Unavailable, e);
    let mut request = reqwest::Client::new().get(url);
    if let Ok(token) = std::env::var("WEFT_TOKEN")
        && !token.is_empty()
    {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|e| unavailable(format!("fetching {url}: {e}")))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| unavailable(format!("fetching {url}: {e}")))?;
    if !status.is_success() {
        let kind = match status.as_u16() {
            404 => ErrorKind::NotFound,
            _ => ErrorKind::Unavailable,
        };
        let said = String::from_utf8_lossy(&body);
        return Err(Error::new(
            kind,
            format!("fetching {url}: {status}: {said}"),
        ));
    }
    Ok(body.to_vec())
}

/// Writes `bytes` to `path` whole (through a temporary file and a rename) or not at all:
/// the cache is an optimisation, so a failure is only logged.
async fn save(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension(format!("partial-{}", std::process::id()));
    let written = async {
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, path).await
    };
    if let Err(e) = written.await {
        tracing::warn!("caching {}: {e}", path.display());
    }
}
