// Command hello-go is the smallest Go code location: one op and a job that runs it.
//
// Build it into a component from the repository root:
//
//	tests/guests/build-polyglot.sh
//
// or, for this location only:
//
//	cargo run --release -p weft-build --example componentize -- go examples/hello-go hello-go.wasm
package main

import weft "example.invalid/weft/guest-sdk/go"

var hello = &weft.Op{
	Name:        "hello",
	Description: "Say hello.",
	Run: func(*weft.Context, weft.Inputs) (any, error) {
		return "hello from go", nil
	},
}

func init() {
	weft.Register(weft.Definitions{
		Jobs: []*weft.Job{{
			Name:        "hello_job",
			Description: "Run hello.",
			Nodes:       []weft.Node{{Op: hello}},
		}},
	})
}

func main() {}
