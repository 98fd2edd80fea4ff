//go:build wasm

package wefthttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"runtime"
	"time"

	witRuntime "example.invalid/weft/guest-sdk/go/internal/witrt/runtime"
	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	clock "example.invalid/weft/guest-sdk/go/wit/imports/wasi_clocks_monotonic_clock"
	handler "example.invalid/weft/guest-sdk/go/wit/imports/wasi_http_outgoing_handler"
	types "example.invalid/weft/guest-sdk/go/wit/imports/wasi_http_types"
	"example.invalid/weft/guest-sdk/go/wit/imports/wasi_io_poll"
	streams "example.invalid/weft/guest-sdk/go/wit/imports/wasi_io_streams"
)

func init() {
	http.DefaultTransport = &Transport{}
	// net/textproto builds its table of common header names on first use; done here, in
	// the package's initializer, a pre-initialized component keeps it in its snapshot
	// instead of building it again in every instance's first response.
	textproto.CanonicalMIMEHeaderKey("Content-Type")
}

// maxWrite is the most bytes one blocking-write-and-flush may be given (wasi:io).
const maxWrite = 4096

// maxRead is the most bytes one Read of a response body asks the host for.
const maxRead = 64 << 10

// hostCall runs an import that returns values (strings, lists, or variants holding them):
// with the collector off while the host allocates them through cabi_realloc (see
// internal/witrt), then unpinning what it allocated, which the lifted Go values now keep
// alive, so that a long stream of reads does not pin every buffer until the step ends.
func hostCall[T any](call func() T) T {
	restore := witRuntime.CollectorOff()
	value := call()
	restore()
	witRuntime.Unpin()
	return value
}

// RoundTrip sends req through the host's wasi:http/outgoing-handler and returns its
// response, whose Body streams the host's. It never panics on what the host answers.
func (t *Transport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	closeBody := req.Body != nil
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, fmt.Errorf("wefthttp: %v", r)
		}
		if closeBody {
			req.Body.Close() // a RoundTripper closes the request's body, even on errors
		}
	}()
	out, err := outgoingRequest(req)
	if err != nil {
		return nil, err
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// The request: headers, then method, scheme, authority and path.
	fields := types.MakeFields()
	for _, entry := range out.headers {
		res := fields.Append(entry.F0, entry.F1)
		if res.IsErr() {
			fields.Drop()
			return nil, fmt.Errorf("wefthttp: header %q: %s", entry.F0, headerError(res.Err()))
		}
	}
	request := types.MakeOutgoingRequest(fields) // takes the fields
	defer request.Drop()                         // unless handle took it
	if request.SetMethod(out.method).IsErr() {
		return nil, fmt.Errorf("wefthttp: invalid method %q", req.Method)
	}
	if request.SetScheme(witTypes.Some(out.scheme)).IsErr() {
		return nil, fmt.Errorf("wefthttp: invalid scheme %q", req.URL.Scheme)
	}
	if request.SetAuthority(witTypes.Some(out.authority)).IsErr() {
		return nil, fmt.Errorf("wefthttp: invalid host %q", out.authority)
	}
	if request.SetPathWithQuery(witTypes.Some(out.pathWithQuery)).IsErr() {
		return nil, fmt.Errorf("wefthttp: invalid path %q", out.pathWithQuery)
	}
	var body *types.OutgoingBody
	if out.hasBody {
		res := request.Body()
		if res.IsErr() {
			return nil, fmt.Errorf("wefthttp: the host refused the request's body")
		}
		body = res.Ok()
		defer body.Drop() // unless finished: dropping it aborts the request
	}

	// The deadline, if any, as the host's timeouts.
	deadline, hasDeadline := ctx.Deadline()
	options := witTypes.None[*types.RequestOptions]()
	if hasDeadline {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, context.DeadlineExceeded
		}
		opts := types.MakeRequestOptions()
		ns := witTypes.Some(uint64(left))
		// A host that does not support a timeout refuses it; the wait below still ends.
		opts.SetConnectTimeout(ns)
		opts.SetFirstByteTimeout(ns)
		opts.SetBetweenBytesTimeout(ns)
		options = witTypes.Some(opts)
	}

	sent := hostCall(func() witTypes.Result[*types.FutureIncomingResponse, types.ErrorCode] {
		return handler.Handle(request, options) // takes the request and the options
	})
	if sent.IsErr() {
		return nil, errorFromCode(sent.Err())
	}
	future := sent.Ok()
	defer future.Drop()

	if body != nil {
		if hostFailed, err := sendBody(body, req.Body); err != nil {
			body.Drop() // aborts the request
			if !hostFailed {
				return nil, err
			}
			// The stream failed: the host's answer says why (the request was refused, the
			// connection failed), or is the server's early response; wait for it.
			if hasDeadline && !waitUntil(future.Subscribe(), deadline) {
				return nil, err
			}
			for {
				res, ready := futureResult(future)
				if !ready {
					wait(future.Subscribe())
					continue
				}
				if res.IsErr() {
					return nil, res.Err()
				}
				return response(req, res.Ok()), nil
			}
		}
	}

	if hasDeadline && !waitUntil(future.Subscribe(), deadline) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, context.DeadlineExceeded
	}
	for {
		res, ready := futureResult(future)
		if ready {
			if res.IsErr() {
				return nil, res.Err()
			}
			return response(req, res.Ok()), nil
		}
		wait(future.Subscribe())
	}
}

