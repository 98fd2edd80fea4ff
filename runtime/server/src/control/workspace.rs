//! The workspace: the code locations weft.yaml (or `weft dev`) names by file, uploaded at
//! start unless already current, and again whenever their file changes.

use weft_wasm::digest_of;

use super::Control;

impl Control {
    /// Uploads each file of `files` again whenever it changes (polled every half second),
    /// until the process stops: `weft dev`'s hot reload. A version that fails is reported
    /// and the location keeps the one it had.
    pub async fn watch_workspace(&self, files: Vec<(String, std::path::PathBuf)>) {
        let modified =
            |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let mut seen: Vec<_> = files.iter().map(|(_, p)| modified(p)).collect();
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            for (i, (name, path)) in files.iter().enumerate() {
                let now = modified(path);
                if now == seen[i] {
                    continue;
                }
                seen[i] = now;
                eprintln!("{} changed: reloading code location {name}", path.display());
                self.load_workspace(std::slice::from_ref(&files[i])).await;
            }
        }
    }

    /// Uploads the file of each location weft.yaml lists by path, unless its digest is
    /// already current. A file that fails is reported and leaves that location as it was.
    pub async fn load_workspace(&self, files: &[(String, std::path::PathBuf)]) {
        for (name, path) in files {
            let bytes = match std::fs::read(path) {
                Ok(bytes) => bytes,
                Err(e) => {
                    eprintln!(
                        "warning: code location {name}: cannot read {}: {e}",
                        path.display()
                    );
                    continue;
                }
            };
            let digest = digest_of(&bytes);
            match self.store.location(name).await {
                Ok(Some(record)) if record.current_digest == digest => continue,
                _ => {}
            }
            match self.upload(name, bytes).await {
                Ok(version) => eprintln!(
                    "code location {name} ({}) is at {}",
                    path.display(),
                    version.digest
                ),
                Err(e) => eprintln!("warning: code location {name} ({}): {e}", path.display()),
            }
        }
    }
}
