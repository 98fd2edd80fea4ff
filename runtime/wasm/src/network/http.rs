//! `wasi:http/outgoing-handler` under the grant: wasmtime-wasi-http builds the request
//! from the guest's resources, and hands it to [`Network`]'s `send_request` hook, which is
//! Weft's own sender. It takes the scheme, host and port from the request's URI alone (a
//! request without a host is refused: the Host header never decides where a request goes,
//! the sandbox escape of CVE-2024-32980), admits it against the grant and the budget before
//! any connection, connects (the call's deadline bounds it all), does TLS with the host's roots,
//! and meters both bodies (bytes against the budget, and the time between response bytes).

use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};
use weft_core::hosts::Scheme;

use super::{Direction, Network};

/// What the hook gives back: the response (its head), and the connection's own work.
type Sent = (
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), Error>> + Send>,
);

impl WasiHttpHooks for Network {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _io: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = Result<Sent, Error>> + Send> {
        let network = self.clone();
        Box::new(async move { network.send(request, options).await })
    }

    // The errors below are the guest's to read (in the error it gets), not the host's log.
    fn p2_error_from_hyper(&mut self, err: &hyper::Error) -> ErrorCode {
        if err.is_timeout() {
            return ErrorCode::HttpResponseTimeout;
        }
        ErrorCode::InternalError(Some(format!("HTTP: {err}")))
    }

    fn p2_error_from_connect(&mut self, err: &io::Error) -> ErrorCode {
        match err.kind() {
            io::ErrorKind::ConnectionRefused => ErrorCode::ConnectionRefused,
            io::ErrorKind::TimedOut => ErrorCode::ConnectionTimeout,
            _ => ErrorCode::InternalError(Some(format!("connect: {err}"))),
        }
    }

    fn p2_error_from_tls(&mut self, err: &io::Error) -> ErrorCode {
        ErrorCode::InternalError(Some(format!("TLS: {err}")))
    }
}

