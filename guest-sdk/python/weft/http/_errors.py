"""The exceptions of :mod:`weft.http` and the texts of wasi:http's error codes.

:class:`RequestError` (requests' ``RequestException``) is raised when a request gets no
response; its subclasses say why. :func:`error_from_code` turns one of wasi:http's
``error-code`` values into the exception a user sees, with the host's message verbatim
when it gave one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

if TYPE_CHECKING:  # pragma: no cover
    from ._response import Response


class RequestError(Exception):
    """A request that got no response: refused by the host (not granted, over budget),
    unreachable, timed out, or malformed.

    ``str(error)`` is ``"<METHOD> <url>: <what happened>"``; what happened is the host's
    message verbatim when it gave one (``... is not granted to location etl: grant it with
    --grant-host http://127.0.0.1:9``). ``code`` is the ``wasi:http`` error code
    (``"internal-error"``, ``"connection-refused"``, ...) when there was one, ``reason`` the
    text after the URL, ``response`` the response when there was one (:class:`HTTPError`,
    :class:`TooManyRedirects`).
    """

    def __init__(
        self,
        message: str,
        *,
        method: Optional[str] = None,
        url: Optional[str] = None,
        code: Optional[str] = None,
        response: Optional["Response"] = None,
    ) -> None:
        self.reason = message
        self.method = method
        self.url = url
        self.code = code
        self.response = response
        if method and url:
            message = f"{method} {url}: {message}"
        super().__init__(message)


RequestException = RequestError  # requests' name


class ConnectionError(RequestError):  # noqa: A001 - requests' name, shadowing the builtin in weft.http only
    """No connection: DNS, refused, reset, TLS."""


class Timeout(RequestError):
    """A connect, first-byte or between-bytes timeout passed."""


class InvalidURL(RequestError, ValueError):
    """The URL is not an ``http://`` or ``https://`` URL the request can go to."""


class TooManyRedirects(RequestError):
    """More than ``MAX_REDIRECTS`` (10) redirects; ``response`` is the last one."""


class HTTPError(RequestError):
    """Raised by :meth:`Response.raise_for_status` for a 4xx or 5xx; ``response`` is it."""


# wasi:http's error codes: (the exception, what happened), by the generated class's name.
_ERRORS: Dict[str, Tuple[type, str]] = {
    "DnsTimeout": (Timeout, "DNS lookup timed out"),
    "DnsError": (ConnectionError, "DNS lookup failed"),
    "DestinationNotFound": (ConnectionError, "destination not found"),
    "DestinationUnavailable": (ConnectionError, "destination unavailable"),
    "DestinationIpProhibited": (ConnectionError, "destination IP address prohibited"),
    "DestinationIpUnroutable": (ConnectionError, "destination IP address unroutable"),
    "ConnectionRefused": (ConnectionError, "connection refused"),
    "ConnectionTerminated": (ConnectionError, "connection terminated"),
    "ConnectionTimeout": (Timeout, "connection timed out"),
    "ConnectionReadTimeout": (Timeout, "timed out reading from the connection"),
    "ConnectionWriteTimeout": (Timeout, "timed out writing to the connection"),
    "ConnectionLimitReached": (ConnectionError, "connection limit reached"),
    "TlsProtocolError": (ConnectionError, "TLS protocol error"),
    "TlsCertificateError": (ConnectionError, "TLS certificate error: the server's certificate is not trusted"),
    "TlsAlertReceived": (ConnectionError, "TLS alert received"),
    "HttpRequestDenied": (RequestError, "request denied"),
    "HttpRequestLengthRequired": (RequestError, "the server requires a Content-Length"),
    "HttpRequestBodySize": (RequestError, "request body too large"),
    "HttpRequestMethodInvalid": (RequestError, "invalid request method"),
    "HttpRequestUriInvalid": (InvalidURL, "invalid request URL"),
    "HttpRequestUriTooLong": (InvalidURL, "request URL too long"),
    "HttpRequestHeaderSectionSize": (RequestError, "request headers too large"),
    "HttpRequestHeaderSize": (RequestError, "request header too large"),
    "HttpRequestTrailerSectionSize": (RequestError, "request trailers too large"),
    "HttpRequestTrailerSize": (RequestError, "request trailer too large"),
    "HttpResponseIncomplete": (ConnectionError, "response incomplete"),
    "HttpResponseHeaderSectionSize": (RequestError, "response headers too large"),
    "HttpResponseHeaderSize": (RequestError, "response header too large"),
    "HttpResponseBodySize": (RequestError, "response body too large"),
    "HttpResponseTrailerSectionSize": (RequestError, "response trailers too large"),
    "HttpResponseTrailerSize": (RequestError, "response trailer too large"),
    "HttpResponseTransferCoding": (RequestError, "unsupported response transfer coding"),
    "HttpResponseContentCoding": (RequestError, "unsupported response content coding"),
    "HttpResponseTimeout": (Timeout, "timed out waiting for the response"),
    "HttpUpgradeFailed": (RequestError, "HTTP upgrade failed"),
    "HttpProtocolError": (ConnectionError, "HTTP protocol error"),
    "LoopDetected": (RequestError, "loop detected"),
    "ConfigurationError": (RequestError, "configuration error"),
    "InternalError": (RequestError, "internal error"),
}


def kebab(name: str) -> str:
    """``HttpResponseBodySize`` → ``http-response-body-size`` (the WIT name)."""
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i:
            out.append("-")
        out.append(c.lower())
    return "".join(out)


def _detail(case: str, value: Any) -> str:
    """The readable part of an error code's payload, or ``""``."""
    if value is None:
        return ""
    if case == "DnsError":
        parts = [f"rcode {value.rcode}" if value.rcode else "", f"info code {value.info_code}" if value.info_code is not None else ""]
        return ", ".join(p for p in parts if p)
    if case == "TlsAlertReceived":
        parts = [value.alert_message or "", f"alert {value.alert_id}" if value.alert_id is not None else ""]
        return ", ".join(p for p in parts if p)
    if hasattr(value, "field_name"):  # field-size-payload
        parts = [value.field_name or "", f"{value.field_size} bytes" if value.field_size is not None else ""]
        return ", ".join(p for p in parts if p)
    if isinstance(value, int):
        return f"limit {value} bytes" if case.endswith("BodySize") else f"{value} bytes"
    return str(value)


def error_from_code(code: Any, method: Optional[str] = None, url: Optional[str] = None) -> RequestError:
    """The exception for one of wasi:http's ``error-code`` values: the host's message
    verbatim for ``internal-error(some(message))``, a readable text otherwise."""
    name = type(code).__name__
    case = name[len("ErrorCode_"):] if name.startswith("ErrorCode_") else name
    kind, text = _ERRORS.get(case, (RequestError, ""))
    value = getattr(code, "value", None)
    if case == "InternalError" and value:
        text = str(value)
    else:
        detail = _detail(case, value)
        if not text:
            text = kebab(case).replace("-", " ")
        if detail:
            text = f"{text} ({detail})"
    return kind(text, method=method, url=url, code=kebab(case))
