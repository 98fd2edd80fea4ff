//! The S3 configuration a user writes in `weft.yaml` (the CLI embeds [`S3Config`]), and
//! how it becomes an `object_store` client: the standard AWS environment first
//! (`AmazonS3Builder::from_env`: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, `AWS_REGION`, web identity, ...), then what the file says.
//!
//! ```yaml
//! bucket: weft-data
//! prefix: prod/storage          # optional: objects go under it
//! endpoint: http://minio:9000   # optional: MinIO, R2, moto (path-style requests)
//! region: eu-west-1             # default: AWS_REGION / AWS_DEFAULT_REGION, else us-east-1
//! allow_http: true              # needed for an http:// endpoint
//! credentials:                  # optional: names of variables that hold them
//!   access_key_id_env: MINIO_ACCESS_KEY
//!   secret_access_key_env: MINIO_SECRET_KEY
//!   session_token_env: MINIO_SESSION_TOKEN   # optional
//! timeout_seconds: 30           # per request (default 30)
//! max_retries: 3                # of a request that failed to connect or got a 5xx (default 3)
//! ```

use std::time::Duration;

use object_store::ClientConfigKey;
use object_store::RetryConfig;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use serde::{Deserialize, Serialize};

use crate::ObjStoreError;

/// Where values (or compute logs) live in an S3-compatible object store.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// The bucket; it must exist.
    pub bucket: String,
    /// A key prefix (`a/b`, no leading or trailing `/` needed) every object goes under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The server, for S3-compatible stores (`http://127.0.0.1:9000`); requests are then
    /// path-style (`endpoint/bucket/key`). Without it, AWS S3 (or `AWS_ENDPOINT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The region; without it `AWS_REGION`/`AWS_DEFAULT_REGION`, else `us-east-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Allows an `http://` endpoint (no TLS).
    #[serde(default)]
    pub allow_http: bool,
    /// Which environment variables hold the credentials; without it the standard AWS ones
    /// (and the rest of the AWS chain: web identity, ECS, instance metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<S3Credentials>,
    /// The longest one request may take, in seconds (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// How often a request that could not connect, or got a 5xx, is tried again (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
}

/// The names of the environment variables that hold the credentials (never the secrets
/// themselves: `weft.yaml` is not a secret store).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Credentials {
    pub access_key_id_env: String,
    pub secret_access_key_env: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token_env: Option<String>,
}

const DEFAULT_TIMEOUT_SECONDS: u64 = 30;
const DEFAULT_MAX_RETRIES: u32 = 3;

impl S3Config {
    /// The same store with `sub` appended to the prefix: `config.under("logs")` for the
    /// compute logs beside `config.under("storage")` for values.
    pub fn under(&self, sub: &str) -> S3Config {
        let sub = sub.trim_matches('/');
        let prefix = match self.prefix.as_deref().map(|p| p.trim_matches('/')) {
            Some(p) if !p.is_empty() => format!("{p}/{sub}"),
            _ => sub.to_owned(),
        };
        S3Config {
            prefix: Some(prefix),
            ..self.clone()
        }
    }

    /// The prefix as key parts, checked like every other part of a key.
    pub(crate) fn prefix_parts(&self) -> Result<Vec<String>, ObjStoreError> {
        let Some(prefix) = self.prefix.as_deref().map(|p| p.trim_matches('/')) else {
            return Ok(Vec::new());
        };
        if prefix.is_empty() {
            return Ok(Vec::new());
        }
        prefix
            .split('/')
            .map(|part| {
                if part.is_empty() || part == "." || part == ".." || part.contains(['\\', '\0']) {
                    Err(ObjStoreError::Config(format!(
                        "prefix {prefix:?} of bucket {}: {part:?} cannot be part of a key",
                        self.bucket
                    )))
                } else {
                    Ok(part.to_owned())
                }
            })
            .collect()
    }

    /// Where requests go, for messages: the endpoint, or AWS S3 in its region.
    pub(crate) fn place(&self) -> String {
        match (&self.endpoint, &self.region) {
            (Some(endpoint), _) => endpoint.clone(),
            (None, Some(region)) => format!("AWS S3 ({region})"),
            (None, None) => "AWS S3".to_owned(),
        }
    }

