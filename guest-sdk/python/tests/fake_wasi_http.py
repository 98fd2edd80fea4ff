"""A fake wasi:http host for the tests of ``weft.http`` (not a test module itself).

:class:`FakeHost` presents wasi:http the way componentize-py's generated bindings do, with
a server function behind, and checks what a real host would trap on: a resource dropped
before its children, used after being handed over, or leaked. ``with FakeHost(server):``
puts it in place of the bindings in ``weft.http._wasi``.
"""

import os
import sys
import unittest
from dataclasses import dataclass, make_dataclass
from types import SimpleNamespace
from typing import Any, List, Optional
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_sdk  # noqa: E402,F401 - puts the generated bindings and the SDK on sys.path first

from weft.http import _wasi  # noqa: E402

REFUSAL = "127.0.0.1:9 is not granted to location etl: grant it with --grant-host http://127.0.0.1:9"


@dataclass
class Ok:
    value: Any


class Err(Exception):
    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value


def _cases(prefix: str, names: List[str], with_value: List[str] = ()) -> dict:
    made = {}
    for name in names:
        fields = [("value", Any)] if name in with_value else []
        made[f"{prefix}_{name}"] = make_dataclass(f"{prefix}_{name}", fields)
    return made


METHODS = _cases("Method", ["Get", "Head", "Post", "Put", "Delete", "Connect", "Options", "Trace", "Patch", "Other"], ["Other"])
SCHEMES = _cases("Scheme", ["Http", "Https", "Other"], ["Other"])
CODES = _cases(
    "ErrorCode",
    ["InternalError", "ConnectionRefused", "HttpResponseBodySize", "DnsError", "ConnectionTimeout", "HttpResponseTimeout"],
    ["InternalError", "HttpResponseBodySize", "DnsError"],
)
HEADER_ERRORS = _cases("HeaderError", ["InvalidSyntax", "Forbidden", "Immutable"])
StreamClosed = make_dataclass("StreamError_Closed", [])
StreamFailed = make_dataclass("StreamError_LastOperationFailed", [("value", Any)])


@dataclass
class Sent:
    """A request as the fake server sees it."""

    method: str
    scheme: str
    authority: str
    path: str
    headers: List[Any]
    body: bytes
    options: Optional[dict]

    def header(self, name: str) -> Optional[bytes]:
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return values[0] if values else None


