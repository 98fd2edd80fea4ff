//go:build !wasm

package weft

import (
	"fmt"
	"os"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	k8sjobs "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_k8s_jobs"
)

// Outside WebAssembly (go test, go vet) there is no host: log lines go to stderr, or to
// testLog when a test sets it, resources come from testResources, and Kubernetes Jobs
// fail unless a test sets testK8sJob.
var (
	testLog       func(level Level, msg string, fields [][2]string)
	testResources = map[string]Resource{}
	testK8sJob    func(spec k8sjobs.JobSpec) witTypes.Result[k8sjobs.JobRun, k8sjobs.JobError]
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

func hostK8sJob(spec k8sjobs.JobSpec) witTypes.Result[k8sjobs.JobRun, k8sjobs.JobError] {
	if testK8sJob != nil {
		return testK8sJob(spec)
	}
	return witTypes.Err[k8sjobs.JobRun](k8sjobs.JobError{
		Name:     witTypes.None[string](),
		ExitCode: witTypes.None[int32](),
		Message:  "k8s jobs run only inside the Weft host",
	})
}
