//! The log server's TLS: a self-signed certificate for 127.0.0.1 made at start-up (the API
//! server, given no kubelet CA, does not verify it, as with a kubelet's own self-signed
//! serving certificate), and an axum listener that accepts TLS connections.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::Error;

/// A server configuration with a fresh self-signed certificate for 127.0.0.1 and localhost.
pub(crate) fn server_config() -> Result<Arc<rustls::ServerConfig>, Error> {
    let err = |e: &dyn std::fmt::Display| Error::Tls(e.to_string());
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(|e| err(&e))?;
    let key = rustls::pki_types::PrivateKeyDer::try_from(signing_key.serialize_der())
        .map_err(|e| err(&e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(&e))?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .map_err(|e| err(&e))?;
    Ok(Arc::new(config))
}

/// A TCP listener whose connections are TLS'd before axum sees them.
pub(crate) struct TlsListener {
    pub inner: TcpListener,
    pub acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, SocketAddr) {
        loop {
            let Ok((stream, addr)) = self.inner.accept().await else {
                continue;
            };
            // A client that gives up on the handshake costs only its connection.
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}
