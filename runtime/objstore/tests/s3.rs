//! The S3 I/O manager, compute-log store and component store against a real S3-compatible
//! server: the one at
//! `WEFT_TEST_S3_ENDPOINT` (`source tests/s3.sh` starts moto's and exports it, with test
//! credentials in `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`). Each test makes a bucket
//! of its own. Without that variable the tests pass after saying they were skipped, unless
//! `CI` is set: then they fail.
//!
//! Every call is made from plain std threads (the test's own, or ones it spawns), as the
//! engine's executor threads make them.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures_util::TryStreamExt;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use weft_core::defs::{AssetKey, Value};
use weft_core::ports::{ComputeLogStore, IoManager};
use weft_objstore::{S3Components, S3ComputeLogs, S3Config, S3IoManager};

const ENDPOINT_VARIABLE: &str = "WEFT_TEST_S3_ENDPOINT";

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The server from `WEFT_TEST_S3_ENDPOINT`; `None` (having said so) when it is not set
/// outside CI.
fn endpoint() -> Option<String> {
    match std::env::var(ENDPOINT_VARIABLE) {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_owned()),
        _ if std::env::var_os("CI").is_some() => panic!(
            "{ENDPOINT_VARIABLE} is not set, and CI is: the S3 tests must run. Set it to an \
             S3-compatible server that accepts AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, e.g. \
             `source tests/s3.sh` (which starts moto's and exports \
             {ENDPOINT_VARIABLE}=http://127.0.0.1:PORT)"
        ),
        _ => {
            eprintln!("skipped: {ENDPOINT_VARIABLE} is not set");
            None
        }
    }
}

