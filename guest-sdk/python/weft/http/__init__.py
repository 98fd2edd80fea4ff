"""HTTP from an op: a requests-shaped client over the host's ``wasi:http``.

::

    from weft import http

    @op
    def prices(context):
        response = http.get("https://api.example.com/prices", params={"day": "2024-05-01"}, timeout=10)
        response.raise_for_status()
        return response.json()

Every request (and every redirect it follows) goes out through the host, which lets it
through only to a scheme, host and port the location's ``hosts`` grant names
(``--grant-host https://api.example.com`` on the command line, ``hosts:`` in weft.yaml),
within the step's deadline and network budget; the host does TLS. A refused request raises
:class:`RequestError` with the host's message, naming the grant that would allow it.

Calls are synchronous, like the op: each waits on the host (``pollable.block()``). The
whole body is read into ``Response.content``. Outside a component (unit tests on CPython)
the module imports, and a request raises :class:`RequestError` ("... only inside the Weft
host"). Inside one, ``urllib.request.urlopen`` goes through here too
(:func:`install_urllib`).

The package, by responsibility: this module has the public API (:func:`request` and the
verbs; everything else is re-exported here); ``_errors`` the exceptions and the texts of
wasi:http's error codes; ``_response`` :class:`Response` and :class:`Headers`;
``_request`` what is sent (the URL, the body, redirects); ``_wasi`` the wasi:http
transport; ``_urllib`` the ``urllib.request`` handler.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, List, Optional, Tuple

from . import _request, _response, _wasi
from ._errors import (
    ConnectionError,
    HTTPError,
    InvalidURL,
    RequestError,
    RequestException,
    Timeout,
    TooManyRedirects,
    error_from_code,
)
from ._request import MAX_REDIRECTS, USER_AGENT, redirect
from ._response import REDIRECT_CODES, Headers, Response  # noqa: F401 - the constants stay weft.http's
from ._urllib import install_urllib, urllib_handler
from ._wasi import NO_HOST, READ_CHUNK, WRITE_CHUNK  # noqa: F401 - weft.http.NO_HOST etc., as before

__all__ = [
    "ConnectionError",
    "HTTPError",
    "Headers",
    "InvalidURL",
    "RequestError",
    "RequestException",
    "Response",
    "Timeout",
    "TooManyRedirects",
    "delete",
    "error_from_code",
    "get",
    "head",
    "install_urllib",
    "patch",
    "post",
    "put",
    "redirect",
    "request",
    "urllib_handler",
]


def request(
    method: str,
    url: str,
    params: Any = None,
    data: Any = None,
    headers: Optional[Mapping[str, Any]] = None,
    timeout: Any = None,
    json: Any = None,
    allow_redirects: bool = True,
    auth: Optional[Tuple[str, str]] = None,
    *,
    _defaults: bool = True,
) -> Response:
    """Sends ``method`` to ``url`` through the host and returns the :class:`Response`.

    ``params`` (a dict, pairs or text) are added to the query; ``data`` (bytes, text, a
    dict sent as a form, a file) or ``json`` (any JSON value, sent as
    ``application/json``) is the body; ``headers`` are added to the defaults;
    ``timeout`` is seconds, or a ``(connect, read)`` pair (connect, first-byte and
    between-bytes timeouts of wasi:http); ``auth`` a ``(user, password)`` pair for Basic
    authentication. Redirects (301, 302, 303, 307, 308) are followed up to 10 times, each
    hop checked by the host; ``allow_redirects=False`` returns the redirect itself.

    Raises :class:`RequestError` (or a subclass) when no response came; a 4xx or 5xx is
    a response (see :meth:`Response.raise_for_status`).
    """
    method = str(method).upper()
    target = _request.Target(url, params)
    body, content_type = _request.encode_body(data, json)
    sent = Headers()
    if _defaults:
        sent["User-Agent"] = USER_AGENT
        sent["Accept"] = "*/*"
        if _response.ACCEPT_ENCODING:
            sent["Accept-Encoding"] = _response.ACCEPT_ENCODING
    if content_type:
        sent["Content-Type"] = content_type
    if auth is not None:
        sent["Authorization"] = _request.basic_auth(*auth)
    elif target.user is not None:
        sent["Authorization"] = _request.basic_auth(target.user, target.password or "")
    for name, value in (headers or {}).items():
        if value is None:
            sent.pop(name, None)
        else:
            sent[name] = value
    history: List[Response] = []
    while True:
        pairs = [
            (name, _request.header_value(value)) for name, value in sent.items() if name.lower() not in _request.HOST_HEADERS
        ]
        if body is not None:
            pairs = [(n, v) for n, v in pairs if n.lower() != "content-length"] + [("Content-Length", str(len(body)).encode())]
        elif method in ("POST", "PUT", "PATCH") and "content-length" not in sent:
            pairs.append(("Content-Length", b"0"))
        started = time.monotonic()
        try:
            status, entries, content = _wasi.exchange(method, target, pairs, body, timeout)
        except RequestError as error:  # shown from here: the wasi steps are no one's business
            raise error.with_traceback(None)
        got = Headers.from_pairs(entries)
        response = Response(
            status, got, _response.decoded(got, content) if _defaults else content, target.url,
            method=method, history=history, elapsed=time.monotonic() - started,
        )
        if not (allow_redirects and response.is_redirect):
            return response
        if len(history) >= MAX_REDIRECTS:
            raise TooManyRedirects(f"more than {MAX_REDIRECTS} redirects", method=method, url=target.url, response=response)
        history = history + [response]
        method, next_url, keeps_body = redirect(method, target.url, status, response.headers["location"])
        try:
            next_target = _request.Target(next_url)
        except InvalidURL as error:
            raise InvalidURL(f"redirect to {next_url!r}: {error.reason}", method=method, url=target.url, response=response) from None
        if not keeps_body:
            body = None
            for name in ("Content-Type", "Content-Length"):
                sent.pop(name, None)
        if not _request.same_origin(target, next_target):
            sent.pop("Authorization", None)
        target = next_target


def get(url: str, params: Any = None, **kwargs: Any) -> Response:
    """``GET url`` (see :func:`request`)."""
    return request("GET", url, params=params, **kwargs)


def head(url: str, **kwargs: Any) -> Response:
    """``HEAD url``; redirects are not followed unless ``allow_redirects=True``."""
    kwargs.setdefault("allow_redirects", False)
    return request("HEAD", url, **kwargs)


def post(url: str, data: Any = None, json: Any = None, **kwargs: Any) -> Response:
    """``POST url`` with ``data`` or ``json`` as the body (see :func:`request`)."""
    return request("POST", url, data=data, json=json, **kwargs)


def put(url: str, data: Any = None, **kwargs: Any) -> Response:
    """``PUT url`` with ``data`` or ``json=`` as the body (see :func:`request`)."""
    return request("PUT", url, data=data, **kwargs)


def patch(url: str, data: Any = None, **kwargs: Any) -> Response:
    """``PATCH url`` with ``data`` or ``json=`` as the body (see :func:`request`)."""
    return request("PATCH", url, data=data, **kwargs)


def delete(url: str, **kwargs: Any) -> Response:
    """``DELETE url`` (see :func:`request`)."""
    return request("DELETE", url, **kwargs)


# Shown as weft.http's, where they are documented (``weft.http.RequestError: ...`` in a
# failed step's error, ``help(weft.http.Response)``), not as the private modules'.
for _name in __all__:
    if getattr(globals()[_name], "__module__", "").startswith(__name__ + "."):
        globals()[_name].__module__ = __name__
del _name

install_urllib()
