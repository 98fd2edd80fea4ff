// Package wefthttp lets a Go code location call HTTP and HTTPS APIs through the Weft host
// (WASI 0.2's wasi:http, which the `code-location` world imports). Import it once, for its
// side effect, in the location's main package:
//
//	import _ "example.invalid/weft/guest-sdk/go/http"
//
// Its init makes [Transport] Go's http.DefaultTransport, so http.Get, http.Post,
// http.DefaultClient, an http.Client with no Transport of its own, and the libraries built
// on them work unchanged in an op: redirects, cookies and timeouts are Go's http.Client's,
// each request of a redirect chain is a RoundTrip of its own, which the host checks.
//
// Nothing is reachable unless the location is granted it: the host refuses a request to a
// scheme, host and port its `hosts` grant does not name (`weft run --grant-host
// https://api.example.com`, or `hosts:` under the location in weft.yaml), and the error's
// text is the host's, naming the grant that would allow it. The host does TLS; Go's
// crypto/tls is not used. Go's wasip1 port has no sockets, so an http.Transport of Go's own
// (or a library that makes one) cannot connect: use this one.
//
// Outside WebAssembly (go test) the package does nothing: http.DefaultTransport stays Go's,
// and a Transport used directly returns an error.
//
// The package is separate from the SDK because net/http is large: importing it adds about
// 5 MB to a location's core module, about 8 MB once the location uses http.Client.
package wefthttp

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/wasi_http_types"
)

// Transport is an http.RoundTripper that sends each request through the host's
// wasi:http/outgoing-handler. The zero value is ready to use; init makes one
// http.DefaultTransport.
//
// It sends the request's method, URL (scheme, host and port, path and query) and header,
// and its body, streamed in chunks; the Content-Length it sends is the request's
// ContentLength (Header["Content-Length"] is ignored, as Go's own transport does), and a
// request without a User-Agent gets Go's. Headers only a connection may set
// (Connection, Keep-Alive, Proxy-Connection, Proxy-Authenticate, Proxy-Authorization,
// Transfer-Encoding, Upgrade, Host, HTTP2-Settings) are left to the host; so are
// compression and the Host header (the URL's host is the request's authority: a
// different req.Host is not sent). Trailers are not sent.
//
// A request whose context has a deadline gets the time left as its connect, first-byte
// and between-bytes timeouts, and the wait for the response ends at the deadline.
//
// The response's Body reads the host's stream as it is read; close it to let the host
// release the response. Errors the host answers with are [*Error]s.
type Transport struct{}

// Error is an error the host answered a request with: a case of wasi:http's error-code.
// Its text is the host's own message for `internal-error` (how the host says that a
// request was refused, naming the grant that would allow it, or that a budget was
// exceeded), and a readable name of the case otherwise, with its details.
type Error struct {
	// Code is the error-code case as wasi:http names it, e.g. "connection-refused",
	// "TLS-certificate-error", "HTTP-response-body-size", "internal-error".
	Code string
	// Message is the error's text (what Error returns).
	Message string
}

func (e *Error) Error() string { return e.Message }

// Timeout reports whether the host gave up waiting (DNS, connection, read, write or
// response timeouts); net/url.Error passes it on, so net.Error checks see it.
func (e *Error) Timeout() bool {
	switch e.Code {
	case "DNS-timeout", "connection-timeout", "connection-read-timeout",
		"connection-write-timeout", "HTTP-response-timeout":
		return true
	}
	return false
}

