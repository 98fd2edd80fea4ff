// Failures: Permanent marks an op's error as not worth retrying; any other error or a
// panic fails its step retryably.

package weft

import (
	"errors"
	"fmt"
)

// permanentError marks an error as not worth retrying.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying: a retry policy does not try the step again.
// Any other error returned by an op fails its step retryably (as Dagster retries any
// exception), and so does a panic.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// Permanentf is Permanent(fmt.Errorf(format, args...)).
func Permanentf(format string, args ...any) error {
	return Permanent(fmt.Errorf(format, args...))
}

// IsPermanent reports whether err (or an error it wraps) was marked with [Permanent].
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
