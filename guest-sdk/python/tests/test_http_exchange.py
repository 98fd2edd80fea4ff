"""Host-side tests of ``weft.http`` through a fake wasi:http host (fake_wasi_http.py):
the wasi:http choreography of requests, bodies, redirects and errors, and
``urllib.request`` over the Weft handler.

    cd guest-sdk/python && python3 -m pytest -q tests
"""

import gzip
import io
import json
import os
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_sdk  # noqa: E402,F401 - puts the generated bindings and the SDK on sys.path first

from weft import http  # noqa: E402

from fake_wasi_http import CODES, REFUSAL, FakeHost, ok  # noqa: E402


class ExchangeTest(unittest.TestCase):
    def test_a_get_with_params_and_headers(self):
        with FakeHost(ok(200, [("Content-Type", "application/json")], b'{"n": [1, 2, 3]}')) as host:
            response = http.get("http://api.test:8080/p/a b?x=1", params={"q": "a&b", "k": [1, 2], "none": None},
                                headers={"X-Key": "s3cret", "Host": "evil.test"}, timeout=(1.5, 3))
        host.check_clean(self)
        self.assertEqual(response.json(), {"n": [1, 2, 3]})
        self.assertEqual(response.url, "http://api.test:8080/p/a%20b?x=1&q=a%26b&k=1&k=2")
        sent = host.sent[0]
        self.assertEqual((sent.method, sent.scheme, sent.authority, sent.path),
                         ("GET", "http", "api.test:8080", "/p/a%20b?x=1&q=a%26b&k=1&k=2"))
        self.assertEqual(sent.header("x-key"), b"s3cret")
        self.assertIsNone(sent.header("host"), "the host sets Host from the URL")
        self.assertEqual(sent.header("user-agent"), b"weft-python")
        self.assertEqual(sent.body, b"")
        self.assertEqual(sent.options, {"connect": 1_500_000_000, "first_byte": 3_000_000_000})
        self.assertGreater(host.blocks, 0, "waited on pollables")

    def test_a_post_writes_its_body_in_chunks_within_the_permits(self):
        payload = {"rows": ["x" * 50] * 200}
        echo = lambda sent: (201, [("content-type", b"application/json")], sent.body)  # noqa: E731
        with FakeHost(echo, permits=[0, 3000, 100, 0, 4096, 10000]) as host:
            response = http.post("https://api.test/rows", json=payload)
        host.check_clean(self)
        sent = host.sent[0]
        self.assertEqual((sent.method, sent.scheme, sent.authority), ("POST", "https", "api.test"))
        self.assertEqual(json.loads(sent.body), payload)
        self.assertEqual(sent.header("content-length"), str(len(sent.body)).encode())
        self.assertEqual(sent.header("content-type"), b"application/json")
        self.assertEqual((response.status_code, response.json()), (201, payload))

    def test_a_body_stream_the_host_closes(self):
        body = b"z" * 10000
        echo = lambda sent: (200, [], str(len(sent.body)).encode())  # noqa: E731
        with FakeHost(echo, close_after=len(body)) as host:  # all of it: no error
            self.assertEqual(http.put("http://a/", data=body).text, "10000")
        host.check_clean(self)
        with FakeHost(lambda sent: (413, [], b"too big"), close_after=5000) as host:  # the server stopped reading
            response = http.put("http://a/", data=body)
        host.check_clean(self)
        self.assertEqual((response.status_code, response.text), (413, "too big"))
        budget = CODES["ErrorCode_InternalError"]("request body over the step's network budget")
        with FakeHost(echo, close_after=5000, write_error=budget) as host:  # a failure is one
            with self.assertRaises(http.RequestError) as raised:
                http.put("http://a/", data=body)
        host.check_clean(self)
        self.assertEqual(str(raised.exception), "PUT http://a/: request body over the step's network budget")

    def test_methods_forms_and_other_bodies(self):
        echo = lambda sent: (200, [], f"{sent.method} {sent.body.decode()}".encode())  # noqa: E731
        with FakeHost(echo) as host:
            self.assertEqual(http.put("http://a/", data="t\u00e9").text, "PUT t\u00e9")
            self.assertEqual(http.post("http://a/", data={"a": "1 2", "b": "&"}).text, "POST a=1+2&b=%26")
            self.assertEqual(http.request("purge", "http://a/", data=io.BytesIO(b"file")).text, "PURGE file")
            self.assertEqual(http.delete("http://a/").text, "DELETE ")
            self.assertEqual(http.patch("http://a/", data=[b"a", b"b"]).text, "PATCH ab")
        host.check_clean(self)
        self.assertEqual(host.sent[1].header("content-type"), b"application/x-www-form-urlencoded")
        self.assertEqual(host.sent[3].header("content-length"), None)

    def test_redirects_are_followed_through_the_host(self):
        def server(sent):
            if sent.path == "/start":
                return (302, [("Location", b"next?x=1")], b"moved")
            if sent.path == "/next?x=1":
                return (307, [("location", b"https://other.test/end")], b"")
            return (200, [], f"{sent.method} {sent.authority}{sent.path} {sent.body.decode()}".encode())

        with FakeHost(server) as host:
            response = http.get("http://a.test/start", auth=("u", "p"))
        host.check_clean(self)
        self.assertEqual(response.text, "GET other.test/end ")
        self.assertEqual(response.url, "https://other.test/end")
        self.assertEqual([r.status_code for r in response.history], [302, 307])
        self.assertEqual([s.authority + s.path for s in host.sent], ["a.test/start", "a.test/next?x=1", "other.test/end"])
        self.assertIsNotNone(host.sent[1].header("authorization"))
        self.assertIsNone(host.sent[2].header("authorization"), "credentials stay with their host")

        with FakeHost(server) as host:
            not_followed = http.get("http://a.test/start", allow_redirects=False)
        self.assertEqual((not_followed.status_code, not_followed.headers["location"], len(host.sent)), (302, "next?x=1", 1))

    def test_303_turns_a_post_into_a_get_and_307_keeps_it(self):
        def server(sent):
            if sent.path == "/form":
                return (303, [("location", b"/done")], b"")
            if sent.path == "/keep":
                return (307, [("location", b"/done")], b"")
            return (200, [], f"{sent.method} [{sent.body.decode()}] {sent.header('content-type')}".encode())

        with FakeHost(server) as host:
            self.assertEqual(http.post("http://a/form", data={"k": "v"}).text, "GET [] None")
            self.assertEqual(http.post("http://a/keep", data={"k": "v"}).text,
                             "POST [k=v] b'application/x-www-form-urlencoded'")
        host.check_clean(self)

    def test_more_than_ten_redirects_fail(self):
        with FakeHost(lambda sent: (301, [("location", b"/again")], b"")) as host:
            with self.assertRaises(http.TooManyRedirects) as raised:
                http.get("http://loop.test/")
        host.check_clean(self)
        self.assertEqual(len(host.sent), 11)
        self.assertEqual(raised.exception.response.status_code, 301)
        self.assertEqual(len(raised.exception.response.history), 10)

    def test_a_refused_request_raises_with_the_hosts_message(self):
        server = ok()
        server.refuse = CODES["ErrorCode_InternalError"](REFUSAL)
        with FakeHost(server) as host:
            with self.assertRaises(http.RequestError) as raised:
                http.post("http://127.0.0.1:9/", json={"a": 1})
        host.check_clean(self)
        self.assertEqual(str(raised.exception), f"POST http://127.0.0.1:9/: {REFUSAL}")
        self.assertEqual(raised.exception.code, "internal-error")

    def test_errors_of_the_response_and_of_its_body(self):
        with FakeHost(lambda sent: CODES["ErrorCode_ConnectionRefused"]()) as host:
            with self.assertRaises(http.ConnectionError) as raised:
                http.get("http://127.0.0.1:1/")
        host.check_clean(self)
        self.assertEqual(str(raised.exception), "GET http://127.0.0.1:1/: connection refused")

        budget = CODES["ErrorCode_InternalError"]("over the step's network budget of 1 MiB sent and received (limit network_mb)")
        with FakeHost(ok(200, [], b"partial"), body_error=budget) as host:
            with self.assertRaises(http.RequestError) as raised:
                http.get("http://big.test/")
        host.check_clean(self)
        self.assertIn("over the step's network budget", str(raised.exception))

    def test_bad_headers_are_named(self):
        with FakeHost(ok()) as host:
            with self.assertRaises(http.RequestError) as raised:
                http.get("http://a/", headers={"bad name": "x"})
        host.check_clean(self)
        self.assertIn("header 'bad name': invalid", str(raised.exception))

    def test_compressed_bodies_are_decoded(self):
        with FakeHost(ok(200, [("content-encoding", "gzip")], gzip.compress(b"hello " * 100))) as host:
            response = http.get("http://a/")
        host.check_clean(self)
        self.assertEqual(response.content, b"hello " * 100)
        self.assertEqual(host.sent[0].header("accept-encoding"), b"gzip, deflate")


