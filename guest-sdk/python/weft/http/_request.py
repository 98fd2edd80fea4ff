"""What :mod:`weft.http` sends: the URL split the way wasi:http takes it, the query and
body encodings, header values, Basic authentication, and where a redirect goes (and
whether credentials follow it).
"""

from __future__ import annotations

import base64
import json as _json
from collections.abc import Mapping
from typing import Any, Optional, Tuple
from urllib.parse import quote, urlencode, urljoin, urlsplit, urlunsplit

from ._errors import InvalidURL

MAX_REDIRECTS = 10
USER_AGENT = "weft-python"
# Headers the host sets itself (wasi:http refuses them from a guest).
HOST_HEADERS = frozenset(
    ["host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "http2-settings", "te"]
)


class Target:
    """An http(s) URL split the way wasi:http takes it."""

    def __init__(self, url: str, params: Any = None) -> None:
        if isinstance(url, (bytes, bytearray)):
            url = bytes(url).decode("utf-8")
        url = str(url).strip()
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if not scheme:
            raise InvalidURL(f"invalid URL {url!r}: no scheme (did you mean http://{url}?)")
        if scheme not in ("http", "https"):
            raise InvalidURL(f"invalid URL {url!r}: only http:// and https:// URLs are supported")
        host = parts.hostname
        if not host:
            raise InvalidURL(f"invalid URL {url!r}: no host")
        try:
            port = parts.port
        except ValueError as error:
            raise InvalidURL(f"invalid URL {url!r}: {error}") from None
        if ":" in host:  # IPv6
            host = f"[{host}]"
        elif not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError as error:
                raise InvalidURL(f"invalid URL {url!r}: bad host name ({error})") from None
        self.scheme = scheme
        self.host = host
        self.port = port
        self.authority = host if port is None else f"{host}:{port}"
        self.user = parts.username
        self.password = parts.password
        path = quote(parts.path or "/", safe="/%!$&'()*+,;=:@~")
        query = quote(parts.query, safe="/%!$&'()*+,;=:@~?[]")
        extra = encode_params(params)
        if extra:
            query = f"{query}&{extra}" if query else extra
        self.path_with_query = f"{path}?{query}" if query else path
        self.url = urlunsplit((scheme, self.authority, path, query, ""))

    def effective_port(self) -> int:
        return self.port if self.port is not None else (443 if self.scheme == "https" else 80)


def encode_params(params: Any) -> str:
    if params is None:
        return ""
    if isinstance(params, (bytes, bytearray)):
        return bytes(params).decode("latin-1")
    if isinstance(params, str):
        return params
    items = params.items() if isinstance(params, Mapping) else params
    pairs = []
    for key, value in items:
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        pairs.extend((key, v) for v in values)
    return urlencode(pairs)


def encode_body(data: Any, json: Any) -> Tuple[Optional[bytes], Optional[str]]:
    """The body's bytes and its default ``Content-Type``."""
    if json is not None and data is None:
        return _json.dumps(json).encode("utf-8"), "application/json"
    if data is None:
        return None, None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), None
    if isinstance(data, str):
        return data.encode("utf-8"), None
    if isinstance(data, Mapping) or (isinstance(data, (list, tuple)) and all(isinstance(p, (list, tuple)) for p in data)):
        return encode_params(data).encode("ascii"), "application/x-www-form-urlencoded"
    if hasattr(data, "read"):  # a file
        content = data.read()
        return (content.encode("utf-8") if isinstance(content, str) else bytes(content)), None
    try:  # an iterable of chunks
        return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in data), None
    except TypeError:
        raise TypeError(f"cannot send a body of type {type(data).__name__}") from None


def header_value(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    value = str(value)
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def basic_auth(user: str, password: str) -> str:
    token = f"{user}:{password}".encode("latin-1", errors="replace")
    return "Basic " + base64.b64encode(token).decode("ascii")


def same_origin(a: Target, b: Target) -> bool:
    """Whether credentials may follow a redirect from ``a`` to ``b`` (requests' rule: same
    host, and same scheme and port or an upgrade from http to https on default ports)."""
    if a.host.lower() != b.host.lower():
        return False
    if a.scheme == b.scheme and a.effective_port() == b.effective_port():
        return True
    return a.scheme == "http" and b.scheme == "https" and a.port in (None, 80) and b.port in (None, 443)


def redirect(method: str, url: str, status: int, location: str) -> Tuple[str, str, bool]:
    """Where a redirect goes: ``(method, url, keeps_body)``. 303 (and 301/302 from a
    POST, as browsers and requests do) turn into a GET without the body; 307 and 308 keep
    the method and body."""
    target = urljoin(url, location.strip())
    if status == 303 and method != "HEAD":
        return "GET", target, False
    if status == 302 and method not in ("GET", "HEAD"):
        return "GET", target, False
    if status == 301 and method == "POST":
        return "GET", target, False
    return method, target, True
