//! The client commands of a running `weft serve`, through its HTTP API:
//! `weft location add|upload|list|history|rollback|remove` (an upload sends the component
//! with its sha256, so a file changed or cut short on the way is refused by the server),
//! and `weft schedule|sensor start|stop|list`.

use anyhow::{Context, anyhow};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use weft_wasm::digest_of;

use crate::{Failure, InstigatorCommand, LocationCommand, ServerOpts};

/// A client of one server.
struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    fn new(server: &ServerOpts) -> Result<Self, Failure> {
        let base = server.server.trim_end_matches('/').to_owned();
        if !base.starts_with("http://") {
            return Err(Failure::BadInput(anyhow!(
                "--server {base:?}: give an http:// URL (this build speaks plain HTTP; put TLS in front of the server)"
            )));
        }
        Ok(Client {
            http: reqwest::Client::new(),
            base,
            token: server.token.clone().filter(|t| !t.is_empty()),
        })
    }

    /// Sends a request and returns the status and JSON body (`null` when empty). A 4xx is the
    /// user's input; anything else that is not a success is the server's failure.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<(Vec<u8>, &str)>,
    ) -> Result<(StatusCode, Value), Failure> {
        let url = format!("{}/api{path}", self.base);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some((bytes, content_type)) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.base))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .with_context(|| format!("reading the answer to {method} {url}"))?;
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_success() {
            return Ok((status, value));
        }
        let message = value["error"]
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        let e = anyhow!("the server answered {status}: {message}");
        Err(if status.is_client_error() {
            Failure::BadInput(e)
        } else {
            Failure::Failed(Some(e))
        })
    }
}

pub async fn run(command: LocationCommand, server: ServerOpts) -> Result<(), Failure> {
    let client = Client::new(&server)?;
    let json = server.json;
    let answer = match command {
        LocationCommand::Add { name, file } => {
            let exists = client
                .call(Method::GET, &format!("/locations/{name}"), None)
                .await;
            if exists.is_ok() {
                return Err(Failure::BadInput(anyhow!(
                    "code location {name} exists already: `weft location upload {name} FILE` makes a new version"
                )));
            }
            upload(&client, &name, &file).await?
        }
        LocationCommand::Upload { name, file } => upload(&client, &name, &file).await?,
        LocationCommand::List => client.call(Method::GET, "/locations", None).await?.1,
        LocationCommand::History { name } => {
            client
                .call(Method::GET, &format!("/locations/{name}/versions"), None)
                .await?
                .1
        }
        LocationCommand::Rollback { name, digest } => {
            let body = serde_json::json!({ "digest": digest }).to_string();
            client
                .call(
                    Method::POST,
                    &format!("/locations/{name}/rollback"),
                    Some((body.into_bytes(), "application/json")),
                )
                .await?
                .1
        }
        LocationCommand::Remove { name } => {
            client
                .call(Method::DELETE, &format!("/locations/{name}"), None)
                .await?;
            serde_json::json!({ "removed": name })
        }
    };
    if json {
        println!("{answer}");
    } else {
        print_human(&answer);
    }
    Ok(())
}

async fn upload(client: &Client, name: &str, file: &std::path::Path) -> Result<Value, Failure> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("cannot read {}", file.display()))
        .map_err(Failure::BadInput)?;
    let digest = digest_of(&bytes);
    let (_, answer) = client
        .call(
            Method::POST,
            &format!("/locations/{name}?sha256={digest}"),
            Some((bytes, "application/wasm")),
        )
        .await?;
    Ok(answer)
}

