package wefthttp

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/wasi_http_types"
)

func TestErrorFromCodeKeepsTheHostsMessage(t *testing.T) {
	msg := "127.0.0.1:9 is not granted to location etl: grant it with --grant-host http://127.0.0.1:9"
	err := errorFromCode(types.MakeErrorCodeInternalError(witTypes.Some(msg)))
	if err.Error() != msg || err.Code != "internal-error" {
		t.Fatalf("got %q (%s)", err.Error(), err.Code)
	}
	// As http.Client reports it: the host's message verbatim, after the method and URL.
	wrapped := &url.Error{Op: "Get", URL: "http://127.0.0.1:9/a.json", Err: err}
	if !strings.HasSuffix(wrapped.Error(), ": "+msg) {
		t.Fatalf("wrapped: %q", wrapped.Error())
	}
	var e *Error
	if !errors.As(wrapped, &e) || e.Code != "internal-error" {
		t.Fatalf("errors.As: %v", e)
	}
	if got := errorFromCode(types.MakeErrorCodeInternalError(witTypes.None[string]())).Error(); got != "internal error" {
		t.Fatalf("internal-error(none): %q", got)
	}
}

func TestErrorFromCodeNamesEveryCase(t *testing.T) {
	for _, c := range []struct {
		code types.ErrorCode
		name string
		text string
	}{
		{types.MakeErrorCodeConnectionRefused(), "connection-refused", "connection refused"},
		{types.MakeErrorCodeTlsCertificateError(), "TLS-certificate-error", "TLS certificate error"},
		{types.MakeErrorCodeHttpResponseBodySize(witTypes.None[uint64]()), "HTTP-response-body-size", "HTTP response body size exceeds budget"},
		{types.MakeErrorCodeHttpResponseBodySize(witTypes.Some[uint64](1048576)), "HTTP-response-body-size", "HTTP response body size exceeds budget (1048576 bytes)"},
		{types.MakeErrorCodeDnsError(types.DnsErrorPayload{Rcode: witTypes.Some("NXDOMAIN"), InfoCode: witTypes.None[uint16]()}), "DNS-error", "DNS error (rcode NXDOMAIN)"},
		{types.MakeErrorCodeTlsAlertReceived(types.TlsAlertReceivedPayload{AlertId: witTypes.Some[uint8](42), AlertMessage: witTypes.Some("bad certificate")}), "TLS-alert-received", "TLS alert received (alert 42, bad certificate)"},
		{types.MakeErrorCodeHttpResponseHeaderSize(types.FieldSizePayload{FieldName: witTypes.Some("x-big"), FieldSize: witTypes.Some[uint32](9000)}), "HTTP-response-header-size", "HTTP response header too large (x-big, 9000 bytes)"},
		{types.MakeErrorCodeHttpRequestHeaderSize(witTypes.None[types.FieldSizePayload]()), "HTTP-request-header-size", "HTTP request header too large"},
		{types.MakeErrorCodeHttpResponseTransferCoding(witTypes.Some("gzip")), "HTTP-response-transfer-coding", "HTTP response transfer coding error (gzip)"},
		{types.MakeErrorCodeHttpResponseTimeout(), "HTTP-response-timeout", "HTTP response timeout"},
	} {
		err := errorFromCode(c.code)
		if err.Code != c.name || err.Error() != c.text {
			t.Errorf("tag %d: got %s %q, want %s %q", c.code.Tag(), err.Code, err.Error(), c.name, c.text)
		}
	}
	// Every case has a name and a text.
	for tag, names := range codeNames {
		if names[0] == "" || names[1] == "" {
			t.Errorf("error-code tag %d has no name", tag)
		}
	}
	if len(codeNames) != int(types.ErrorCode_InternalError)+1 {
		t.Errorf("%d names for %d cases", len(codeNames), types.ErrorCode_InternalError+1)
	}
}

func TestErrorTimeout(t *testing.T) {
	var netErr net.Error
	err := error(&url.Error{Op: "Get", URL: "u", Err: errorFromCode(types.MakeErrorCodeConnectionTimeout())})
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatal("a connection timeout is not a timeout")
	}
	if errorFromCode(types.MakeErrorCodeConnectionRefused()).Timeout() {
		t.Fatal("a refused connection is a timeout")
	}
}

func TestHostMessage(t *testing.T) {
	debug := "internal error: response body over the step's network budget of 1 MiB sent and received (limit network_mb)\nStack backtrace:\n   0: wasmtime_internal_core::error::backtrace::capture\n   1: ..."
	if got := hostMessage(debug); got != "internal error: response body over the step's network budget of 1 MiB sent and received (limit network_mb)" {
		t.Fatalf("%q", got)
	}
	if got := hostMessage("connection reset by peer\n"); got != "connection reset by peer" {
		t.Fatalf("%q", got)
	}
	if got := hostMessage("\n\nStack backtrace:\n x"); got != "the host gave no reason" {
		t.Fatalf("%q", got)
	}
}

func entries(kv ...string) []witTypes.Tuple2[string, []byte] {
	var out []witTypes.Tuple2[string, []byte]
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, witTypes.Tuple2[string, []byte]{F0: kv[i], F1: []byte(kv[i+1])})
	}
	return out
}

