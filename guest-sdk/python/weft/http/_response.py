"""What comes back from :mod:`weft.http`: :class:`Response` and its case-insensitive
:class:`Headers`, and the decoding of compressed (gzip, deflate) bodies.
"""

from __future__ import annotations

import datetime
import json as _json
from collections.abc import Mapping, MutableMapping
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from ._errors import HTTPError, RequestError

# The standard library's status phrases, imported once with the module (so at build time,
# into the component's snapshot): imported per response, a missing module is searched for
# on every request.
try:
    from http import HTTPStatus as _HTTPStatus
except ImportError:  # pragma: no cover - a stripped standard library
    _HTTPStatus = None  # type: ignore[assignment,misc]

try:  # zlib is optional in some Python builds: without it, no compressed responses.
    import zlib
except ImportError:  # pragma: no cover
    zlib = None  # type: ignore[assignment]

REDIRECT_CODES = (301, 302, 303, 307, 308)
# What a request asks for in ``Accept-Encoding`` (None: nothing, without zlib).
ACCEPT_ENCODING = "gzip, deflate" if zlib is not None else None


class Headers(MutableMapping):
    """A case-insensitive mapping of header names to values (requests'
    ``CaseInsensitiveDict``): ``headers["content-type"]`` is ``headers["Content-Type"]``.
    A header sent several times is one value, joined with ``", "``; :meth:`get_all` has
    them one by one."""

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        self._store: Dict[str, Tuple[str, str]] = {}
        self._all: Dict[str, List[str]] = {}
        self.update(data or {}, **kwargs)

    @classmethod
    def from_pairs(cls, pairs: Iterable[Tuple[str, Union[str, bytes]]]) -> "Headers":
        """Headers from ``(name, value)`` pairs (values as bytes are Latin-1), repeated
        names joined."""
        headers = cls()
        for name, value in pairs:
            headers.add(name, value)
        return headers

    def add(self, name: str, value: Union[str, bytes]) -> None:
        """Adds a value to ``name`` (keeping those it has)."""
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("latin-1")
        key = name.lower()
        values = self._all.setdefault(key, [])
        values.append(value)
        self._store[key] = (self._store.get(key, (name, ""))[0], ", ".join(values))

    def get_all(self, name: str) -> List[str]:
        """Every value of ``name``, in order (``[]`` when absent)."""
        return list(self._all.get(name.lower(), []))

    def __setitem__(self, name: str, value: Any) -> None:
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("latin-1")
        value = str(value)
        self._store[name.lower()] = (name, value)
        self._all[name.lower()] = [value]

    def __getitem__(self, name: str) -> str:
        return self._store[name.lower()][1]

    def __delitem__(self, name: str) -> None:
        del self._store[name.lower()]
        self._all.pop(name.lower(), None)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {k: v for k, (_, v) in self._store.items()} == {str(k).lower(): v for k, v in Headers(other).items()}

    def copy(self) -> "Headers":
        copy = Headers()
        copy._store = dict(self._store)
        copy._all = {k: list(v) for k, v in self._all.items()}
        return copy

    def __repr__(self) -> str:
        return repr(dict(self.items()))


def _reason(status: int) -> str:
    if _HTTPStatus is None:
        return ""
    try:
        return _HTTPStatus(status).phrase
    except ValueError:
        return ""


class Response:
    """What came back: ``status_code``, ``headers`` (case-insensitive), ``content`` (the
    whole body), ``text``, ``json()``, ``ok``, ``url`` (after redirects), ``history`` (the
    redirects followed), ``reason``, ``elapsed``, ``raise_for_status()``."""

    def __init__(
        self,
        status_code: int,
        headers: Any = None,
        content: bytes = b"",
        url: str = "",
        *,
        method: str = "GET",
        history: Optional[List["Response"]] = None,
        elapsed: float = 0.0,
    ) -> None:
        self.status_code = int(status_code)
        if isinstance(headers, Headers):
            self.headers = headers
        elif isinstance(headers, Mapping) or headers is None:
            self.headers = Headers(headers)
        else:
            self.headers = Headers.from_pairs(headers)
        self.content = bytes(content)
        self.url = url
        self.method = method
        self.history: List[Response] = list(history or [])
        self.elapsed = datetime.timedelta(seconds=elapsed)
        self.reason = _reason(self.status_code)
        self._encoding: Optional[str] = None

    @property
    def encoding(self) -> str:
        """The text encoding: the ``charset`` of ``Content-Type``, else UTF-8. Settable."""
        if self._encoding:
            return self._encoding
        content_type = self.headers.get("content-type", "")
        for param in content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return "utf-8"

    @encoding.setter
    def encoding(self, value: Optional[str]) -> None:
        self._encoding = value

    @property
    def text(self) -> str:
        """``content`` decoded with ``encoding`` (undecodable bytes replaced)."""
        try:
            return self.content.decode(self.encoding, errors="replace")
        except LookupError:  # an unknown charset
            return self.content.decode("utf-8", errors="replace")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON (``json.JSONDecodeError``, a ``ValueError``, when it is
        not)."""
        return _json.loads(self.content.decode(self._encoding) if self._encoding else self.content, **kwargs)

    @property
    def ok(self) -> bool:
        """Whether the status is below 400."""
        return self.status_code < 400

    @property
    def is_redirect(self) -> bool:
        """Whether this is a redirect the client follows (3xx with a ``Location``)."""
        return self.status_code in REDIRECT_CODES and "location" in self.headers

    def raise_for_status(self) -> None:
        """Raises :class:`HTTPError` for a 4xx or 5xx status, else does nothing."""
        if 400 <= self.status_code < 500:
            kind = "Client Error"
        elif 500 <= self.status_code < 600:
            kind = "Server Error"
        else:
            return
        raise HTTPError(f"{self.status_code} {kind}: {self.reason} for url: {self.url}".replace(":  for", ": for"), response=self)

    def close(self) -> None:
        """Nothing to release (the body was read whole); for requests' ``with`` habit."""

    def __enter__(self) -> "Response":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


def decoded(headers: Headers, content: bytes) -> bytes:
    """``content`` without its ``Content-Encoding`` (gzip, deflate)."""
    coding = headers.get("content-encoding", "").strip().lower()
    if not content or zlib is None or coding not in ("gzip", "x-gzip", "deflate"):
        return content
    try:
        if coding == "deflate":
            try:
                return zlib.decompress(content)
            except zlib.error:  # raw deflate, as some servers send it
                return zlib.decompress(content, -zlib.MAX_WBITS)
        return zlib.decompress(content, 16 + zlib.MAX_WBITS)
    except zlib.error as error:
        raise RequestError(f"cannot decode the {coding} response body: {error}") from None
