//go:build !wasm

package weft

import (
	"fmt"
	"os"
)

// Outside WebAssembly (go test, go vet) there is no host: log lines go to stderr, or to
// testLog when a test sets it, and resources come from testResources.
var (
	testLog       func(level Level, msg string, fields [][2]string)
	testResources = map[string]Resource{}
)

func hostLog(level Level, msg string, fields [][2]string) {
	if testLog != nil {
		testLog(level, msg, fields)
		return
	}
	fmt.Fprintln(os.Stderr, formatLine(level, msg, fields))
}

func hostResource(name string) (string, []byte, bool) {
	r, ok := testResources[name]
	return r.Codec, r.Data, ok
}
