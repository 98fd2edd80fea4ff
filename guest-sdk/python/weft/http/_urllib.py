"""``urllib.request.urlopen`` over :mod:`weft.http`: the handler sending http and https
through :func:`weft.http.request`, and its installation.

Inside a component, importing :mod:`weft.http` calls :func:`install_urllib`: the handler
is installed at once if ``urllib.request`` is already imported, else when it first is (a
``sys.meta_path`` finder), so a location pays for urllib only when it uses it. Outside a
component urllib is left alone.
"""

from __future__ import annotations

import sys
from typing import Any

from . import _wasi
from ._errors import RequestError


def _urllib_open(req: Any) -> Any:
    """``urllib.request``'s ``http_open``/``https_open``: one hop through :func:`request`
    (urllib's own handlers follow redirects and raise ``HTTPError``)."""
    import http.client
    import io
    import urllib.error
    import urllib.response

    from . import request  # weft.http's, looked up per call: a mock of it applies here too

    headers = dict(req.unredirected_hdrs)
    headers.update(req.headers)
    timeout = req.timeout if isinstance(req.timeout, (int, float)) else None
    try:
        response = request(
            req.get_method(), req.full_url, data=req.data, headers=headers, timeout=timeout,
            allow_redirects=False, _defaults=False,
        )
    except RequestError as error:
        raise urllib.error.URLError(str(error)) from error
    message = http.client.HTTPMessage()
    for name, value in response.headers.items():
        for one in response.headers.get_all(name):
            message[name] = one
    result = urllib.response.addinfourl(io.BytesIO(response.content), message, response.url, response.status_code)
    result.msg = response.reason
    result.reason = response.reason
    return result


def urllib_handler(urllib_request: Any = None) -> type:
    """The ``urllib.request`` handler class sending http and https through
    :func:`request`, one hop per call (urllib's own handlers follow redirects and raise
    ``HTTPError``). ``build_opener`` puts it in place of ``HTTPHandler``."""
    if urllib_request is None:
        import urllib.request as urllib_request

    class WeftHandler(urllib_request.HTTPHandler):
        handler_order = 400  # before an HTTPSHandler, were the ssl module there

        def http_open(self, req: Any) -> Any:
            return _urllib_open(req)

        https_open = http_open
        https_request = urllib_request.AbstractHTTPHandler.do_request_

    return WeftHandler


def _install(urllib_request: Any) -> None:
    urllib_request.install_opener(urllib_request.build_opener(urllib_handler(urllib_request)))


class _InstallOnImport:
    """A ``sys.meta_path`` finder: when ``urllib.request`` is first imported (at build time,
    by the location's module or a library), installs the handler once it has loaded. The
    location pays for urllib only when it uses it."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "urllib.request":
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _InstallingLoader(spec.loader)
        return spec


class _InstallingLoader:
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        _install(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


def install_urllib() -> bool:
    """Makes ``urllib.request.urlopen`` send http and https through the host: now if
    ``urllib.request`` is imported, else when it is. Done when :mod:`weft.http` is
    imported inside a component; returns whether it was (not outside a component)."""
    if not _wasi.available() or sys.platform != "wasi":
        return False
    if "urllib.request" in sys.modules:
        _install(sys.modules["urllib.request"])
    elif not any(isinstance(f, _InstallOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _InstallOnImport())
    return True