    /// The `object_store` client: the AWS environment, then this configuration.
    pub(crate) fn client(&self) -> Result<AmazonS3, ObjStoreError> {
        let bucket = self.bucket.trim();
        if bucket.is_empty() {
            return Err(ObjStoreError::Config("bucket is empty".into()));
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(endpoint) = &self.endpoint {
            let plain = endpoint.starts_with("http://");
            let env_allows = std::env::var("AWS_ALLOW_HTTP")
                .map(|v| v.eq_ignore_ascii_case("true"))
                .unwrap_or(false);
            if plain && !self.allow_http && !env_allows {
                return Err(ObjStoreError::Config(format!(
                    "endpoint {endpoint} of bucket {bucket} is plain HTTP: set allow_http: true \
                     (or use https://)"
                )));
            }
            builder = builder
                .with_endpoint(endpoint.trim_end_matches('/'))
                .with_virtual_hosted_style_request(false);
        }
        if self.allow_http {
            builder = builder.with_allow_http(true);
        }
        if let Some(region) = &self.region {
            builder = builder.with_region(region);
        }
        if let Some(credentials) = &self.credentials {
            let var = |name: &str| {
                std::env::var(name).map_err(|_| {
                    ObjStoreError::Config(format!(
                        "environment variable {name} (credentials of bucket {bucket}) is not set"
                    ))
                })
            };
            builder = builder
                .with_access_key_id(var(&credentials.access_key_id_env)?)
                .with_secret_access_key(var(&credentials.secret_access_key_env)?);
            if let Some(token) = &credentials.session_token_env {
                builder = builder.with_token(var(token)?);
            }
        }
        let timeout = self
            .timeout_seconds
            .unwrap_or(DEFAULT_TIMEOUT_SECONDS)
            .max(1);
        builder = builder
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
                format!("{timeout}s"),
            )
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                format!("{}s", timeout.min(5)),
            )
            .with_retry(RetryConfig {
                max_retries: self.max_retries.unwrap_or(DEFAULT_MAX_RETRIES) as usize,
                retry_timeout: Duration::from_secs(timeout.saturating_mul(2)),
                ..RetryConfig::default()
            });
        builder.build().map_err(|e| ObjStoreError::Client {
            bucket: bucket.to_owned(),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_is_strict_and_defaults_hold() -> Result<(), serde_yaml_ng::Error> {
        let config: S3Config = serde_yaml_ng::from_str(
            "bucket: b\nprefix: /a/b/\nendpoint: http://127.0.0.1:9000\nallow_http: true\n\
             credentials: { access_key_id_env: K, secret_access_key_env: S }",
        )?;
        assert_eq!(config.bucket, "b");
        assert!(config.allow_http);
        assert_eq!(config.region, None);
        assert_eq!(
            config
                .credentials
                .as_ref()
                .map(|c| c.session_token_env.clone()),
            Some(None)
        );
        assert!(matches!(config.prefix_parts().as_deref(), Ok([a, b]) if a == "a" && b == "b"));
        let err = serde_yaml_ng::from_str::<S3Config>("bucket: b\nbuckett: c")
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("unknown field `buckett`")),
            "{err:?}"
        );
        let err = serde_yaml_ng::from_str::<S3Config>("bucket: b\ncredentials: {key: x}")
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("unknown field `key`")),
            "{err:?}"
        );
        assert!(serde_yaml_ng::from_str::<S3Config>("prefix: x").is_err());
        Ok(())
    }

    #[test]
    fn bad_configurations_are_named() {
        let plain = S3Config {
            bucket: "b".into(),
            endpoint: Some("http://127.0.0.1:1".into()),
            ..S3Config::default()
        };
        // (Unless the environment allows plain HTTP for every AWS client.)
        if std::env::var_os("AWS_ALLOW_HTTP").is_none() {
            let err = plain.client().err().map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.contains("allow_http: true")),
                "{err:?}"
            );
        }
        let err = S3Config::default().client().err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("S3 configuration: bucket is empty"));
        let missing = S3Config {
            bucket: "b".into(),
            credentials: Some(S3Credentials {
                access_key_id_env: "WEFT_OBJSTORE_TEST_NOT_SET_ID".into(),
                secret_access_key_env: "WEFT_OBJSTORE_TEST_NOT_SET_SECRET".into(),
                session_token_env: None,
            }),
            ..S3Config::default()
        };
        let err = missing.client().err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(
                |e| e.contains("WEFT_OBJSTORE_TEST_NOT_SET_ID") && e.contains("bucket b")
            ),
            "{err:?}"
        );
        let dotted = S3Config {
            bucket: "b".into(),
            prefix: Some("a/../c".into()),
            ..S3Config::default()
        };
        assert!(dotted.prefix_parts().is_err());
    }

    #[test]
    fn under_appends_to_the_prefix() {
        let base = S3Config {
            bucket: "b".into(),
            ..S3Config::default()
        };
        assert_eq!(base.under("logs").prefix.as_deref(), Some("logs"));
        assert_eq!(
            base.under("logs").under("/x/").prefix.as_deref(),
            Some("logs/x")
        );
    }
}
