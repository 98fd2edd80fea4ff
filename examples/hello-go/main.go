// Command hello-go is the smallest Go code location: one op and a job that runs it.
//
// Build it into a component and run it, from the repository root:
//
//	weft build examples/hello-go -o hello-go.wasm
//	weft run hello-go.wasm --job hello_job
package main

import weft "example.invalid/weft/guest-sdk/go"

var hello = weft.NewOp0("hello", func(ctx *weft.Context) (string, error) {
	ctx.Log.Info("saying hello", "step", ctx.StepKey)
	return "hello from go", nil
}, weft.Description("Say hello."))

var helloJob = weft.NewJob("hello_job", func(j *weft.Job) {
	j.Node(hello)
}, weft.Description("Run hello."))

func init() {
	weft.Register(weft.Definitions{Jobs: []*weft.Job{helloJob}})
}

func main() {}
