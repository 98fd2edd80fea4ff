//! The web UI, embedded in the binary at build time (`ui/`), so that nothing but the `weft`
//! binary is needed to serve it: `/` is the page shell (`index.html`); `/ui/{path}` serves
//! the files of [`FILES`]: the style sheet and the page's native ES modules (`ui/js/`,
//! entered at `main.js`; no build step). A file added to `ui/` must be listed in [`FILES`]
//! (a test says so). The page talks to the JSON API only.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// `(path under ui/, content, content type)` of one embedded file.
macro_rules! ui {
    ($path:literal, $content_type:expr) => {
        ($path, include_str!(concat!("../ui/", $path)), $content_type)
    };
}

/// Every file of `ui/`: (its path there, which is its URL under `/ui/`; content; content type).
const FILES: &[(&str, &str, &str)] = &[
    ui!("index.html", HTML),
    ui!("app.css", CSS),
    ui!("js/api.js", JS),
    ui!("js/asset.js", JS),
    ui!("js/assets.js", JS),
    ui!("js/automation.js", JS),
    ui!("js/gantt.js", JS),
    ui!("js/graph.js", JS),
    ui!("js/instigator.js", JS),
    ui!("js/jobs.js", JS),
    ui!("js/locations.js", JS),
    ui!("js/main.js", JS),
    ui!("js/metadata.js", JS),
    ui!("js/render.js", JS),
    ui!("js/router.js", JS),
    ui!("js/run.js", JS),
    ui!("js/runs.js", JS),
];

/// `/` (index.html) and `/ui/{*path}` (a file of [`FILES`]; any other path is a 404).
pub(crate) fn routes() -> Router {
    Router::new()
        .route("/", get(|| async { file("index.html") }))
        .route(
            "/ui/{*path}",
            get(|Path(path): Path<String>| async move { file(&path) }),
        )
}

fn file(path: &str) -> Response {
    match FILES.iter().find(|(p, _, _)| *p == path) {
        Some(&(_, body, content_type)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file of the web UI").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::FILES;

    /// [`FILES`] lists exactly the files of `ui/`: none is left out of the binary.
    #[test]
    fn every_file_of_ui_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
        let mut on_disk = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    let relative = path.strip_prefix(&root).unwrap();
                    on_disk.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(p, _, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(listed, on_disk);
    }
}
