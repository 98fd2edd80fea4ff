"""Host-side tests of ``weft.http``'s pure parts: headers, redirects, the response API,
error texts, and what it does outside a component. Through a fake wasi:http host:
test_http_exchange.py.

    cd guest-sdk/python && python3 -m pytest -q tests
"""

import os
import sys
import traceback
import unittest
import urllib.request
from types import SimpleNamespace
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_sdk  # noqa: E402 - puts the generated bindings and the SDK on sys.path first

import weft as dg  # noqa: E402
from weft import http  # noqa: E402
from weft.http import _errors, _wasi  # noqa: E402

from fake_wasi_http import CODES, REFUSAL  # noqa: E402


class HeadersTest(unittest.TestCase):
    def test_names_are_case_insensitive_and_keep_their_spelling(self):
        headers = http.Headers({"Content-Type": "application/json"})
        self.assertEqual(headers["content-type"], "application/json")
        self.assertIn("CONTENT-TYPE", headers)
        headers["content-TYPE"] = "text/plain"
        self.assertEqual(list(headers), ["content-TYPE"])
        self.assertEqual(headers, {"Content-Type": "text/plain"})
        del headers["Content-type"]
        self.assertEqual(len(headers), 0)
        self.assertEqual(headers.get("x-missing", "d"), "d")

    def test_repeated_headers_join_and_stay_available_one_by_one(self):
        headers = http.Headers.from_pairs([("set-cookie", b"a=1"), ("Set-Cookie", b"b=2"), ("x-caf\u00e9", b"caf\xe9")])
        self.assertEqual(headers["Set-Cookie"], "a=1, b=2")
        self.assertEqual(headers.get_all("SET-COOKIE"), ["a=1", "b=2"])
        self.assertEqual(headers["X-Caf\u00e9"], "caf\u00e9", "bytes are Latin-1")
        copy = headers.copy()
        copy["set-cookie"] = "c=3"
        self.assertEqual(headers.get_all("set-cookie"), ["a=1", "b=2"])
        self.assertEqual(copy.get_all("set-cookie"), ["c=3"])


class RedirectTest(unittest.TestCase):
    def test_locations_resolve_against_the_url(self):
        r = http.redirect
        self.assertEqual(r("GET", "http://a.test/x/y?q=1", 302, "z"), ("GET", "http://a.test/x/z", True))
        self.assertEqual(r("GET", "http://a.test/x/y", 301, "/root"), ("GET", "http://a.test/root", True))
        self.assertEqual(r("GET", "http://a.test/x", 308, "https://b.test/n"), ("GET", "https://b.test/n", True))
        self.assertEqual(r("GET", "https://a.test/x", 302, "//c.test/p"), ("GET", "https://c.test/p", True))
        self.assertEqual(r("GET", "http://a.test/x/y", 302, "?page=2"), ("GET", "http://a.test/x/y?page=2", True))

    def test_methods_after_a_redirect(self):
        r = http.redirect
        self.assertEqual(r("POST", "http://a/", 303, "/b")[::2], ("GET", False))
        self.assertEqual(r("PUT", "http://a/", 303, "/b")[::2], ("GET", False))
        self.assertEqual(r("HEAD", "http://a/", 303, "/b")[::2], ("HEAD", True))
        self.assertEqual(r("POST", "http://a/", 302, "/b")[::2], ("GET", False))
        self.assertEqual(r("POST", "http://a/", 301, "/b")[::2], ("GET", False))
        self.assertEqual(r("PUT", "http://a/", 301, "/b")[::2], ("PUT", True))
        self.assertEqual(r("POST", "http://a/", 307, "/b")[::2], ("POST", True))
        self.assertEqual(r("DELETE", "http://a/", 308, "/b")[::2], ("DELETE", True))


class ResponseTest(unittest.TestCase):
    def test_content_text_json_and_status(self):
        response = http.Response(200, {"Content-Type": "application/json; charset=utf-8"}, '{"a": "\u00e9"}'.encode(), "http://x/")
        self.assertEqual(response.json(), {"a": "\u00e9"})
        self.assertEqual(response.text, '{"a": "\u00e9"}')
        self.assertEqual(response.encoding, "utf-8")
        self.assertTrue(response.ok and bool(response))
        self.assertEqual(response.reason, "OK")
        self.assertEqual(repr(response), "<Response [200]>")
        self.assertIsNone(response.raise_for_status())
        latin = http.Response(200, [("content-type", b'text/plain; charset="ISO-8859-1"')], b"caf\xe9")
        self.assertEqual(latin.text, "caf\u00e9")
        latin.encoding = "utf-8"
        self.assertEqual(latin.text, "caf\ufffd")
        with self.assertRaises(ValueError):
            http.Response(200, {}, b"<html>").json()

    def test_raise_for_status_raises_http_error_with_the_response(self):
        response = http.Response(404, {}, b"nope", "http://x/missing")
        self.assertFalse(response.ok)
        with self.assertRaises(http.HTTPError) as raised:
            response.raise_for_status()
        self.assertEqual(str(raised.exception), "404 Client Error: Not Found for url: http://x/missing")
        self.assertIs(raised.exception.response, response)
        self.assertIsInstance(raised.exception, http.RequestError)
        with self.assertRaises(http.HTTPError) as raised:
            http.Response(503, {}, b"", "http://x/").raise_for_status()
        self.assertIn("503 Server Error: Service Unavailable", str(raised.exception))
        self.assertIsNone(http.Response(302, {}, b"").raise_for_status())


