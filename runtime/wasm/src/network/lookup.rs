//! `wasi:sockets/ip-name-lookup` under the grant, in place of wasmtime-wasi's: a name is
//! looked up only when a `tcp://` grant names it (or matches it with a wildcard); any
//! other lookup fails as the resolver's, and the step's log says which name was refused.

use wasmtime::component::{HasData, Linker, Resource};
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{
    self, Host, HostResolveAddressStream, ResolveAddressStream,
};
use wasmtime_wasi::p2::bindings::sockets::network::{self, ErrorCode, IpAddress, Network as Net};
use wasmtime_wasi::p2::{DynPollable, SocketError};
use wasmtime_wasi::sockets::WasiSocketsCtxView;
use weft_core::hosts::Scheme;

use crate::sandbox::CallState;

/// The guest's name lookups, through the grant.
pub(crate) struct Lookup<'a> {
    sockets: WasiSocketsCtxView<'a>,
    network: &'a super::Network,
}

struct Granted;

impl HasData for Granted {
    type Data<'a> = Lookup<'a>;
}

/// Links this lookup over wasmtime-wasi's (already linked).
pub(crate) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let linked = ip_name_lookup::add_to_linker::<CallState, Granted>(linker, |state| {
        let (sockets, network) = state.sockets_and_network();
        Lookup { sockets, network }
    });
    linker.allow_shadowing(false);
    linked
}

impl Host for Lookup<'_> {
    fn resolve_addresses(
        &mut self,
        network: Resource<Net>,
        name: String,
    ) -> Result<Resource<ResolveAddressStream>, SocketError> {
        let granted = self
            .network
            .hosts
            .iter()
            .any(|p| p.names(Scheme::Tcp, &name));
        if !granted {
            self.network.refuse(format!(
                "looking up {name} is not granted to location {}: grant a tcp://{name}:PORT",
                self.network.location
            ));
            return Err(ErrorCode::PermanentResolverFailure.into());
        }
        self.sockets.resolve_addresses(network, name)
    }
}

// The lookup's errors are the network interface's: wasmtime-wasi's, as they are.
impl network::Host for Lookup<'_> {
    fn convert_error_code(&mut self, error: SocketError) -> wasmtime::Result<ErrorCode> {
        self.sockets.convert_error_code(error)
    }

    fn network_error_code(
        &mut self,
        err: Resource<wasmtime_wasi::p2::bindings::sockets::network::Error>,
    ) -> wasmtime::Result<Option<ErrorCode>> {
        self.sockets.network_error_code(err)
    }
}

impl network::HostNetwork for Lookup<'_> {
    fn drop(&mut self, this: Resource<Net>) -> wasmtime::Result<()> {
        network::HostNetwork::drop(&mut self.sockets, this)
    }
}

impl HostResolveAddressStream for Lookup<'_> {
    fn resolve_next_address(
        &mut self,
        stream: Resource<ResolveAddressStream>,
    ) -> Result<Option<IpAddress>, SocketError> {
        self.sockets.resolve_next_address(stream)
    }

    fn subscribe(
        &mut self,
        stream: Resource<ResolveAddressStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        self.sockets.subscribe(stream)
    }

    fn drop(&mut self, stream: Resource<ResolveAddressStream>) -> wasmtime::Result<()> {
        HostResolveAddressStream::drop(&mut self.sockets, stream)
    }
}
