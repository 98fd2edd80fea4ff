//! The loopback HTTP servers of the network tests and benchmark: one plain, one HTTPS with
//! a certificate for `localhost` and `127.0.0.1` signed by a CA made at start (its PEM
//! written to a file, for weft.yaml's `http.ca_file`), and a TCP echo server. Each counts
//! the connections it accepted, so a test can say the server saw nothing. Bound to
//! 127.0.0.1 on a free port; never any other address.
//!
//! Routes: `GET /json` (`{"hello":"world"}`), `POST /echo` (`{"got": <the JSON body>}`),
//! `GET /big?bytes=N` (N bytes), `GET /slow?ms=N` (answers after N ms),
//! `GET /redirect?to=URL` (302 to URL), `GET /orders.json` (examples/http-json's file).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The servers, running on their own runtime until dropped.
pub struct TestServers {
    _runtime: tokio::runtime::Runtime,
    /// `http://127.0.0.1:PORT`.
    pub http: String,
    /// `https://localhost:PORT` (the same routes, over TLS).
    pub https: String,
    /// `127.0.0.1:PORT` of the TCP echo server (a line in, the same line out).
    pub echo: String,
    /// The test CA's certificate (PEM).
    pub ca_file: PathBuf,
    http_accepted: Arc<AtomicUsize>,
    https_accepted: Arc<AtomicUsize>,
    echo_accepted: Arc<AtomicUsize>,
}

impl TestServers {
    /// Starts the servers; the CA's PEM is written into `dir`.
    pub fn start(dir: &Path) -> Result<TestServers, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let (tls, ca_pem) = tls_config()?;
        let ca_file = dir.join("test-ca.pem");
        std::fs::write(&ca_file, ca_pem).map_err(|e| e.to_string())?;
        let (http, https, echo) = runtime
            .block_on(async {
                let http = TcpListener::bind("127.0.0.1:0").await?;
                let https = TcpListener::bind("127.0.0.1:0").await?;
                let echo = TcpListener::bind("127.0.0.1:0").await?;
                Ok::<_, std::io::Error>((http, https, echo))
            })
            .map_err(|e| e.to_string())?;
        let addr = |l: &TcpListener| l.local_addr().map_err(|e| e.to_string());
        let (http_addr, https_addr, echo_addr) = (addr(&http)?, addr(&https)?, addr(&echo)?);
        let servers = TestServers {
            http: format!("http://{http_addr}"),
            https: format!("https://localhost:{}", https_addr.port()),
            echo: echo_addr.to_string(),
            ca_file,
            http_accepted: Arc::default(),
            https_accepted: Arc::default(),
            echo_accepted: Arc::default(),
            _runtime: runtime,
        };
        let plain = Counting {
            inner: http,
            accepted: servers.http_accepted.clone(),
            tls: None,
        };
        let secure = Counting {
            inner: https,
            accepted: servers.https_accepted.clone(),
            tls: Some(tokio_rustls::TlsAcceptor::from(tls)),
        };
        let handle = servers._runtime.handle();
        handle.spawn(async move { axum::serve(plain, routes()).await });
        handle.spawn(async move { axum::serve(secure, routes()).await });
        handle.spawn(echo_server(echo, servers.echo_accepted.clone()));
        Ok(servers)
    }

    /// Connections accepted so far by the HTTP, HTTPS and echo servers.
    pub fn accepted(&self) -> (usize, usize, usize) {
        (
            self.http_accepted.load(Ordering::SeqCst),
            self.https_accepted.load(Ordering::SeqCst),
            self.echo_accepted.load(Ordering::SeqCst),
        )
    }
}

fn routes() -> axum::Router {
    axum::Router::new()
        .route("/json", get(|| async { Json(json!({"hello": "world"})) }))
        .route(
            "/echo",
            post(|Json(body): Json<Value>| async move { Json(json!({ "got": body })) }),
        )
        .route("/big", get(big))
        .route("/slow", get(slow))
        .route("/redirect", get(redirect))
        .route(
            "/orders.json",
            get(|| async {
                let file = crate::repo_root().join("examples/http-json/orders.json");
                std::fs::read(file).map_err(|_| StatusCode::NOT_FOUND)
            }),
        )
}

#[derive(serde::Deserialize)]
struct Big {
    bytes: usize,
}

async fn big(Query(q): Query<Big>) -> impl IntoResponse {
    vec![b'x'; q.bytes]
}

#[derive(serde::Deserialize)]
struct Slow {
    ms: u64,
}

async fn slow(Query(q): Query<Slow>) -> impl IntoResponse {
    tokio::time::sleep(Duration::from_millis(q.ms)).await;
    Json(json!({"slept_ms": q.ms}))
}

#[derive(serde::Deserialize)]
struct Redirect {
    to: String,
}

async fn redirect(Query(q): Query<Redirect>) -> impl IntoResponse {
    (StatusCode::FOUND, [(header::LOCATION, q.to)])
}

/// A line in, the same line out, then the connection closes.
async fn echo_server(listener: TcpListener, accepted: Arc<AtomicUsize>) {
    while let Ok((stream, _)) = listener.accept().await {
        accepted.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut line = String::new();
            if BufReader::new(read).read_line(&mut line).await.is_ok() {
                let _ = write.write_all(line.as_bytes()).await;
            }
        });
    }
}

/// A listener that counts what it accepts, and does TLS when given an acceptor.
struct Counting {
    inner: TcpListener,
    accepted: Arc<AtomicUsize>,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

/// A plain or TLS connection.
enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl axum::serve::Listener for Counting {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        loop {
            let Ok((stream, addr)) = self.inner.accept().await else {
                continue;
            };
            self.accepted.fetch_add(1, Ordering::SeqCst);
            match &self.tls {
                None => return (Conn::Plain(stream), addr),
                Some(acceptor) => {
                    // A client that refuses the certificate ends here.
                    if let Ok(tls) = acceptor.accept(stream).await {
                        return (Conn::Tls(Box::new(tls)), addr);
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl tokio::io::AsyncRead for Conn {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => std::pin::Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Conn {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => std::pin::Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => std::pin::Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => std::pin::Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// A server configuration with a certificate for `localhost` and `127.0.0.1` signed by a
/// new CA, and that CA's PEM.
fn tls_config() -> Result<(Arc<rustls::ServerConfig>, String), String> {
    let err = |e: rcgen::Error| e.to_string();
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Weft test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(err)?).map_err(err)?;
    let key = KeyPair::generate().map_err(err)?;
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(err)?
        .signed_by(&key, &ca)
        .map_err(err)?;
    let key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der())
        .map_err(|e| e.to_string())?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .map_err(|e| e.to_string())?;
    Ok((Arc::new(config), ca.pem()))
}