func TestHeaderEntries(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Add("Accept", "text/plain")
	h.Add("Accept", "application/json")
	h.Set("Connection", "close")            // the host's
	h.Set("Host", "elsewhere.example")      // the authority's
	h.Set("Transfer-Encoding", "chunked")   // the host's
	h.Set("Content-Length", "99")           // the request's ContentLength is used
	h.Set("Proxy-Authorization", "Basic x") // forbidden by the host
	h.Set("X-Empty", "")
	got := headerEntries(h)
	want := entries("accept", "text/plain", "accept", "application/json", "content-type", "application/json", "x-empty", "")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestResponseHeader(t *testing.T) {
	h := responseHeader(entries("content-type", "application/json", "set-cookie", "a=1", "set-cookie", "b=2", "content-length", "12"))
	if h.Get("Content-Type") != "application/json" || !reflect.DeepEqual(h.Values("Set-Cookie"), []string{"a=1", "b=2"}) {
		t.Fatalf("header: %v", h)
	}
	if n := contentLength(h); n != 12 {
		t.Fatalf("content length %d", n)
	}
	for _, bad := range [][]string{nil, {"x"}, {"-1"}, {"1", "2"}} {
		if n := contentLength(http.Header{"Content-Length": bad}); n != -1 {
			t.Errorf("Content-Length %q: %d", bad, n)
		}
	}
}

func TestOutgoingRequest(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:18081/a.json?x=1&y=%20", nil)
	out, err := outgoingRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	if out.method.Tag() != types.Method_Get || out.scheme.Tag() != types.Scheme_Http || out.authority != "127.0.0.1:18081" || out.pathWithQuery != "/a.json?x=1&y=%20" {
		t.Fatalf("%+v", out)
	}
	if out.hasBody || out.length != 0 || !reflect.DeepEqual(out.headers, entries("user-agent", defaultUserAgent)) {
		t.Fatalf("body %v %d, headers %q", out.hasBody, out.length, out.headers)
	}

	req, _ = http.NewRequest(http.MethodPost, "https://api.example.com", strings.NewReader(`{"a":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mine")
	out, err = outgoingRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	if out.method.Tag() != types.Method_Post || out.scheme.Tag() != types.Scheme_Https || out.authority != "api.example.com" || out.pathWithQuery != "/" {
		t.Fatalf("%+v", out)
	}
	if !out.hasBody || out.length != 7 || !reflect.DeepEqual(out.headers, entries("content-type", "application/json", "user-agent", "mine", "content-length", "7")) {
		t.Fatalf("body %v %d, headers %q", out.hasBody, out.length, out.headers)
	}

	// A body of unknown length is streamed without a Content-Length; an empty POST says 0;
	// an empty User-Agent sends none.
	req, _ = http.NewRequest("PROPFIND", "http://h/p", io.NopCloser(strings.NewReader("x")))
	req.Header["User-Agent"] = []string{""}
	out, _ = outgoingRequest(req)
	if out.method.Tag() != types.Method_Other || out.method.Other() != "PROPFIND" || !out.hasBody || out.length != -1 || len(out.headers) != 0 {
		t.Fatalf("%+v", out)
	}
	req, _ = http.NewRequest(http.MethodPost, "http://h/p", nil)
	out, _ = outgoingRequest(req)
	if out.hasBody || !reflect.DeepEqual(out.headers, entries("user-agent", defaultUserAgent, "content-length", "0")) {
		t.Fatalf("%+v", out)
	}

	for _, bad := range []string{"ftp://h/x", "http:///x", "file:///etc/passwd"} {
		req, _ := http.NewRequest(http.MethodGet, bad, nil)
		if _, err := outgoingRequest(req); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if _, err := outgoingRequest(&http.Request{Method: "GET"}); err == nil {
		t.Error("a request without a URL: no error")
	}
}

func TestNewResponse(t *testing.T) {
	get, _ := http.NewRequest(http.MethodGet, "http://h/", nil)
	resp := newResponse(get, 404, http.Header{"Content-Length": {"5"}})
	if resp.Status != "404 Not Found" || resp.StatusCode != 404 || resp.ContentLength != 5 || resp.Request != get || resp.ProtoMajor != 1 {
		t.Fatalf("%+v", resp)
	}
	if resp := newResponse(get, 599, http.Header{}); resp.Status != "599 status code 599" || resp.ContentLength != -1 {
		t.Fatalf("%+v", resp)
	}
	if resp := newResponse(get, 204, http.Header{"Content-Length": {"5"}}); resp.ContentLength != 0 {
		t.Fatalf("204: %d", resp.ContentLength)
	}
	head, _ := http.NewRequest(http.MethodHead, "http://h/", nil)
	if resp := newResponse(head, 200, http.Header{"Content-Length": {"5"}}); resp.ContentLength != 5 {
		t.Fatalf("HEAD: %d", resp.ContentLength)
	}
}

func TestNativeTransportFailsAndLeavesDefaultTransport(t *testing.T) {
	if _, ok := http.DefaultTransport.(*Transport); ok {
		t.Fatal("natively, http.DefaultTransport must stay Go's")
	}
	closed := false
	body := &closeRecorder{Reader: strings.NewReader("x"), closed: &closed}
	req, _ := http.NewRequest(http.MethodPost, "http://h/", body)
	if _, err := (&Transport{}).RoundTrip(req); err == nil || !strings.Contains(err.Error(), "only inside the Weft host") {
		t.Fatalf("err %v", err)
	}
	if !closed {
		t.Fatal("the request's body was not closed")
	}
}

type closeRecorder struct {
	io.Reader
	closed *bool
}

func (c *closeRecorder) Close() error {
	*c.closed = true
	return nil
}