// codeNames are the wasi:http error-code cases by tag: the case's name and its text.
var codeNames = [...][2]string{
	types.ErrorCode_DnsTimeout:                     {"DNS-timeout", "DNS timeout"},
	types.ErrorCode_DnsError:                       {"DNS-error", "DNS error"},
	types.ErrorCode_DestinationNotFound:            {"destination-not-found", "destination not found"},
	types.ErrorCode_DestinationUnavailable:         {"destination-unavailable", "destination unavailable"},
	types.ErrorCode_DestinationIpProhibited:        {"destination-IP-prohibited", "destination IP prohibited"},
	types.ErrorCode_DestinationIpUnroutable:        {"destination-IP-unroutable", "destination IP unroutable"},
	types.ErrorCode_ConnectionRefused:              {"connection-refused", "connection refused"},
	types.ErrorCode_ConnectionTerminated:           {"connection-terminated", "connection terminated"},
	types.ErrorCode_ConnectionTimeout:              {"connection-timeout", "connection timeout"},
	types.ErrorCode_ConnectionReadTimeout:          {"connection-read-timeout", "connection read timeout"},
	types.ErrorCode_ConnectionWriteTimeout:         {"connection-write-timeout", "connection write timeout"},
	types.ErrorCode_ConnectionLimitReached:         {"connection-limit-reached", "connection limit reached"},
	types.ErrorCode_TlsProtocolError:               {"TLS-protocol-error", "TLS protocol error"},
	types.ErrorCode_TlsCertificateError:            {"TLS-certificate-error", "TLS certificate error"},
	types.ErrorCode_TlsAlertReceived:               {"TLS-alert-received", "TLS alert received"},
	types.ErrorCode_HttpRequestDenied:              {"HTTP-request-denied", "HTTP request denied"},
	types.ErrorCode_HttpRequestLengthRequired:      {"HTTP-request-length-required", "HTTP request length required"},
	types.ErrorCode_HttpRequestBodySize:            {"HTTP-request-body-size", "HTTP request body size refused"},
	types.ErrorCode_HttpRequestMethodInvalid:       {"HTTP-request-method-invalid", "HTTP request method invalid"},
	types.ErrorCode_HttpRequestUriInvalid:          {"HTTP-request-URI-invalid", "HTTP request URI invalid"},
	types.ErrorCode_HttpRequestUriTooLong:          {"HTTP-request-URI-too-long", "HTTP request URI too long"},
	types.ErrorCode_HttpRequestHeaderSectionSize:   {"HTTP-request-header-section-size", "HTTP request header section too large"},
	types.ErrorCode_HttpRequestHeaderSize:          {"HTTP-request-header-size", "HTTP request header too large"},
	types.ErrorCode_HttpRequestTrailerSectionSize:  {"HTTP-request-trailer-section-size", "HTTP request trailer section too large"},
	types.ErrorCode_HttpRequestTrailerSize:         {"HTTP-request-trailer-size", "HTTP request trailer too large"},
	types.ErrorCode_HttpResponseIncomplete:         {"HTTP-response-incomplete", "HTTP response incomplete"},
	types.ErrorCode_HttpResponseHeaderSectionSize:  {"HTTP-response-header-section-size", "HTTP response header section too large"},
	types.ErrorCode_HttpResponseHeaderSize:         {"HTTP-response-header-size", "HTTP response header too large"},
	types.ErrorCode_HttpResponseBodySize:           {"HTTP-response-body-size", "HTTP response body size exceeds budget"},
	types.ErrorCode_HttpResponseTrailerSectionSize: {"HTTP-response-trailer-section-size", "HTTP response trailer section too large"},
	types.ErrorCode_HttpResponseTrailerSize:        {"HTTP-response-trailer-size", "HTTP response trailer too large"},
	types.ErrorCode_HttpResponseTransferCoding:     {"HTTP-response-transfer-coding", "HTTP response transfer coding error"},
	types.ErrorCode_HttpResponseContentCoding:      {"HTTP-response-content-coding", "HTTP response content coding error"},
	types.ErrorCode_HttpResponseTimeout:            {"HTTP-response-timeout", "HTTP response timeout"},
	types.ErrorCode_HttpUpgradeFailed:              {"HTTP-upgrade-failed", "HTTP upgrade failed"},
	types.ErrorCode_HttpProtocolError:              {"HTTP-protocol-error", "HTTP protocol error"},
	types.ErrorCode_LoopDetected:                   {"loop-detected", "loop detected"},
	types.ErrorCode_ConfigurationError:             {"configuration-error", "configuration error"},
	types.ErrorCode_InternalError:                  {"internal-error", "internal error"},
}

// errorFromCode is the Go error for a wasi:http error-code. It never panics, whatever the
// code holds.
func errorFromCode(code types.ErrorCode) (err *Error) {
	tag := code.Tag()
	if int(tag) >= len(codeNames) {
		return &Error{Code: "unknown", Message: fmt.Sprintf("wasi:http error code %d", tag)}
	}
	name, text := codeNames[tag][0], codeNames[tag][1]
	defer func() {
		if recover() != nil { // a payload of another type than the case's: keep the name
			err = &Error{Code: name, Message: text}
		}
	}()
	if tag == types.ErrorCode_InternalError {
		if msg := code.InternalError(); msg.IsSome() && msg.Some() != "" {
			return &Error{Code: name, Message: msg.Some()}
		}
		return &Error{Code: name, Message: text}
	}
	if detail := codeDetail(code); detail != "" {
		text += " (" + detail + ")"
	}
	return &Error{Code: name, Message: text}
}

