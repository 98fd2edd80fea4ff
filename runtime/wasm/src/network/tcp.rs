//! TCP through `wasi:sockets` under the grant: wasmtime-wasi asks [`socket_check`] before
//! each bind, listen, accept, connect and datagram. Only a connect to a granted
//! `tcp://host:port` passes (and the unnamed bind that a connect makes first); a grant that
//! names a host is matched by looking the name up and comparing addresses; the guest's
//! own lookups (`lookup.rs`) are of granted names only. Listening, accepting and UDP are
//! refused. A refused connect fails in the guest as "access denied"
//! and the step's log says which grant would allow it.

use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;

use wasmtime_wasi::sockets::SocketAddrUse;
use weft_core::hosts::Scheme;

use super::Network;

/// What wasmtime-wasi's socket check gets back.
type Verdict = Pin<Box<dyn Future<Output = bool> + Send + Sync>>;

/// The socket check of a call under `network`.
pub(crate) fn socket_check(
    network: Network,
) -> impl Fn(SocketAddr, SocketAddrUse) -> Verdict + Send + Sync + 'static {
    move |addr, usage| {
        let network = network.clone();
        Box::pin(async move {
            match usage {
                // A connect binds its socket to an unnamed local address first.
                SocketAddrUse::TcpBind => addr.ip().is_unspecified() && addr.port() == 0,
                SocketAddrUse::TcpConnect => network.admit_connect(addr).await,
                _ => false,
            }
        })
    }
}

impl Network {
    /// Admits a connect to `addr`: granted by address, or by a granted name that resolves
    /// to it.
    async fn admit_connect(&self, addr: SocketAddr) -> bool {
        let (ip, port) = (addr.ip().to_string(), addr.port());
        if !self.allows(Scheme::Tcp, &ip, port) {
            let names: Vec<String> = self
                .hosts
                .iter()
                .filter_map(|p| p.host_name(Scheme::Tcp))
                .filter(|name| self.allows(Scheme::Tcp, name, port))
                .map(str::to_owned)
                .collect();
            for name in names {
                let lookup = (name.clone(), port);
                let found = tokio::task::spawn_blocking(move || lookup.to_socket_addrs()).await;
                if let Ok(Ok(mut found)) = found
                    && found.any(|a| a.ip() == addr.ip())
                {
                    return self.admit(Scheme::Tcp, &name, port).is_ok();
                }
            }
        }
        self.admit(Scheme::Tcp, &ip, port).is_ok()
    }
}