/// A bucket name no other test (or earlier run on the same server) uses.
fn unique_bucket(test: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "weft-{test}-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates `bucket` with a plain `PUT /bucket` (moto does not check signatures).
fn create_bucket(endpoint: &str, bucket: &str) -> Result<(), Box<dyn std::error::Error>> {
    let host = endpoint
        .strip_prefix("http://")
        .ok_or("the test endpoint must be http://")?;
    let mut stream = TcpStream::connect(host)?;
    write!(
        stream,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer.lines().next().unwrap_or_default();
    if !status.contains(" 200") {
        return Err(format!("creating bucket {bucket}: {status}").into());
    }
    Ok(())
}

/// A new bucket on the test server, and a config for it (with `prefix`).
fn fresh(test: &str, prefix: Option<&str>) -> Result<Option<S3Config>, Box<dyn std::error::Error>> {
    let Some(endpoint) = endpoint() else {
        return Ok(None);
    };
    let bucket = unique_bucket(test);
    create_bucket(&endpoint, &bucket)?;
    Ok(Some(S3Config {
        bucket,
        prefix: prefix.map(str::to_owned),
        endpoint: Some(endpoint),
        allow_http: true,
        max_retries: Some(1),
        ..S3Config::default()
    }))
}

/// Every key in the bucket, read with `object_store` directly (not through the crate).
fn list_keys(config: &S3Config) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let store = AmazonS3Builder::from_env()
        .with_bucket_name(&config.bucket)
        .with_endpoint(config.endpoint.as_deref().ok_or("no endpoint")?)
        .with_allow_http(true)
        .build()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let objects: Vec<_> = runtime.block_on(store.list(None).try_collect())?;
    let mut keys: Vec<String> = objects
        .into_iter()
        .map(|o| o.location.to_string())
        .collect();
    keys.sort();
    Ok(keys)
}

#[test]
fn an_output_stored_by_one_instance_is_read_by_another() -> TestResult {
    let Some(config) = fresh("output", None)? else {
        return Ok(());
    };
    let value = Value {
        codec: "bytes".into(),
        data: b"first line\n\x00\xffrest".to_vec(),
    };
    S3IoManager::new(&config)?.store_output("run-1", "extract/orders", "result", &value)?;
    // Another pod: a new instance on the same configuration.
    let other = S3IoManager::new(&config)?;
    assert_eq!(
        other.load_output("run-1", "extract/orders", "result")?,
        value
    );
    other.check()?;
    // The filesystem layout, from the bucket's root.
    assert_eq!(list_keys(&config)?, ["run-1/extract__orders.result"]);
    Ok(())
}

#[test]
fn assets_are_stored_by_key_under_the_prefix() -> TestResult {
    let Some(config) = fresh("assets", Some("/team/prod/"))? else {
        return Ok(());
    };
    let io = S3IoManager::new(&config)?;
    let orders = AssetKey::parse("warehouse/orders");
    let users = AssetKey::parse("users");
    io.store_asset(&orders, &Value::json("[1,2,3]"))?;
    io.store_asset(&users, &Value::json("{\"n\":2}"))?;
    io.store_asset(&orders, &Value::json("[4]"))?;
    io.store_output("r", "s", "result", &Value::json("7"))?;
    let reader = S3IoManager::new(&config)?;
    assert_eq!(reader.load_asset(&orders)?, Value::json("[4]"));
    assert_eq!(reader.load_asset(&users)?, Value::json("{\"n\":2}"));
    assert_eq!(
        list_keys(&config)?,
        [
            "team/prod/assets/users",
            "team/prod/assets/warehouse/orders",
            "team/prod/r/s.result",
        ]
    );
    // Another prefix in the same bucket sees none of it.
    let elsewhere = S3IoManager::new(&S3Config {
        prefix: Some("team/dev".into()),
        ..config.clone()
    })?;
    let err = elsewhere.load_asset(&users).err().map(|e| e.0);
    assert!(
        err.as_deref()
            .is_some_and(|e| e.starts_with("asset users has no stored value")
                && e.contains(&format!("s3://{}/team/dev/assets/users", config.bucket))),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn components_are_kept_by_digest_with_a_precompiled_form_per_engine() -> TestResult {
    let Some(config) = fresh("components", Some("weft/components"))? else {
        return Ok(());
    };
    let digest = "ab".repeat(32);
    let components = S3Components::new(&config)?;
    assert_eq!(components.get(&digest)?, None);
    components.put(&digest, b"\0asm component".to_vec())?;
    components.put_precompiled(&digest, "wasmtime-48-x86_64", b"machine code".to_vec())?;
    // A pod: another instance on the same configuration.
    let pod = S3Components::new(&config)?;
    assert_eq!(pod.get(&digest)?.as_deref(), Some(&b"\0asm component"[..]));
    assert_eq!(
        pod.get_precompiled(&digest, "wasmtime-48-x86_64")?
            .as_deref(),
        Some(&b"machine code"[..])
    );
    assert_eq!(pod.get_precompiled(&digest, "another-engine")?, None);
    assert_eq!(
        list_keys(&config)?,
        [
            format!("weft/components/{digest}.wasm"),
            format!("weft/components/{digest}/wasmtime-48-x86_64.cwasm"),
        ]
    );
    assert_eq!(
        pod.url(&digest),
        format!("s3://{}/weft/components/{digest}.wasm", config.bucket)
    );
    let refused = pod.get("../escape").unwrap_err().to_string();
    assert!(
        refused.contains("cannot be used as a storage key"),
        "{refused}"
    );
    Ok(())
}

#[test]
fn a_missing_output_names_run_step_and_output() -> TestResult {
    let Some(config) = fresh("missing", Some("storage"))? else {
        return Ok(());
    };
    let io = S3IoManager::new(&config)?;
    let err = io.load_output("run-9", "a/b", "total").err().map(|e| e.0);
    let expected = format!(
        "no stored value for output total of step a/b in run run-9 (looked for s3://{}/storage/run-9/a__b.total)",
        config.bucket
    );
    assert_eq!(err.as_deref(), Some(expected.as_str()));
    Ok(())
}

#[test]
fn compute_logs_round_trip_and_keep_every_attempt() -> TestResult {
    let Some(config) = fresh("logs", None)? else {
        return Ok(());
    };
    let logs = S3ComputeLogs::new(&config.under("logs"))?;
    logs.store("r", "a/b", b"one\n", b"")?;
    logs.store("r", "a/b", b"two\n", b"warn\n")?;
    let reader = S3ComputeLogs::new(&config.under("logs"))?;
    assert_eq!(
        reader.load("r", "a/b")?,
        (b"one\ntwo\n".to_vec(), b"warn\n".to_vec())
    );
    assert_eq!(reader.load("r", "silent")?, (Vec::new(), Vec::new()));
    assert_eq!(list_keys(&config)?, ["logs/r/a__b.err", "logs/r/a__b.out"]);
    reader.check()?;
    Ok(())
}

#[test]
fn a_bucket_that_does_not_exist_is_named() -> TestResult {
    let Some(config) = fresh("nobucket", None)? else {
        return Ok(());
    };
    let missing = S3Config {
        bucket: format!("{}-absent", config.bucket),
        ..config
    };
    let io = S3IoManager::new(&missing)?;
    let says_bucket = |err: Option<String>| {
        assert!(
            err.as_deref().is_some_and(
                |e| e.contains(&format!("S3 bucket {} does not exist", missing.bucket))
            ),
            "{err:?}"
        );
    };
    says_bucket(
        io.store_output("r", "s", "result", &Value::json("1"))
            .err()
            .map(|e| e.0),
    );
    // Not "no stored value": the bucket is what is missing.
    says_bucket(io.load_output("r", "s", "result").err().map(|e| e.0));
    says_bucket(io.check().err().map(|e| e.to_string()));
    let logs = S3ComputeLogs::new(&missing)?;
    says_bucket(logs.load("r", "s").err().map(|e| e.0));
    says_bucket(logs.store("r", "s", b"x", b"").err().map(|e| e.0));
    Ok(())
}

#[test]
fn an_unreachable_endpoint_is_named() -> TestResult {
    let Some(config) = fresh("unreachable", None)? else {
        return Ok(());
    };
    // A port nothing listens on (taken, then let go).
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let io = S3IoManager::new(&S3Config {
        endpoint: Some(endpoint.clone()),
        max_retries: Some(0),
        ..config.clone()
    })?;
    let err = io.load_output("r", "s", "result").err().map(|e| e.0);
    assert!(
        err.as_deref().is_some_and(|e| e.contains(&format!(
            "cannot reach the S3 endpoint {endpoint} for bucket {}",
            config.bucket
        ))),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn plain_threads_store_and_load_at_once() -> TestResult {
    let Some(config) = fresh("threads", Some("concurrent"))? else {
        return Ok(());
    };
    let shared = Arc::new(S3IoManager::new(&config)?);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let shared = Arc::clone(&shared);
            let config = config.clone();
            std::thread::spawn(move || -> Result<(), String> {
                // Half write through the shared instance, half through one of their own.
                let own = S3IoManager::new(&config).map_err(|e| e.to_string())?;
                let writer: &dyn IoManager = if t % 2 == 0 { &*shared } else { &own };
                for i in 0..5 {
                    let value = Value::json(format!("[{t},{i}]"));
                    let step = format!("step_{t}");
                    let output = format!("out_{i}");
                    writer
                        .store_output("run", &step, &output, &value)
                        .map_err(|e| e.0)?;
                    let read = shared.load_output("run", &step, &output).map_err(|e| e.0)?;
                    if read != value {
                        return Err(format!("{step}.{output}: read {read:?}"));
                    }
                }
                Ok(())
            })
        })
        .collect();
    for thread in threads {
        thread.join().map_err(|_| "a thread panicked")??;
    }
    let keys = list_keys(&config)?;
    assert_eq!(keys.len(), 40, "{keys:?}");
    assert!(
        keys.iter().all(|k| k.starts_with("concurrent/run/step_")),
        "{keys:?}"
    );
    Ok(())
}

#[test]
fn odd_key_characters_round_trip() -> TestResult {
    let Some(config) = fresh("odd", None)? else {
        return Ok(());
    };
    let io = S3IoManager::new(&config)?;
    let key = AssetKey(vec!["a b".into(), "c#d%e".into(), "ü".into()]);
    io.store_asset(&key, &Value::json("1"))?;
    assert_eq!(
        S3IoManager::new(&config)?.load_asset(&key)?,
        Value::json("1")
    );
    Ok(())
}

/// The list API is used above; make sure it sees what the crate wrote at the exact path.
#[test]
fn the_stored_object_is_the_filesystem_encoding() -> TestResult {
    let Some(config) = fresh("encoding", None)? else {
        return Ok(());
    };
    S3IoManager::new(&config)?.store_asset(&AssetKey::parse("x"), &Value::json("[1]"))?;
    let store = AmazonS3Builder::from_env()
        .with_bucket_name(&config.bucket)
        .with_endpoint(config.endpoint.as_deref().ok_or("no endpoint")?)
        .with_allow_http(true)
        .build()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let bytes = runtime.block_on(async {
        let found = store
            .get_opts(&Path::from("assets/x"), Default::default())
            .await?;
        found.bytes().await
    })?;
    assert_eq!(&bytes[..], b"json\n[1]");
    Ok(())
}