/// Where a request goes, from its URI alone.
struct Target {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl Target {
    fn of(uri: &Uri) -> Result<Self, String> {
        let scheme = match uri.scheme_str() {
            Some("http") => Scheme::Http,
            Some("https") => Scheme::Https,
            other => {
                return Err(format!(
                    "scheme {} is not supported: http or https",
                    other.unwrap_or("(none)")
                ));
            }
        };
        let authority = uri
            .authority()
            .filter(|a| !a.host().is_empty())
            .ok_or("a request without a host is refused: give its URL a host")?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let port = authority
            .port_u16()
            .or(scheme.default_port())
            .ok_or("a request without a port")?;
        Ok(Target { scheme, host, port })
    }
}

fn refused(message: String) -> Error {
    Error::InternalError(Some(message))
}

/// A connection, plain or TLS.
trait Stream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static> Stream for T {}

impl Network {
    /// Sends `request` if the grant allows where it goes, within the deadline and budget.
    async fn send(
        self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
    ) -> Result<Sent, Error> {
        // From here on the request's body is metered: dropped before its end (a refused
        // request, a connection that failed or finished early), it is drained, so that the
        // guest still writing it hears the answer, not a closed stream.
        let request = request.map(|body| Metered::new(body, self.clone(), Direction::Out, None));
        let target = Target::of(request.uri()).map_err(refused)?;
        self.admit(target.scheme, &target.host, target.port)
            .map_err(refused)?;
        // The call's deadline bounds every request: at it, the call stops (its step fails
        // with a timeout) and its requests are dropped with its resources. Only the timeouts
        // the guest asks for are timed here (a timer each costs a wake-up).
        let options = options.unwrap_or_default();
        let connect = options.connect_timeout;
        let first_byte = options.first_byte_timeout;
        let between_bytes = options.between_bytes_timeout;

        let endpoint = format!("{}:{}", target.host, target.port);
        let tcp = TcpStream::connect((&*target.host, target.port));
        let tcp = limited(connect, tcp, || Error::ConnectionTimeout)
            .await?
            .map_err(Error::Connect)?;
        let stream: Box<dyn Stream> = if target.scheme == Scheme::Https {
            let config = self.tls.config().map_err(refused)?;
            let name = ServerName::try_from(target.host.clone())
                .map_err(|e| refused(format!("{}: not a TLS server name: {e}", target.host)))?;
            let tls = tokio_rustls::TlsConnector::from(config).connect(name, tcp);
            let tls = limited(connect, tls, || Error::ConnectionTimeout)
                .await?
                .map_err(|e| refused(format!("TLS with {endpoint}: {e}")))?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let handshake = hyper::client::conn::http1::handshake(TokioIo::new(stream));
        let (mut sender, conn) = limited(connect, handshake, || Error::ConnectionTimeout).await??;

        // The request line carries the path only; the Host header was set from the URI.
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let path = Uri::try_from(path).map_err(|e| refused(format!("URI: {e}")))?;
        let mut request = request;
        *request.uri_mut() = path;

        let mut conn = Some(Box::pin(conn));
        let send = sender.send_request(request);
        let mut send = pin!(limited(first_byte, send, || Error::ConnectionReadTimeout));
        // The connection is driven while the response's head is awaited; after, it is
        // the caller's to drive (wasmtime-wasi-http spawns it beside the response).
        let response = poll_fn(|cx| {
            if let Some(driving) = conn.as_mut()
                && let Poll::Ready(ended) = driving.as_mut().poll(cx)
            {
                conn = None;
                if let Err(e) = ended {
                    return Poll::Ready(Err(Error::from(e)));
                }
            }
            send.as_mut()
                .poll(cx)
                .map(|sent| sent.and_then(|answer| answer.map_err(Error::from)))
        })
        .await?;
        let network = self.clone();
        let response = response.map(move |body| {
            let body = body.map_err(Error::from);
            Metered::new(body, network, Direction::In, between_bytes).boxed_unsync()
        });
        let io = async move {
            match conn {
                Some(conn) => conn.await.map_err(Error::from),
                None => Ok(()),
            }
        };
        Ok((response, Box::new(io)))
    }
}

/// `work`, within `limit` if one is given (else `timed_out`).
async fn limited<T>(
    limit: Option<Duration>,
    work: impl Future<Output = T>,
    timed_out: fn() -> Error,
) -> Result<T, Error> {
    match limit {
        None => Ok(work.await),
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .map_err(|_| timed_out()),
    }
}

/// A body metered as it flows: its bytes counted against the call's budget, and for a
/// response, the time between its bytes bounded.
struct Metered<B: Body<Data = Bytes, Error = Error> + Send + Unpin + 'static> {
    /// The body; taken by the drain when a request body is dropped before its end.
    inner: Option<B>,
    network: Network,
    direction: Direction,
    /// How long the next frame may take, and when that ends.
    idle: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
}

impl<B: Body<Data = Bytes, Error = Error> + Send + Unpin + 'static> Metered<B> {
    fn new(inner: B, network: Network, direction: Direction, idle: Option<Duration>) -> Self {
        let idle = idle.map(|d| (d, Box::pin(tokio::time::sleep(d))));
        Metered {
            inner: Some(inner),
            network,
            direction,
            idle,
        }
    }
}

impl<B: Body<Data = Bytes, Error = Error> + Send + Unpin + 'static> Drop for Metered<B> {
    /// A request body dropped before its end is read to its end (or to the call's, which
    /// closes it) and thrown away, not counted: its guest's writes then go on succeeding.
    fn drop(&mut self) {
        if let (Direction::Out, Some(mut body)) = (self.direction, self.inner.take())
            && !body.is_end_stream()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move { while let Some(Ok(_)) = body.frame().await {} });
        }
    }
}

impl<B> Body for Metered<B>
where
    B: Body<Data = Bytes, Error = Error> + Send + Unpin + 'static,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref()
                    && let Err(over) = this.network.count(this.direction, data.len())
                {
                    return Poll::Ready(Some(Err(refused(over))));
                }
                if let Some((every, until)) = &mut this.idle {
                    until.as_mut().reset(tokio::time::Instant::now() + *every);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                if let Some((_, until)) = &mut this.idle
                    && until.as_mut().poll(cx).is_ready()
                {
                    return Poll::Ready(Some(Err(Error::ConnectionReadTimeout)));
                }
                Poll::Pending
            }
            ended => ended,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}
