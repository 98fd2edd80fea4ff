//! The values of the database I/O manager on both databases: outputs and assets stored,
//! read back byte for byte, overwritten, kept apart by key, and missing ones reported; and
//! `DatabaseIoManager` over them, called from the threads the executor calls it from (a
//! plain thread, a multi-threaded runtime's worker), refusing a value over its limit and
//! naming a missing one.

use std::sync::Arc;

use weft_core::defs::{AssetKey, Value};
use weft_core::ports::IoManager;
use weft_store::{DatabaseIoManager, ErrorKind, IoKey};

use super::Fresh;

fn output<'a>(run_id: &'a str, step_key: &'a str, output: &'a str) -> IoKey<'a> {
    IoKey::Output {
        run_id,
        step_key,
        output,
    }
}

pub(crate) async fn io_values_are_stored_overwritten_and_missing_ones_are_none(db: Fresh) {
    let store = db.open().await;
    let first = Value::json("[1,2,3]");
    store
        .put_io_value(output("r1", "generate", "result"), &first, 1_000)
        .await
        .expect("put");
    let stored = store
        .io_value(output("r1", "generate", "result"))
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.value, first);
    assert_eq!((stored.size_bytes, stored.stored_ms), (7, 1_000));

    // Storing again replaces it (a retried step), codec and all.
    let binary = Value {
        codec: "pickle".into(),
        data: b"\x00\n\xffbytes\n".to_vec(),
    };
    store
        .put_io_value(output("r1", "generate", "result"), &binary, 2_000)
        .await
        .expect("overwrite");
    let stored = store
        .io_value(output("r1", "generate", "result"))
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.value, binary, "bytes come back as they went in");
    assert_eq!((stored.size_bytes, stored.stored_ms), (9, 2_000));

    // Keys are kept apart: another run, step or output, and an asset, are missing.
    for missing in [
        output("r2", "generate", "result"),
        output("r1", "other", "result"),
        output("r1", "generate", "other"),
    ] {
        assert_eq!(
            store.io_value(missing).await.expect("get"),
            None,
            "{missing}"
        );
    }
    let orders = AssetKey::parse("warehouse/orders");
    assert_eq!(
        store.io_value(IoKey::Asset(&orders)).await.expect("get"),
        None
    );

    // An asset's value, overwritten by its next materialization; an empty value is a value.
    store
        .put_io_value(IoKey::Asset(&orders), &Value::json("10"), 3_000)
        .await
        .expect("put asset");
    store
        .put_io_value(IoKey::Asset(&orders), &Value::json(""), 4_000)
        .await
        .expect("overwrite asset");
    let stored = store
        .io_value(IoKey::Asset(&orders))
        .await
        .expect("get")
        .expect("stored");
    assert_eq!((stored.value, stored.size_bytes), (Value::json(""), 0));
    let other = AssetKey::parse("warehouse");
    assert_eq!(
        store.io_value(IoKey::Asset(&other)).await.expect("get"),
        None
    );

    // Another handle on the database (another process) reads the same values.
    let elsewhere = db.open().await;
    let seen = elsewhere
        .io_value(output("r1", "generate", "result"))
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(seen.value, binary);

    // Keys that cannot be told apart are refused, saying what was being done.
    let err = store
        .put_io_value(output("", "generate", "result"), &first, 5_000)
        .await
        .expect_err("no run");
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(
        err.to_string().starts_with(
            "storing the value of output result of step generate of run  in the database: "
        ),
        "{err}"
    );
}

pub(crate) async fn the_database_io_manager_refuses_large_values_and_names_missing_ones(db: Fresh) {
    let store = db.open().await;
    let io = Arc::new(DatabaseIoManager::new(
        store.clone(),
        tokio::runtime::Handle::current(),
        16,
    ));
    let url = db.url.clone();

    // From a plain thread, as the executor's threads call it.
    let on_thread = io.clone();
    tokio::task::spawn_blocking(move || {
        let io = on_thread;
        let value = Value::json("[1,2,3]");
        io.store_output("r1", "generate", "result", &value)
            .expect("store");
        assert_eq!(
            io.load_output("r1", "generate", "result").expect("load"),
            value
        );
        let key = AssetKey::parse("warehouse/orders");
        io.store_asset(&key, &Value::json("1"))
            .expect("store asset");
        io.store_asset(&key, &Value::json("2"))
            .expect("overwrite asset");
        assert_eq!(io.load_asset(&key).expect("load asset"), Value::json("2"));

        // Exactly the limit is fine; one byte more is refused with what to do instead.
        io.store_output("r1", "edge", "result", &Value::json("x".repeat(16)))
            .expect("at the limit");
        let err = io
            .store_output("r1", "big", "result", &Value::json("x".repeat(17)))
            .expect_err("over the limit");
        let message = err.to_string();
        for part in [
            "output result of step big of run r1 is 17 bytes",
            "limit of 16 bytes",
            "io_manager: filesystem",
            "s3",
            "max_bytes",
        ] {
            assert!(message.contains(part), "{part:?} in {message}");
        }
        let err = io
            .store_asset(&AssetKey::parse("huge"), &Value::json("y".repeat(100)))
            .expect_err("over the limit");
        assert!(
            err.to_string().starts_with("asset huge is 100 bytes"),
            "{err}"
        );
        assert!(
            io.load_output("r1", "big", "result").is_err(),
            "nothing was stored"
        );

        // A missing value is named.
        let err = io.load_output("r1", "nope", "result").expect_err("missing");
        assert!(
            err.to_string()
                .starts_with("output result of step nope of run r1 has no stored value"),
            "{err}"
        );
        let err = io
            .load_asset(&AssetKey::parse("never/made"))
            .expect_err("missing");
        assert!(
            err.to_string()
                .starts_with("asset never/made has no stored value (looked in table io_values"),
            "{err}"
        );
    })
    .await
    .expect("the thread's checks");

    // From a worker of a multi-threaded runtime (a step's own process reads its inputs
    // there), on a store opened on that runtime; and from the same runtime's block_on.
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let store = runtime
            .block_on(weft_store::Store::connect(&url))
            .expect("open store");
        let io = Arc::new(DatabaseIoManager::new(
            store.clone(),
            runtime.handle().clone(),
            DatabaseIoManager::DEFAULT_MAX_BYTES,
        ));
        let on_worker = io.clone();
        let loaded = runtime
            .block_on(
                runtime.spawn(async move { on_worker.load_output("r1", "generate", "result") }),
            )
            .expect("the task")
            .expect("load on a worker");
        assert_eq!(loaded, Value::json("[1,2,3]"));
        let loaded = runtime
            .block_on(async { io.load_asset(&AssetKey::parse("warehouse/orders")) })
            .expect("load in block_on");
        assert_eq!(loaded, Value::json("2"));
        runtime.block_on(store.close());
    })
    .await
    .expect("the runtime's checks");
}