// codeDetail renders the payload of an error-code case that has one, or "".
func codeDetail(code types.ErrorCode) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	field := func(p types.FieldSizePayload) {
		if p.FieldName.IsSome() {
			add("%s", p.FieldName.Some())
		}
		if p.FieldSize.IsSome() {
			add("%d bytes", p.FieldSize.Some())
		}
	}
	bytes32 := func(o witTypes.Option[uint32]) {
		if o.IsSome() {
			add("%d bytes", o.Some())
		}
	}
	bytes64 := func(o witTypes.Option[uint64]) {
		if o.IsSome() {
			add("%d bytes", o.Some())
		}
	}
	text := func(o witTypes.Option[string]) {
		if o.IsSome() && o.Some() != "" {
			add("%s", o.Some())
		}
	}
	switch code.Tag() {
	case types.ErrorCode_DnsError:
		p := code.DnsError()
		if p.Rcode.IsSome() {
			add("rcode %s", p.Rcode.Some())
		}
		if p.InfoCode.IsSome() {
			add("info code %d", p.InfoCode.Some())
		}
	case types.ErrorCode_TlsAlertReceived:
		p := code.TlsAlertReceived()
		if p.AlertId.IsSome() {
			add("alert %d", p.AlertId.Some())
		}
		text(p.AlertMessage)
	case types.ErrorCode_HttpRequestBodySize:
		bytes64(code.HttpRequestBodySize())
	case types.ErrorCode_HttpRequestHeaderSectionSize:
		bytes32(code.HttpRequestHeaderSectionSize())
	case types.ErrorCode_HttpRequestHeaderSize:
		if p := code.HttpRequestHeaderSize(); p.IsSome() {
			field(p.Some())
		}
	case types.ErrorCode_HttpRequestTrailerSectionSize:
		bytes32(code.HttpRequestTrailerSectionSize())
	case types.ErrorCode_HttpRequestTrailerSize:
		field(code.HttpRequestTrailerSize())
	case types.ErrorCode_HttpResponseHeaderSectionSize:
		bytes32(code.HttpResponseHeaderSectionSize())
	case types.ErrorCode_HttpResponseHeaderSize:
		field(code.HttpResponseHeaderSize())
	case types.ErrorCode_HttpResponseBodySize:
		bytes64(code.HttpResponseBodySize())
	case types.ErrorCode_HttpResponseTrailerSectionSize:
		bytes32(code.HttpResponseTrailerSectionSize())
	case types.ErrorCode_HttpResponseTrailerSize:
		field(code.HttpResponseTrailerSize())
	case types.ErrorCode_HttpResponseTransferCoding:
		text(code.HttpResponseTransferCoding())
	case types.ErrorCode_HttpResponseContentCoding:
		text(code.HttpResponseContentCoding())
	}
	return strings.Join(parts, ", ")
}

// hostMessage is the text of a wasi:io error's description as the host wrote it, without
// what follows it for the host's own debugging (wasmtime appends a Rust stack backtrace).
func hostMessage(debug string) string {
	if i := strings.Index(debug, "Stack backtrace:"); i >= 0 {
		debug = debug[:i]
	}
	debug = strings.TrimSpace(debug)
	if debug == "" {
		return "the host gave no reason"
	}
	return debug
}

// hostHeaders are the request headers left to the host: hop-by-hop headers, which only a
// connection may set, and Host, which the request's authority sets. Wasmtime's wasi:http
// refuses them ("forbidden"); they are dropped rather than failing the request, as Go's
// own transport writes its own. Content-Length is set from the request's ContentLength.
var hostHeaders = map[string]bool{
	"connection":          true,
	"keep-alive":          true,
	"proxy-connection":    true,
	"proxy-authenticate":  true,
	"proxy-authorization": true,
	"transfer-encoding":   true,
	"upgrade":             true,
	"host":                true,
	"http2-settings":      true,
	"content-length":      true,
}

// defaultUserAgent is what Go's own transport sends when a request names no User-Agent.
const defaultUserAgent = "Go-http-client/1.1"

// outgoing is what RoundTrip sends for a request: the parts wasi:http's outgoing-request
// takes, checked and converted.
type outgoing struct {
	method        types.Method
	scheme        types.Scheme
	authority     string
	pathWithQuery string
	// headers in a stable order: by name, then as given; names in lower case.
	headers []witTypes.Tuple2[string, []byte]
	// length is the body's length: -1 if unknown (the body is streamed without a
	// Content-Length), 0 with hasBody false if there is no body.
	length  int64
	hasBody bool
}