class ErrorTextTest(unittest.TestCase):
    def test_the_hosts_message_is_kept_verbatim(self):
        error = http.error_from_code(CODES["ErrorCode_InternalError"](REFUSAL), "GET", "http://127.0.0.1:9/")
        self.assertEqual(str(error), f"GET http://127.0.0.1:9/: {REFUSAL}")
        self.assertEqual((error.code, error.reason, error.url), ("internal-error", REFUSAL, "http://127.0.0.1:9/"))
        self.assertEqual(type(error), http.RequestError)
        self.assertEqual(str(http.error_from_code(CODES["ErrorCode_InternalError"](None))), "internal error")

    def test_other_codes_read_as_text(self):
        refused = http.error_from_code(CODES["ErrorCode_ConnectionRefused"](), "POST", "http://a/")
        self.assertEqual(str(refused), "POST http://a/: connection refused")
        self.assertIsInstance(refused, http.ConnectionError)
        self.assertEqual(refused.code, "connection-refused")
        big = http.error_from_code(CODES["ErrorCode_HttpResponseBodySize"](1048576))
        self.assertEqual(str(big), "response body too large (limit 1048576 bytes)")
        self.assertIsInstance(http.error_from_code(CODES["ErrorCode_ConnectionTimeout"]()), http.Timeout)
        dns = http.error_from_code(CODES["ErrorCode_DnsError"](SimpleNamespace(rcode="NXDOMAIN", info_code=None)))
        self.assertEqual(str(dns), "DNS lookup failed (rcode NXDOMAIN)")

    @unittest.skipUnless(test_sdk.HAVE_BINDINGS, "componentize-py is not installed")
    def test_every_code_of_the_bindings_has_a_text(self):
        from wit_world.imports import wasi_http_types as real

        names = [n for n in dir(real) if n.startswith("ErrorCode_")]
        self.assertEqual(len(names), 39)
        for name in names:
            self.assertIn(name[len("ErrorCode_"):], _errors._ERRORS, name)
        self.assertEqual(str(http.error_from_code(real.ErrorCode_InternalError(REFUSAL))), REFUSAL)
        self.assertEqual(
            str(http.error_from_code(real.ErrorCode_HttpResponseHeaderSize(real.FieldSizePayload("x-big", 9000)))),
            "response header too large (x-big, 9000 bytes)",
        )
        self.assertEqual(str(http.error_from_code(real.ErrorCode_TlsCertificateError())),
                         "TLS certificate error: the server's certificate is not trusted")


class OutsideTheHostTest(unittest.TestCase):
    def test_it_imports_and_fails_only_when_used(self):
        self.assertIs(dg.http, http)
        with self.assertRaises(http.RequestError) as raised:
            http.get("http://127.0.0.1:9/x")
        self.assertIn("only inside the Weft host", str(raised.exception))
        with mock.patch.object(_wasi, "_types", None):
            with self.assertRaises(http.RequestError):
                http.post("http://127.0.0.1:9/x", json={})
        self.assertFalse(http.install_urllib(), "urllib is left alone outside a component")
        shown = traceback.format_exception_only(type(raised.exception), raised.exception)[0]
        self.assertTrue(shown.startswith("weft.http.RequestError: GET http://127.0.0.1:9/x: "), shown)
        # Unit tests of a location mock weft.http.request (the README says so): the verbs
        # and the urllib handler go through the mock.
        with mock.patch("weft.http.request", return_value=http.Response(200, {}, b"mocked", "http://a/")) as mocked:
            self.assertEqual(http.get("http://a/", params={"q": 1}).text, "mocked")
            mocked.assert_called_once_with("GET", "http://a/", params={"q": 1})
            with urllib.request.build_opener(http.urllib_handler()).open("http://a/") as response:
                self.assertEqual(response.read(), b"mocked")

    def test_bad_urls_are_refused_before_anything_is_sent(self):
        for url, why in [("ftp://a/b", "only http"), ("example.com/x", "no scheme"), ("http:///x", "no host"),
                         ("http://a:99999/", "out of range")]:
            with self.assertRaises(http.InvalidURL) as raised:
                http.get(url)
            self.assertIn(why, str(raised.exception))
            self.assertIsInstance(raised.exception, ValueError)


if __name__ == "__main__":
    unittest.main()