// sendBody writes the request's body into the outgoing body, at most maxWrite bytes at a
// time, and finishes it. On error the body is left to the caller to drop (which aborts
// the request); hostFailed says whether the host's side failed, rather than reading
// the request's body.
func sendBody(body *types.OutgoingBody, from io.Reader) (hostFailed bool, err error) {
	res := body.Write()
	if res.IsErr() {
		return true, fmt.Errorf("wefthttp: the host gave no stream for the request's body")
	}
	stream := res.Ok()
	defer stream.Drop() // before the body, its parent
	buf := make([]byte, maxWrite)
	for {
		n, readErr := from.Read(buf)
		if n > 0 {
			written := stream.BlockingWriteAndFlush(buf[:n])
			if written.IsErr() {
				return true, streamError("sending the request's body", written.Err())
			}
		}
		if readErr == io.EOF {
			break
		}
		if readErr != nil {
			return false, fmt.Errorf("wefthttp: reading the request's body: %w", readErr)
		}
	}
	stream.Drop()
	finished := hostCall(func() witTypes.Result[witTypes.Unit, types.ErrorCode] {
		return types.OutgoingBodyFinish(body, witTypes.None[*types.Fields]()) // takes the body
	})
	if finished.IsErr() {
		return true, errorFromCode(finished.Err())
	}
	return false, nil
}

// futureResult is the response (or the error) future resolved to, and whether it has.
func futureResult(future *types.FutureIncomingResponse) (witTypes.Result[*types.IncomingResponse, error], bool) {
	got := hostCall(future.Get)
	if got.IsNone() {
		return witTypes.Result[*types.IncomingResponse, error]{}, false
	}
	outer := got.Some()
	if outer.IsErr() {
		return witTypes.Err[*types.IncomingResponse, error](errors.New("wefthttp: the response was already taken")), true
	}
	inner := outer.Ok()
	if inner.IsErr() {
		return witTypes.Err[*types.IncomingResponse, error](errorFromCode(inner.Err())), true
	}
	return witTypes.Ok[*types.IncomingResponse, error](inner.Ok()), true
}

// wait blocks until pollable is ready, then drops it.
func wait(pollable *wasi_io_poll.Pollable) {
	defer pollable.Drop()
	pollable.Block()
}

// waitUntil blocks until pollable is ready (true) or deadline passes (false), then drops
// it.
func waitUntil(pollable *wasi_io_poll.Pollable, deadline time.Time) bool {
	defer pollable.Drop()
	left := time.Until(deadline)
	if left <= 0 {
		return pollable.Ready()
	}
	timer := clock.SubscribeDuration(uint64(left))
	defer timer.Drop()
	ready := hostCall(func() []uint32 { return wasi_io_poll.Poll([]*wasi_io_poll.Pollable{pollable, timer}) })
	for _, i := range ready {
		if i == 0 {
			return true
		}
	}
	return false
}

