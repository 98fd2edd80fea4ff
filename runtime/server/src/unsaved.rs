//! Events the database would not take, kept on disk until it takes them: a run's events
//! that could not be stored when it ended are appended to `unsaved-events/<run id>.jsonl`
//! under the home (one run's events per file, fsynced before the run is let go), and the
//! next process that opens the instance's database (and a running server, every few
//! seconds) appends them there and removes the file. A process claims a file by renaming it, so two that start together do not replay
//! it twice; a file the database still refuses is put back for the next start.

use std::io::Write;
use std::path::{Path, PathBuf};

use weft_core::Event;
use weft_store::Store;

/// Appends `events` (all of run `run_id`) to `dir/<run id>.jsonl`, synced to disk, and says
/// where they are (or how saving them failed too).
pub fn save_unwritten(dir: &Path, run_id: &str, events: &[Event]) -> String {
    let path = dir.join(format!("{run_id}.jsonl"));
    match append(dir, &path, events) {
        Ok(()) => format!(
            "{} events saved to {}; they are stored when Weft next starts",
            events.len(),
            path.display()
        ),
        Err(e) => format!("and saving them to {} failed too: {e}", path.display()),
    }
}

fn append(dir: &Path, path: &Path, events: &[Event]) -> std::io::Result<()> {
    let mut text = String::new();
    for event in events {
        text.push_str(&serde_json::to_string(event).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    std::fs::create_dir_all(dir)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    // The file's name is durable once its directory is.
    std::fs::File::open(dir)?.sync_all()
}

/// What [`replay_unsaved`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Runs whose saved events are now in the database.
    pub runs: usize,
    pub events: usize,
    /// Files the database still refused (kept), with why.
    pub refused: Vec<(PathBuf, String)>,
}

impl Replayed {
    /// Logs what was stored, and what is still refused.
    pub fn report(&self) {
        if self.events > 0 {
            tracing::info!(
                "stored {} events of {} runs saved while the database was out of reach",
                self.events,
                self.runs
            );
        }
        for (path, why) in &self.refused {
            tracing::warn!(
                "the events saved in {} are still not stored: {why}",
                path.display()
            );
        }
    }
}

/// Appends the events saved in `dir` to `store` and removes their files.
pub async fn replay_unsaved(dir: &Path, store: &Store) -> Replayed {
    let mut replayed = Replayed::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return replayed;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    for path in files {
        let claimed = path.with_extension(format!("jsonl.replaying-{}", std::process::id()));
        // Another process took it first.
        if std::fs::rename(&path, &claimed).is_err() {
            continue;
        }
        match replay_file(&claimed, store).await {
            Ok(n) => {
                replayed.runs += 1;
                replayed.events += n;
                if let Err(e) = std::fs::remove_file(&claimed) {
                    tracing::warn!("removing {} once replayed: {e}", claimed.display());
                }
            }
            Err(why) => {
                put_back(&claimed, &path);
                replayed.refused.push((path, why));
            }
        }
    }
    replayed
}

async fn replay_file(path: &Path, store: &Store) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut events = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let event: Event =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        events.push(event);
    }
    store.append(&events).await.map_err(|e| e.to_string())?;
    Ok(events.len())
}

/// Renames `claimed` back to `path`, keeping events saved there meanwhile after its own.
fn put_back(claimed: &Path, path: &Path) {
    let merged = std::fs::read(path).and_then(|newer| {
        let mut file = std::fs::OpenOptions::new().append(true).open(claimed)?;
        file.write_all(&newer)?;
        file.sync_all()
    });
    if merged.is_ok() || !path.exists() {
        let _ = std::fs::rename(claimed, path);
    } else {
        tracing::warn!(
            "{} could not be put back as {}: its events stay there",
            claimed.display(),
            path.display()
        );
    }
}
