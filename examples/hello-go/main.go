// Command hello-go is the smallest Go code location: one op and a job that runs it
// (`weft init --lang go DIR` starts a project with this file).
//
// Build it into a component and run it (DIR: examples/hello-go, or the one weft init wrote):
//
//	weft build DIR -o hello-go.wasm
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