/// One line per location or version, or the answer's main fields.
fn print_human(answer: &Value) {
    let line = |v: &Value| {
        let name = v["name"].as_str().unwrap_or_default();
        let digest = v["digest"].as_str().unwrap_or_default();
        let current = if v["current"].as_bool() == Some(true) {
            "  (current)"
        } else {
            ""
        };
        let counts = &v["counts"];
        let hosts = strings(&v["hosts"]);
        let hosts = if hosts.is_empty() {
            String::new()
        } else {
            format!("  hosts {}", hosts.join(", "))
        };
        format!(
            "{name}{}{digest}  {} jobs, {} assets, {} schedules, {} sensors{hosts}{current}",
            if name.is_empty() { "" } else { "  " },
            counts["jobs"].as_u64().unwrap_or(0) + counts["asset_jobs"].as_u64().unwrap_or(0),
            counts["assets"].as_u64().unwrap_or(0),
            counts["schedules"].as_u64().unwrap_or(0),
            counts["sensors"].as_u64().unwrap_or(0),
        )
    };
    match answer {
        Value::Array(items) if items.is_empty() => println!("(none)"),
        Value::Array(items) => items.iter().for_each(|v| println!("{}", line(v))),
        Value::Object(map) if map.contains_key("removed") => {
            println!("removed {}", answer["removed"].as_str().unwrap_or_default());
        }
        other => println!("{}", line(other)),
    }
}

/// What a run-status sensor watches, for `weft sensor list`: `  on runs of j that end
/// FAILURE`; nothing for a schedule or a plain sensor.
fn watches(kind: &Value) -> String {
    if kind["type"] != "run_status" {
        return String::new();
    }
    let jobs = strings(&kind["monitored_jobs"]);
    let jobs = if jobs.is_empty() {
        "every job".to_owned()
    } else {
        jobs.join(", ")
    };
    let anywhere = if kind["all_locations"] == true {
        " of every location"
    } else {
        ""
    };
    format!(
        "  on runs of {jobs}{anywhere} that end {}",
        kind["status"].as_str().unwrap_or_default()
    )
}

/// `weft schedule|sensor start|stop|list`; `kind` is `schedules` or `sensors`.
pub async fn instigator(kind: &str, command: InstigatorCommand) -> Result<(), Failure> {
    let (server, action) = match &command {
        InstigatorCommand::Start { server, .. } => (server, Some("start")),
        InstigatorCommand::Stop { server, .. } => (server, Some("stop")),
        InstigatorCommand::List { server } => (server, None),
    };
    let client = Client::new(server)?;
    let (_, all) = client.call(Method::GET, &format!("/{kind}"), None).await?;
    let Some(action) = action else {
        if server.json {
            println!("{all}");
        } else {
            for item in all.as_array().into_iter().flatten() {
                println!(
                    "{}/{}  {}  {}{}",
                    item["location"].as_str().unwrap_or_default(),
                    item["name"].as_str().unwrap_or_default(),
                    item["status"].as_str().unwrap_or_default(),
                    item["cron"].as_str().map_or_else(
                        || format!("every {} s", item["minimum_interval_seconds"]),
                        str::to_owned
                    ),
                    watches(&item["kind"]),
                );
            }
        }
        return Ok(());
    };
    let (InstigatorCommand::Start { name, location, .. }
    | InstigatorCommand::Stop { name, location, .. }) = &command
    else {
        return Ok(());
    };
    // The location: as given, or the one live location that defines the name.
    let location = match location {
        Some(l) => l.clone(),
        None => {
            let defining: Vec<&str> = all
                .as_array()
                .into_iter()
                .flatten()
                .filter(|i| i["name"] == name.as_str())
                .filter_map(|i| i["location"].as_str())
                .collect();
            match defining.as_slice() {
                [one] => (*one).to_owned(),
                [] => {
                    return Err(Failure::BadInput(anyhow!(
                        "no code location of {} defines a {} {name:?}",
                        server.server,
                        kind.trim_end_matches('s')
                    )));
                }
                many => {
                    return Err(Failure::BadInput(anyhow!(
                        "{name:?} is defined by {}: give --location",
                        many.join(", ")
                    )));
                }
            }
        }
    };
    let (_, state) = client
        .call(
            Method::POST,
            &format!("/{kind}/{location}/{name}/{action}"),
            None,
        )
        .await?;
    if server.json {
        println!("{state}");
    } else {
        println!(
            "{location}/{name}: {}",
            state["status"].as_str().unwrap_or_default()
        );
    }
    Ok(())
}

/// The strings of a JSON array (none for anything else).
fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}