class UrllibTest(unittest.TestCase):
    """urllib's own handlers (redirects, errors) over the Weft handler."""

    def opener(self):
        return urllib.request.build_opener(http.urllib_handler())

    def test_urlopen_goes_through_the_host(self):
        def server(sent):
            if sent.path == "/old":
                return (301, [("location", b"/new")], b"")
            if sent.path == "/missing":
                return (404, [("content-type", b"text/plain")], b"no such thing")
            return (200, [("X-A", b"1"), ("x-a", b"2")], f"{sent.method} {sent.body.decode()}".encode())

        with FakeHost(server) as host:
            with self.opener().open("http://a.test/old") as response:
                self.assertEqual(response.read(), b"GET ")
                self.assertEqual((response.status, response.url), (200, "http://a.test/new"))
                self.assertEqual(response.headers.get_all("x-a"), ["1", "2"])
            posted = self.opener().open(urllib.request.Request("https://a.test/p", data=b"k=v", method="PUT"))
            self.assertEqual(posted.read(), b"PUT k=v")
            with self.assertRaises(urllib.error.HTTPError) as raised:
                self.opener().open("http://a.test/missing")
            self.assertEqual((raised.exception.code, raised.exception.read()), (404, b"no such thing"))
        host.check_clean(self)
        self.assertEqual(host.sent[0].header("user-agent")[:13], b"Python-urllib")
        self.assertEqual(host.sent[2].header("content-length"), b"3")

    def test_a_refusal_is_a_url_error(self):
        server = ok()
        server.refuse = CODES["ErrorCode_InternalError"](REFUSAL)
        with FakeHost(server) as host:
            with self.assertRaises(urllib.error.URLError) as raised:
                self.opener().open("http://127.0.0.1:9/")
        host.check_clean(self)
        self.assertIn(REFUSAL, str(raised.exception.reason))


if __name__ == "__main__":
    unittest.main()
