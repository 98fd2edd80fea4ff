//! # weft-store
//!
//! Weft's storage: runs, their append-only event logs, code-location versions and the
//! asset materialization history, in one SQLite database (PostgreSQL later). This is the
//! only crate that knows sqlx; the engine sees it through
//! [`RunStorage`](weft_engine::ports::RunStorage), the CLI through the inherent methods of
//! [`Store`].
//!
//! Appending events is the hot path: one transaction per batch, multi-row inserts with
//! cached statements, and the run's status, times and asset history updated in the same
//! transaction, so a reader never sees an event without its effect.
//!
//! ```no_run
//! # async fn demo() -> Result<(), weft_store::StoreError> {
//! let store = weft_store::Store::open_sqlite(std::path::Path::new("/tmp/weft/weft.db")).await?;
//! for (name, digest, _updated_ms) in store.locations().await? {
//!     println!("{name} @ {digest}");
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod assets;
mod bulk;
mod error;
mod locations;
mod runs;
mod sqlite;

use std::path::Path;

pub use assets::Materialization;
pub use error::{ErrorKind, StoreError};
pub use locations::{LocationRecord, VersionRecord};

/// A handle to the database; cheap to clone, and every clone shares one connection pool.
/// Several handles (or processes) on one file see each other's writes.
#[derive(Clone, Debug)]
pub struct Store {
    pools: sqlite::Pools,
}

impl Store {
    /// Opens the SQLite database at `path`, creating the file and its directory if missing,
    /// and brings its schema up to date.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            pools: sqlite::open(path).await?,
        })
    }

    /// Closes every connection; later calls on any clone of this store fail.
    pub async fn close(&self) {
        self.pools.close().await;
    }
}