// outgoingRequest converts req, or says why it cannot be sent.
func outgoingRequest(req *http.Request) (*outgoing, error) {
	if req.URL == nil {
		return nil, fmt.Errorf("wefthttp: request has no URL")
	}
	out := &outgoing{method: method(req.Method)}
	switch req.URL.Scheme {
	case "http":
		out.scheme = types.MakeSchemeHttp()
	case "https":
		out.scheme = types.MakeSchemeHttps()
	default:
		return nil, fmt.Errorf("wefthttp: unsupported protocol scheme %q", req.URL.Scheme)
	}
	if req.URL.Host == "" {
		return nil, fmt.Errorf("wefthttp: no host in request URL")
	}
	out.authority = req.URL.Host
	out.pathWithQuery = req.URL.RequestURI()
	if out.pathWithQuery == "" {
		out.pathWithQuery = "/"
	}
	out.length, out.hasBody = bodyLength(req)
	out.headers = headerEntries(req.Header)
	if _, named := req.Header["User-Agent"]; !named {
		out.headers = append(out.headers, witTypes.Tuple2[string, []byte]{F0: "user-agent", F1: []byte(defaultUserAgent)})
	}
	if out.length > 0 || (out.length == 0 && sendsZeroLength(req.Method)) {
		out.headers = append(out.headers, witTypes.Tuple2[string, []byte]{F0: "content-length", F1: []byte(strconv.FormatInt(out.length, 10))})
	}
	return out, nil
}

// method is wasi:http's method for a Go request method ("" is GET, as in Go).
func method(m string) types.Method {
	switch m {
	case "", http.MethodGet:
		return types.MakeMethodGet()
	case http.MethodHead:
		return types.MakeMethodHead()
	case http.MethodPost:
		return types.MakeMethodPost()
	case http.MethodPut:
		return types.MakeMethodPut()
	case http.MethodDelete:
		return types.MakeMethodDelete()
	case http.MethodConnect:
		return types.MakeMethodConnect()
	case http.MethodOptions:
		return types.MakeMethodOptions()
	case http.MethodTrace:
		return types.MakeMethodTrace()
	case http.MethodPatch:
		return types.MakeMethodPatch()
	}
	return types.MakeMethodOther(m)
}

// bodyLength is the request body's length as Go's transport reckons it: no body (nil or
// http.NoBody) is length 0; a body with ContentLength 0 is of unknown length (-1).
func bodyLength(req *http.Request) (length int64, hasBody bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return 0, false
	}
	if req.ContentLength != 0 {
		return max(req.ContentLength, -1), true
	}
	return -1, true
}

// sendsZeroLength: Go's transport sends "Content-Length: 0" for these methods when they
// have no body.
func sendsZeroLength(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
}

// headerEntries are h's fields as wasi:http fields: lower-case names, sorted, each value
// its own entry, without the headers left to the host (hostHeaders) and without a
// User-Agent whose value is empty (Go's way of sending none).
func headerEntries(h http.Header) []witTypes.Tuple2[string, []byte] {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	var entries []witTypes.Tuple2[string, []byte]
	for _, name := range names {
		lower := strings.ToLower(name)
		if hostHeaders[lower] {
			continue
		}
		for _, value := range h[name] {
			if lower == "user-agent" && value == "" {
				continue
			}
			entries = append(entries, witTypes.Tuple2[string, []byte]{F0: lower, F1: []byte(value)})
		}
	}
	return entries
}

// responseHeader is the http.Header of a response's wasi:http fields.
func responseHeader(entries []witTypes.Tuple2[string, []byte]) http.Header {
	h := make(http.Header, len(entries))
	for _, e := range entries {
		h.Add(e.F0, string(e.F1))
	}
	return h
}

// contentLength is a response's length from its header: the one Content-Length value, or
// -1 if there is none or it is not a length.
func contentLength(h http.Header) int64 {
	values := h.Values("Content-Length")
	if len(values) != 1 {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(values[0]), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// newResponse is the http.Response for req with status and header, before its Body is set.
func newResponse(req *http.Request, status int, header http.Header) *http.Response {
	text := http.StatusText(status)
	if text == "" {
		text = "status code " + strconv.Itoa(status)
	}
	length := contentLength(header)
	if req.Method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified || (status >= 100 && status < 200) {
		// Go's transport reads no body for these; keep the declared length (a HEAD answer
		// says how long the body would be) only for HEAD.
		if req.Method != http.MethodHead {
			length = 0
		}
	}
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + text,
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		ContentLength: length,
		Request:       req,
	}
}
