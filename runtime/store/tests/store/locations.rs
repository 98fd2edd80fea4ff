//! Code locations on both databases: versions kept and the current one moved, component
//! bytes stored once, grants set (as stored and as shown in the grant history), and a
//! removal that hides the location, keeps its versions and clears its grants.

use weft_store::{ErrorKind, GrantChange};

use super::Fresh;

/// The grants of live location `name`, as stored.
async fn grants_of(store: &weft_store::Store, name: &str) -> Option<String> {
    store.location(name).await.expect("read").map(|l| l.grants)
}

pub(crate) async fn location_versions_are_kept_and_the_current_one_moves(db: Fresh) {
    let store = db.open().await;
    assert!(store.locations().await.expect("list").is_empty());

    store
        .put_location_version("numbers", "d1", r#"{"ops":[]}"#, b"\0asm one")
        .await
        .expect("put");
    store
        .put_location_version("numbers", "d2", r#"{"ops":["add"]}"#, b"\0asm two")
        .await
        .expect("put");
    store
        .put_location_version("sensors", "d3", "{}", b"\0asm three")
        .await
        .expect("put");

    let locations = store.locations().await.expect("list");
    let current: Vec<(&str, &str)> = locations
        .iter()
        .map(|(n, d, _)| (n.as_str(), d.as_str()))
        .collect();
    assert_eq!(current, [("numbers", "d2"), ("sensors", "d3")]);
    assert!(locations.iter().all(|(_, _, updated)| *updated > 0));

    // The old version stays for the runs pinned to it.
    assert_eq!(
        store.location_version("d1").await.expect("read"),
        Some(("numbers".into(), r#"{"ops":[]}"#.into()))
    );
    assert_eq!(store.location_version("nope").await.expect("read"), None);

    // Uploading d1 again makes it current again.
    store
        .put_location_version("numbers", "d1", r#"{"ops":[]}"#, b"\0asm one")
        .await
        .expect("put");
    assert_eq!(store.locations().await.expect("list")[0].1, "d1");

    let bad = store
        .put_location_version("numbers", "d4", "not json", b"")
        .await
        .expect_err("invalid");
    assert_eq!(bad.kind(), ErrorKind::InvalidData);
    assert!(
        bad.to_string()
            .starts_with("storing version d4 of code location numbers: "),
        "{bad}"
    );
}

pub(crate) async fn uploads_keep_bytes_history_and_survive_removal_without_their_grants(db: Fresh) {
    let store = db.open().await;
    store
        .put_location_version("numbers", "d1", r#"{"jobs":[]}"#, b"\0asm v1")
        .await
        .expect("put");
    store
        .put_location_version("numbers", "d2", r#"{"jobs":[1]}"#, b"\0asm v2")
        .await
        .expect("put");
    // The same component under another name is a version of that location too.
    store
        .put_location_version("copy", "d1", r#"{"jobs":[]}"#, b"\0asm v1")
        .await
        .expect("put");

    assert_eq!(
        store.component("d2").await.expect("read").as_deref(),
        Some(&b"\0asm v2"[..])
    );
    assert_eq!(store.component("nope").await.expect("read"), None);

    let versions = store.location_versions("numbers").await.expect("versions");
    let digests: Vec<&str> = versions.iter().map(|v| v.digest.as_str()).collect();
    assert!(
        digests == ["d2", "d1"] || digests == ["d1", "d2"],
        "{digests:?}"
    );
    assert!(versions.iter().all(|v| v.wasm_size == 7));
    assert_eq!(
        store
            .location_versions("copy")
            .await
            .expect("versions")
            .len(),
        1
    );

    // Roll back to d1, and refuse a digest the location never had.
    assert!(
        store
            .set_current_version("numbers", "d1")
            .await
            .expect("rollback")
    );
    assert_eq!(
        store
            .location("numbers")
            .await
            .expect("read")
            .map(|l| l.current_digest),
        Some("d1".to_owned())
    );
    assert!(
        !store
            .set_current_version("numbers", "zzz")
            .await
            .expect("rollback")
    );
    assert!(
        !store
            .set_current_version("ghost", "d1")
            .await
            .expect("rollback")
    );

    // Grants: stored as given, written to the history as shown.
    let grants = r#"{"env":["TOKEN"],"environment":{"DB_PASSWORD":"hunter2"}}"#;
    let shown = r#"{"env":["TOKEN"],"environment":{"DB_PASSWORD":"***"}}"#;
    assert!(
        store
            .set_location_grants("numbers", grants, shown)
            .await
            .expect("grants")
    );
    assert_eq!(grants_of(&store, "numbers").await, Some(grants.to_owned()));
    assert!(
        !store
            .set_location_grants("ghost", "{}", "{}")
            .await
            .expect("grants")
    );
    assert_eq!(
        store
            .set_location_grants("numbers", "nope", "{}")
            .await
            .expect_err("bad json")
            .kind(),
        ErrorKind::InvalidData
    );

    // Removal hides the location but keeps its versions; an upload brings it back.
    assert!(store.remove_location("numbers").await.expect("remove"));
    assert!(
        !store
            .remove_location("numbers")
            .await
            .expect("remove twice")
    );
    assert_eq!(store.location("numbers").await.expect("read"), None);
    let names: Vec<String> = store
        .locations()
        .await
        .expect("list")
        .into_iter()
        .map(|l| l.0)
        .collect();
    assert_eq!(names, ["copy"]);
    assert_eq!(
        store.component("d1").await.expect("read").as_deref(),
        Some(&b"\0asm v1"[..])
    );
    assert!(
        !store
            .set_current_version("numbers", "d1")
            .await
            .expect("rollback removed")
    );
    store
        .put_location_version("numbers", "d2", r#"{"jobs":[1]}"#, b"\0asm v2")
        .await
        .expect("upload again");
    assert_eq!(
        store
            .location("numbers")
            .await
            .expect("read")
            .map(|l| l.current_digest),
        Some("d2".to_owned())
    );
    // It came back with nothing granted; the history shows what was, never a value.
    assert_eq!(grants_of(&store, "numbers").await, Some("{}".to_owned()));
    let history = store
        .location_grant_history("numbers")
        .await
        .expect("history");
    let changes: Vec<(&str, &str)> = history
        .iter()
        .map(|c: &GrantChange| (c.change.as_str(), c.grants.as_str()))
        .collect();
    assert_eq!(changes, [("set", shown), ("removed", "{}")]);
    assert!(
        history
            .windows(2)
            .all(|w| w[0].changed_ms <= w[1].changed_ms)
    );
}