// response is the http.Response of an incoming response; it owns its resources.
func response(req *http.Request, incoming *types.IncomingResponse) *http.Response {
	// The body's resources are dropped in order (stream, body, response) by the body
	// reader, never by the bindings' cleanups, which could run in any order.
	r := &resources{response: types.IncomingResponseFromBorrowHandle(incoming.TakeHandle())}
	status := int(r.response.Status())
	fields := r.response.Headers()
	entries := hostCall(fields.Entries)
	fields.Drop()
	resp := newResponse(req, status, responseHeader(entries))

	if consumed := r.response.Consume(); consumed.IsOk() {
		r.body = types.IncomingBodyFromBorrowHandle(consumed.Ok().TakeHandle())
		if stream := r.body.Stream(); stream.IsOk() {
			r.stream = streams.InputStreamFromBorrowHandle(stream.Ok().TakeHandle())
		}
	}
	if r.stream == nil {
		r.release()
		resp.Body = http.NoBody
		return resp
	}
	reader := &bodyReader{r: r}
	runtime.AddCleanup(reader, func(r *resources) { r.release() }, r)
	resp.Body = reader
	return resp
}

// resources are a response's handles, held without the bindings' cleanups.
type resources struct {
	response *types.IncomingResponse
	body     *types.IncomingBody // nil once finished
	stream   *streams.InputStream
}

// release drops what is left, children first. Dropping twice is harmless.
func (r *resources) release() {
	if r.stream != nil {
		r.stream.Drop()
	}
	if r.body != nil {
		r.body.Drop()
	}
	r.response.Drop()
}

// finish ends a body read to its end: it drops the stream, finishes the body and waits
// for its trailers, which say whether the body arrived whole. It returns io.EOF, or the
// error the host reported at the end.
func (r *resources) finish() error {
	r.stream.Drop()
	trailers := types.IncomingBodyFinish(r.body) // takes the body
	r.body = nil
	defer trailers.Drop()
	for {
		got := hostCall(trailers.Get)
		if got.IsNone() {
			wait(trailers.Subscribe())
			continue
		}
		outer := got.Some()
		if outer.IsErr() {
			return io.EOF
		}
		inner := outer.Ok()
		if inner.IsErr() {
			return errorFromCode(inner.Err())
		}
		if t := inner.Ok(); t.IsSome() {
			t.Some().Drop()
		}
		return io.EOF
	}
}

// bodyReader is a response's Body: it reads the host's input-stream as it is read.
type bodyReader struct {
	r   *resources
	err error // once set, every Read returns it
}

var errClosed = errors.New("http: read on closed response body")

func (b *bodyReader) Read(p []byte) (n int, err error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	defer func() {
		if r := recover(); r != nil {
			b.err = fmt.Errorf("wefthttp: reading the response's body: %v", r)
			b.r.release()
			n, err = 0, b.err
		}
	}()
	for {
		res := hostCall(func() witTypes.Result[[]uint8, streams.StreamError] {
			return b.r.stream.BlockingRead(uint64(min(len(p), maxRead)))
		})
		if res.IsOk() {
			if n := copy(p, res.Ok()); n > 0 {
				return n, nil
			}
			continue // blocking-read waits for at least a byte; an empty read is retried
		}
		if e := res.Err(); e.Tag() == streams.StreamError_Closed {
			b.err = b.r.finish()
		} else {
			b.err = streamError("reading the response's body", e)
		}
		b.r.release()
		return 0, b.err
	}
}

func (b *bodyReader) Close() error {
	if b.err == nil || b.err == io.EOF {
		b.err = errClosed
	}
	b.r.release()
	return nil
}

// streamError is the error of a failed stream operation: the wasi:http error-code the
// host attached to it, else the host's description of it. It drops the io error.
func streamError(doing string, e streams.StreamError) error {
	if e.Tag() != streams.StreamError_LastOperationFailed {
		return fmt.Errorf("wefthttp: %s: the stream was closed", doing)
	}
	ioErr := e.LastOperationFailed()
	defer ioErr.Drop()
	if code := hostCall(func() witTypes.Option[types.ErrorCode] { return types.HttpErrorCode(ioErr) }); code.IsSome() {
		return errorFromCode(code.Some())
	}
	return fmt.Errorf("wefthttp: %s: %s", doing, hostMessage(hostCall(ioErr.ToDebugString)))
}

// headerError names a wasi:http header-error.
func headerError(e types.HeaderError) string {
	switch e.Tag() {
	case types.HeaderError_InvalidSyntax:
		return "invalid name or value"
	case types.HeaderError_Forbidden:
		return "forbidden by the host"
	case types.HeaderError_Immutable:
		return "the headers are immutable"
	}
	return fmt.Sprintf("header error %d", e.Tag())
}
