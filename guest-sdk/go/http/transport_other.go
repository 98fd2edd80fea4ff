//go:build !wasm

package wefthttp

import (
	"errors"
	"net/http"
)

// errNoHost is what a Transport answers outside WebAssembly, where there is no host.
var errNoHost = errors.New("wefthttp: wasi:http exists only inside the Weft host (outside WebAssembly, http.DefaultTransport stays Go's own)")

// RoundTrip fails outside WebAssembly: there is no host to send the request. The
// package's init leaves http.DefaultTransport alone there, so http.Get and
// httptest servers work natively as usual.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, errNoHost
}
