// Kubernetes Jobs from an op (Dagster's execute_k8s_job and k8s_job_op): K8sJob,
// ExecuteK8sJob and K8sJobOp, and the Job spec they hand the host.

package weft

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	k8sjobs "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_k8s_jobs"
)

// K8sJob is a Kubernetes Job an op's step runs with [ExecuteK8sJob] (Dagster's
// execute_k8s_job): one container from Image, whose log goes to the step's stdout.
//
// The Job's pod inherits from the step: the environment the location is granted, the
// instance's `k8s:` resources, node selector, tolerations, pull secrets and security
// contexts, and the step's `weft/k8s` tag. It does not inherit the instance's own
// environment, secrets or service account.
type K8sJob struct {
	// Image is the container image (required).
	Image string
	// Command is the container's entrypoint; empty keeps the image's.
	Command []string
	Args    []string
	// Env is added to the inherited environment, replacing a variable of the same name.
	Env map[string]string
	// Resources replaces the inherited resources when not nil.
	Resources *K8sResources
	// Config is JSON text shaped as a `weft/k8s` tag (container_config, pod_spec_config,
	// pod_template_spec_metadata, job_spec_config, job_metadata, merge_behavior), merged
	// last; empty for none.
	Config string
	// Timeout is how long to wait for the Job to end, rounded up to whole seconds; zero
	// waits as long as the step may (the step's own deadline bounds the wait in any case).
	// A Job still running when the wait ends is deleted.
	Timeout time.Duration
}

// K8sResources are a container's resources as Kubernetes quantities, by resource name:
// {"cpu": "500m", "memory": "1Gi"}.
type K8sResources struct {
	Requests map[string]string
	Limits   map[string]string
}

// K8sJobError is why a Kubernetes Job did not succeed: [ExecuteK8sJob] returns it (find
// it with errors.As). Returned from an op it fails the step with Message, retryably
// unless marked with [Permanent], as any error does.
type K8sJobError struct {
	// Name is the Job's name, or "" when it was not created.
	Name string
	// ExitCode is its container's exit code when it ran and exited non-zero, else nil.
	ExitCode *int32
	// Message says what happened: the Job's condition, the exit code, the end of its
	// log; or why it could not be started (no grant, no cluster, refused).
	Message string
}

func (e *K8sJobError) Error() string { return e.Message }

// ExecuteK8sJob runs job as a Kubernetes Job from the step of ctx and waits for it to
// end (Dagster's execute_k8s_job). The Job's log is streamed into the step's stdout
// (its compute logs) line by line. It returns the Job's name when its container exited
// with code 0, and otherwise a [*K8sJobError]:
//
//	var train = weft.NewOp0("train", func(ctx *weft.Context) (string, error) {
//		return weft.ExecuteK8sJob(ctx, weft.K8sJob{
//			Image:   "python:3.12-slim",
//			Command: []string{"python", "-c", "print('trained')"},
//			Env:     map[string]string{"RUN_ID": ctx.RunID},
//			Timeout: 10 * time.Minute,
//		})
//	})
//
// Only a location granted `k8s_jobs: true` under `locations.<name>` in the instance's
// weft.yaml may start Jobs, and only from an op's or asset's step. Outside WebAssembly
// (go test) there is no host and it fails with "k8s jobs run only inside the Weft host".
// A job the SDK can tell is wrong (no image, Config that is not JSON, a negative
// timeout) fails permanently without starting anything.
func ExecuteK8sJob(ctx *Context, job K8sJob) (jobName string, err error) {
	if ctx == nil {
		return "", Permanent(&K8sJobError{Message: "weft.ExecuteK8sJob needs the step's *weft.Context (a Job is started from an op's or asset's step)"})
	}
	spec, err := job.spec()
	if err != nil {
		return "", err
	}
	return k8sOutcome(hostK8sJob(spec))
}

// K8sJobOp makes an op named name that runs job and returns its name (Dagster's
// k8s_job_op.configured(config, name)): usable in any location's job once the location
// is granted `k8s_jobs: true`. A downstream op may take its output as an ordering input.
func K8sJobOp(name string, job K8sJob, opts ...Option) *Op {
	return NewOp0(name, func(ctx *Context) (string, error) { return ExecuteK8sJob(ctx, job) }, opts...)
}

// spec is the job as the contract's record: env and resources sorted by name, so that the
// same K8sJob always makes the same spec.
func (j K8sJob) spec() (k8sjobs.JobSpec, error) {
	invalid := func(format string, args ...any) (k8sjobs.JobSpec, error) {
		return k8sjobs.JobSpec{}, Permanent(&K8sJobError{Message: "invalid Kubernetes Job: " + fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(j.Image) == "" {
		return invalid("it has no image")
	}
	spec := k8sjobs.JobSpec{
		Image:          j.Image,
		Command:        append([]string{}, j.Command...),
		Args:           append([]string{}, j.Args...),
		Env:            sortedPairs(j.Env),
		Resources:      witTypes.None[k8sjobs.Resources](),
		Config:         witTypes.None[string](),
		TimeoutSeconds: witTypes.None[uint32](),
	}
	if j.Resources != nil {
		spec.Resources = witTypes.Some(k8sjobs.Resources{
			Requests: sortedPairs(j.Resources.Requests),
			Limits:   sortedPairs(j.Resources.Limits),
		})
	}
	if strings.TrimSpace(j.Config) != "" {
		var shape map[string]json.RawMessage
		if err := json.Unmarshal([]byte(j.Config), &shape); err != nil || shape == nil {
			if err == nil {
				err = fmt.Errorf("it is %s", strings.TrimSpace(j.Config))
			}
			return invalid("its Config is not a JSON object shaped as a weft/k8s tag: %v", err)
		}
		spec.Config = witTypes.Some(j.Config)
	}
	switch {
	case j.Timeout < 0:
		return invalid("its Timeout is negative (%s)", j.Timeout)
	case j.Timeout > 0:
		spec.TimeoutSeconds = witTypes.Some(timeoutSeconds(j.Timeout))
	}
	return spec, nil
}

// timeoutSeconds is d rounded up to whole seconds, at most what the contract can say.
func timeoutSeconds(d time.Duration) uint32 {
	secs := d / time.Second
	if d%time.Second != 0 {
		secs++
	}
	if secs > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(secs)
}

func sortedPairs(m map[string]string) []witTypes.Tuple2[string, string] {
	out := make([]witTypes.Tuple2[string, string], 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, witTypes.Tuple2[string, string]{F0: k, F1: m[k]})
	}
	return out
}

// k8sOutcome is the host's answer in the SDK's terms.
func k8sOutcome(r witTypes.Result[k8sjobs.JobRun, k8sjobs.JobError]) (string, error) {
	if r.IsOk() {
		return r.Ok().Name, nil
	}
	e := r.Err()
	out := &K8sJobError{Name: e.Name.SomeOr(""), Message: e.Message}
	if e.ExitCode.IsSome() {
		code := e.ExitCode.Some()
		out.ExitCode = &code
	}
	if out.Message == "" {
		out.Message = "the Kubernetes Job did not succeed"
	}
	return "", out
}
