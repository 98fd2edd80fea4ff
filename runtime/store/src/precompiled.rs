//! The digests of components' precompiled forms: the server records the SHA-256 of each
//! precompiled form it makes, per engine, and whoever fetches one from elsewhere (the
//! component store, the server) checks it against this before deserializing it.

use crate::Store;
use crate::error::StoreError;

impl Store {
    /// Records `sha256` as the digest of component `digest`'s precompiled form for
    /// `engine` (recording it again replaces it: the server compiled it again).
    pub async fn record_precompiled(
        &self,
        digest: &str,
        engine: &str,
        sha256: &str,
    ) -> Result<(), StoreError> {
        let doing = || format!("recording the precompiled form of component {digest}");
        let statement = self
            .db
            .statement(
                "INSERT INTO precompiled (digest, engine, sha256) VALUES ($1, $2, $3) \
                 ON CONFLICT (digest, engine) DO UPDATE SET sha256 = excluded.sha256",
            )
            .bind(digest)
            .bind(engine)
            .bind(sha256);
        self.db.transaction(vec![statement], doing).await
    }

    /// The recorded digest of component `digest`'s precompiled form for `engine`, if any.
    pub async fn precompiled_sha256(
        &self,
        digest: &str,
        engine: &str,
    ) -> Result<Option<String>, StoreError> {
        let doing = || format!("reading the precompiled form's digest of component {digest}");
        let statement = self
            .db
            .statement("SELECT sha256 FROM precompiled WHERE digest = $1 AND engine = $2")
            .bind(digest)
            .bind(engine);
        let row = self.db.fetch_optional(statement, doing).await?;
        row.map(|row| row.get::<String>(0))
            .transpose()
            .map_err(|e| StoreError::new(doing(), e))
    }
}
