//! Components by digest from `weft serve`, for run and step pods and workers
//! (`component_server` in weft.yaml): the bytes are fetched once, checked against the
//! digest the run is pinned to (a mismatch is refused, never run), and cached under
//! `$WEFT_HOME/cache/<digest>.wasm`; the precompiled form for this build's engine is
//! fetched into the precompile cache beside it when the server has one, so the step starts
//! without compiling. One image serves every location and every version.

use std::path::Path;

use weft_api::{ApiError, ErrorKind};
use weft_wasm::{WasmHost, digest_of};

/// Component `digest`: from the cache, else from `server`, checked and cached.
pub(crate) async fn component(
    host: &WasmHost,
    server: &str,
    digest: &str,
) -> Result<Vec<u8>, ApiError> {
    let cwasm = host.cache_path(digest);
    let path = cwasm.with_file_name(format!("{digest}.wasm"));
    if let Ok(bytes) = tokio::fs::read(&path).await {
        if digest_of(&bytes) == digest {
            return Ok(bytes);
        }
        tracing::warn!(
            "{} does not hash to its digest: fetching it again",
            path.display()
        );
    }
    let base = server.trim_end_matches('/');
    let bytes = get(&format!("{base}/api/components/{digest}")).await?;
    let got = digest_of(&bytes);
    if got != digest {
        return Err(ApiError::new(
            ErrorKind::Unprocessable,
            format!("{server} answered component {digest} with bytes whose digest is {got}"),
        ));
    }
    if !cwasm.exists() {
        let url = format!(
            "{base}/api/components/{digest}/precompiled/{}",
            host.engine_key()
        );
        match get(&url).await {
            Ok(compiled) => save(&cwasm, &compiled).await,
            Err(e) => tracing::info!("compiling {digest} here: {}", e.message),
        }
    }
    save(&path, &bytes).await;
    Ok(bytes)
}

/// The body of `GET url`, with the API token of `WEFT_TOKEN` when set.
async fn get(url: &str) -> Result<Vec<u8>, ApiError> {
    let unavailable = |e: String| ApiError::new(ErrorKind::Unavailable, e);
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
            401 => ErrorKind::Unauthorized,
            404 => ErrorKind::NotFound,
            _ => ErrorKind::Unavailable,
        };
        let said = String::from_utf8_lossy(&body);
        return Err(ApiError::new(
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