class FakeHost:
    """wasi:http as the generated bindings present it, with a server function behind:
    ``server(sent)`` returns ``(status, [(name, bytes)], body)``, or an error code (an
    instance of an ``ErrorCode_*`` class) for the response future, or raises ``Err`` to
    refuse the request at ``handle``. ``body_error`` makes reading the body fail."""

    def __init__(self, server, body_error: Any = None, permits=(0, 3000, 10000), chunk: int = 7,
                 close_after: Optional[int] = None, write_error: Any = None) -> None:
        self.server = server
        self.body_error = body_error
        self.close_after = close_after  # the request body stream closes after these bytes
        self.write_error = write_error  # ... or fails with this error code
        self.permits = list(permits)
        self.chunk = chunk
        self.resources: List["Res"] = []
        self.traps: List[str] = []
        self.sent: List[Sent] = []
        self.blocks = 0
        host = self

        class Res:
            def __init__(self, parent=None):
                self.state = "live"
                self.kids = []
                host.resources.append(self)
                if parent is not None:
                    parent.use()
                    parent.kids.append(self)

            def use(self):
                if self.state != "live":
                    host.traps.append(f"{type(self).__name__} used after being {self.state}")

            def give(self):  # handed over to the host (an owned argument)
                self.use()
                if any(k.state == "live" for k in self.kids):
                    host.traps.append(f"{type(self).__name__} handed over with live children")
                self.state = "moved"
                return self

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                if self.state != "live":  # what componentize-py does on a second drop
                    raise TypeError("cannot unpack non-iterable NoneType object")
                live = [type(k).__name__ for k in self.kids if k.state == "live"]
                if live:
                    host.traps.append(f"{type(self).__name__} dropped before its children {live}")
                self.state = "dropped"

        class Pollable(Res):
            def __init__(self, parent, on_block=None):
                super().__init__(parent)
                self.on_block = on_block

            def block(self):
                self.use()
                host.blocks += 1
                if self.on_block:
                    self.on_block()

        class Fields(Res):
            def __init__(self, entries=None, mutable=True):
                super().__init__()
                self._entries = list(entries or [])
                self.mutable = mutable

            def append(self, name, value):
                self.use()
                if not self.mutable:
                    raise Err(HEADER_ERRORS["HeaderError_Immutable"]())
                if not name or " " in name or ":" in name:
                    raise Err(HEADER_ERRORS["HeaderError_InvalidSyntax"]())
                if name.lower() in ("host", "connection", "transfer-encoding"):
                    raise Err(HEADER_ERRORS["HeaderError_Forbidden"]())
                assert isinstance(value, bytes), value
                self._entries.append((name, value))

            def entries(self):
                self.use()
                return list(self._entries)

        class OutputStream(Res):
            def __init__(self, body):
                super().__init__(body)
                self.body = body
                self.permit = 0
                self.flushing = False

            def check_write(self):
                self.use()
                if host.close_after is not None and len(self.body.data) >= host.close_after:
                    if host.write_error is not None:
                        raise Err(StreamFailed(IoError(host.write_error)))
                    raise Err(StreamClosed())
                if self.flushing:
                    return 0
                self.permit = host.permits[0] if host.permits else 4096
                return self.permit

            def write(self, contents):
                self.use()
                if len(contents) > self.permit or len(contents) > 4096:
                    host.traps.append(f"wrote {len(contents)} bytes on a permit of {self.permit}")
                self.permit -= len(contents)
                self.body.data += contents

            def flush(self):
                self.use()
                self.flushing = True

            def subscribe(self):
                def ready():
                    if host.permits:
                        host.permits.pop(0)
                    self.flushing = False

                return Pollable(self, ready)

        class OutgoingBody(Res):
            def __init__(self, request):
                super().__init__()
                self.request = request
                self.data = b""
                self.finished = False
                self.written = False

            def write(self):
                self.use()
                assert not self.written, "write() twice"
                self.written = True
                return OutputStream(self)

            @classmethod
            def finish(cls, this, trailers):
                this.give()
                this.finished = True

        class OutgoingRequest(Res):
            def __init__(self, headers):
                super().__init__()
                self.headers = headers.give()
                self.method = METHODS["Method_Get"]()
                self.scheme = self.authority = self.path = None
                self.outgoing = None

            def set_method(self, method):
                self.use()
                self.method = method

            def set_scheme(self, scheme):
                self.use()
                self.scheme = scheme

            def set_authority(self, authority):
                self.use()
                self.authority = authority

            def set_path_with_query(self, path):
                self.use()
                if path is not None and " " in path:
                    raise Err(None)
                self.path = path

            def body(self):
                self.use()
                assert self.outgoing is None, "body() twice"
                self.outgoing = OutgoingBody(self)
                return self.outgoing

        class RequestOptions(Res):
            def __init__(self):
                super().__init__()
                self.values = {}

            def set_connect_timeout(self, ns):
                self.values["connect"] = ns

            def set_first_byte_timeout(self, ns):
                self.values["first_byte"] = ns

            def set_between_bytes_timeout(self, ns):
                raise Err(None)  # a host without this one

        class FutureTrailers(Res):
            pass

        class InputStream(Res):
            def __init__(self, body):
                super().__init__(body)
                self.data = body.data
                self.reads = 0

            def read(self, n):
                self.use()
                self.reads += 1
                if self.reads == 1:
                    return b""  # nothing yet: the client blocks
                if not self.data:
                    if host.body_error is not None:
                        raise Err(StreamFailed(IoError(host.body_error)))
                    raise Err(StreamClosed())
                chunk, self.data = self.data[: min(n, host.chunk)], self.data[min(n, host.chunk):]
                return chunk

            def subscribe(self):
                return Pollable(self)

        class IoError(Res):
            def __init__(self, code):
                super().__init__()
                self.code = code

            def to_debug_string(self):
                return "stream failed"

        class IncomingBody(Res):
            def __init__(self, response, data):
                super().__init__(response)
                self.data = data
                self.streamed = False

            def stream(self):
                self.use()
                assert not self.streamed
                self.streamed = True
                return InputStream(self)

            @classmethod
            def finish(cls, this):
                this.give()
                return FutureTrailers()

        class IncomingResponse(Res):
            def __init__(self, status, headers, data):
                super().__init__()
                self._status, self._headers, self.data = status, headers, data

            def status(self):
                self.use()
                return self._status

            def headers(self):
                return Fields(self._headers, mutable=False).adopt(self)

            def consume(self):
                return IncomingBody(self, self.data)

        def adopt(fields, parent):
            parent.kids.append(fields)
            return fields

        Fields.adopt = adopt

        class FutureIncomingResponse(Res):
            def __init__(self, request, options):
                super().__init__()
                self.request = request
                self.options = options
                self.taken = False
                self.polled = 0

            def subscribe(self):
                return Pollable(self)

            def get(self):
                self.use()
                self.polled += 1
                outgoing = self.request.outgoing
                if self.polled == 1 or (outgoing is not None and not outgoing.finished and outgoing.state == "live"):
                    return None
                if self.taken:
                    return Err(None)
                self.taken = True
                answer = host.server(self.sent())
                if not isinstance(answer, tuple):
                    return Ok(Err(answer))
                return Ok(Ok(IncomingResponse(*answer)))

            def sent(self):
                r = self.request
                body = b""
                if r.outgoing is not None:
                    body = r.outgoing.data
                sent = Sent(
                    method=type(r.method).__name__[len("Method_"):].upper() if not hasattr(r.method, "value") else r.method.value,
                    scheme=type(r.scheme).__name__[len("Scheme_"):].lower(),
                    authority=r.authority,
                    path=r.path,
                    headers=list(r.headers._entries),
                    body=body,
                    options=self.options.values if self.options is not None else None,
                )
                host.sent.append(sent)
                return sent

        def handle(request, options):
            request.give()
            if options is not None:
                options.give()
            future = FutureIncomingResponse(request, options)
            refusal = getattr(host.server, "refuse", None)
            if refusal is not None:
                future.give()
                raise Err(refusal)
            return future

        self.types = SimpleNamespace(
            Fields=Fields, OutgoingRequest=OutgoingRequest, OutgoingBody=OutgoingBody, RequestOptions=RequestOptions,
            IncomingBody=IncomingBody, http_error_code=lambda error: error.code, **METHODS, **SCHEMES, **CODES,
        )
        self.handler = SimpleNamespace(handle=handle)
        self.streams = SimpleNamespace(StreamError_Closed=StreamClosed, StreamError_LastOperationFailed=StreamFailed)

    def __enter__(self):
        self.patches = [
            mock.patch.object(_wasi, "_types", self.types),
            mock.patch.object(_wasi, "_handler", self.handler),
            mock.patch.object(_wasi, "_streams", self.streams),
            mock.patch.object(_wasi, "_Ok", Ok),
            mock.patch.object(_wasi, "_Err", Err),
        ]
        for p in self.patches:
            p.start()
        return self

    def __exit__(self, *exc):
        for p in self.patches:
            p.stop()

    def check_clean(self, case: unittest.TestCase) -> None:
        """Nothing trapped, nothing leaked."""
        case.assertEqual(self.traps, [])
        live = [type(r).__name__ for r in self.resources if r.state == "live"]
        case.assertEqual(live, [], "resources left undropped")


def ok(status=200, headers=(), body=b""):
    return lambda sent: (status, [(n, v if isinstance(v, bytes) else v.encode()) for n, v in headers], body)
