//go:build !wasm

package weft

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	k8sjobs "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_k8s_jobs"
)

func pairs(kv ...string) []witTypes.Tuple2[string, string] {
	out := []witTypes.Tuple2[string, string]{}
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, witTypes.Tuple2[string, string]{F0: kv[i], F1: kv[i+1]})
	}
	return out
}

func TestK8sJobSpec(t *testing.T) {
	job := K8sJob{
		Image:     "busybox:1.36",
		Command:   []string{"sh", "-c"},
		Args:      []string{"echo $GREETING"},
		Env:       map[string]string{"ZED": "z", "GREETING": "hello", "ALPHA": "a"},
		Resources: &K8sResources{Requests: map[string]string{"memory": "64Mi", "cpu": "100m"}, Limits: map[string]string{"memory": "128Mi"}},
		Config:    `{"container_config": {"working_dir": "/tmp"}}`,
		Timeout:   1500 * time.Millisecond,
	}
	for range 5 { // map order varies from run to run; the spec must not
		spec, err := job.spec()
		if err != nil {
			t.Fatal(err)
		}
		if spec.Image != "busybox:1.36" || !reflect.DeepEqual(spec.Command, []string{"sh", "-c"}) || !reflect.DeepEqual(spec.Args, []string{"echo $GREETING"}) {
			t.Fatalf("image/command/args: %+v", spec)
		}
		if want := pairs("ALPHA", "a", "GREETING", "hello", "ZED", "z"); !reflect.DeepEqual(spec.Env, want) {
			t.Fatalf("env %v, want %v (sorted by name)", spec.Env, want)
		}
		res := spec.Resources.Some()
		if !reflect.DeepEqual(res.Requests, pairs("cpu", "100m", "memory", "64Mi")) || !reflect.DeepEqual(res.Limits, pairs("memory", "128Mi")) {
			t.Fatalf("resources %+v", res)
		}
		if spec.Config.Some() != job.Config {
			t.Fatalf("config %q", spec.Config.Some())
		}
		if got := spec.TimeoutSeconds.Some(); got != 2 {
			t.Fatalf("timeout %d s, want 2 (1.5 s rounded up)", got)
		}
	}

	// The zero values: no env, resources, config or timeout.
	spec, err := K8sJob{Image: "busybox"}.spec()
	if err != nil {
		t.Fatal(err)
	}
	if spec.Command == nil || spec.Args == nil || spec.Env == nil || len(spec.Command)+len(spec.Args)+len(spec.Env) != 0 {
		t.Fatalf("empty lists: %+v", spec)
	}
	if spec.Resources.IsSome() || spec.Config.IsSome() || spec.TimeoutSeconds.IsSome() {
		t.Fatalf("zero resources, config and timeout must be none: %+v", spec)
	}
	// Empty (not nil) resources still replace the inherited ones.
	spec, _ = K8sJob{Image: "busybox", Resources: &K8sResources{}}.spec()
	if !spec.Resources.IsSome() || len(spec.Resources.Some().Requests) != 0 {
		t.Fatalf("empty resources: %+v", spec.Resources)
	}

	for d, want := range map[time.Duration]uint32{
		time.Nanosecond:           1,
		time.Second:               1,
		time.Second + 1:           2,
		10 * time.Minute:          600,
		time.Duration(1<<63 - 1):  1<<32 - 1, // clamped
		(1<<32 - 1) * time.Second: 1<<32 - 1,
	} {
		spec, err := K8sJob{Image: "busybox", Timeout: d}.spec()
		if err != nil || spec.TimeoutSeconds.Some() != want {
			t.Errorf("timeout %s: %d s (%v), want %d", d, spec.TimeoutSeconds.SomeOr(0), err, want)
		}
	}
}

func TestInvalidK8sJobsFailPermanently(t *testing.T) {
	for job, want := range map[*K8sJob]string{
		{Image: " "}:                              "it has no image",
		{Image: "busybox", Config: "{not json"}:   "its Config is not a JSON object",
		{Image: "busybox", Config: `["a"]`}:       "its Config is not a JSON object",
		{Image: "busybox", Config: "null"}:        "its Config is not a JSON object",
		{Image: "busybox", Timeout: -time.Second}: "its Timeout is negative",
	} {
		called := false
		testK8sJob = func(k8sjobs.JobSpec) witTypes.Result[k8sjobs.JobRun, k8sjobs.JobError] {
			called = true
			return witTypes.Ok[k8sjobs.JobRun, k8sjobs.JobError](k8sjobs.JobRun{Name: "weft-job-x"})
		}
		_, err := ExecuteK8sJob(stepCtx("s", "s"), *job)
		testK8sJob = nil
		var jobErr *K8sJobError
		if !errors.As(err, &jobErr) || !strings.Contains(jobErr.Message, want) || !IsPermanent(err) {
			t.Errorf("%+v: error %v, want a permanent *K8sJobError saying %q", *job, err, want)
		}
		if called {
			t.Errorf("%+v: the host was called", *job)
		}
	}
	if _, err := ExecuteK8sJob(nil, K8sJob{Image: "busybox"}); err == nil || !strings.Contains(err.Error(), "*weft.Context") {
		t.Errorf("nil context: %v", err)
	}
}

func TestExecuteK8sJob(t *testing.T) {
	// Without a host (go test), clearly refused.
	_, err := ExecuteK8sJob(stepCtx("s", "s"), K8sJob{Image: "busybox"})
	var jobErr *K8sJobError
	if !errors.As(err, &jobErr) || jobErr.Message != "k8s jobs run only inside the Weft host" || jobErr.Name != "" || jobErr.ExitCode != nil {
		t.Fatalf("outside the host: %#v", err)
	}

	// With a stand-in host: the spec goes in, the name or the error comes out.
	var got k8sjobs.JobSpec
	testK8sJob = func(spec k8sjobs.JobSpec) witTypes.Result[k8sjobs.JobRun, k8sjobs.JobError] {
		got = spec
		if spec.Args[0] == "fail" {
			return witTypes.Err[k8sjobs.JobRun](k8sjobs.JobError{
				Name:     witTypes.Some("weft-job-r-s-1-1"),
				ExitCode: witTypes.Some[int32](3),
				Message:  "Kubernetes Job weft-job-r-s-1-1 failed: its container exited with code 3",
			})
		}
		return witTypes.Ok[k8sjobs.JobRun, k8sjobs.JobError](k8sjobs.JobRun{Name: "weft-job-r-s-1-0"})
	}
	defer func() { testK8sJob = nil }()
	name, err := ExecuteK8sJob(stepCtx("s", "s"), K8sJob{Image: "busybox", Args: []string{"ok"}, Env: map[string]string{"B": "2", "A": "1"}})
	if name != "weft-job-r-s-1-0" || err != nil {
		t.Fatalf("success: %q, %v", name, err)
	}
	if !reflect.DeepEqual(got.Env, pairs("A", "1", "B", "2")) {
		t.Fatalf("the host got env %v", got.Env)
	}

	// An op that returns the error fails its step with the Job's message, retryably.
	op := NewOp0("run_job", func(ctx *Context) (string, error) {
		return ExecuteK8sJob(ctx, K8sJob{Image: "busybox", Args: []string{"fail"}})
	})
	_, failure := runStep(op, "op `run_job`", stepCtx("run_job", "run_job"), nil)
	if failure == nil || failure.Message != "Kubernetes Job weft-job-r-s-1-1 failed: its container exited with code 3" || !failure.Retryable {
		t.Fatalf("failure %+v", failure)
	}

	// K8sJobOp is that op, made from the Job alone.
	hello := K8sJobOp("echo_hello", K8sJob{Image: "busybox", Args: []string{"ok"}})
	out, failure := runStep(hello, "op `echo_hello`", stepCtx("echo_hello", "echo_hello"), nil)
	if failure != nil || hello.Name() != "echo_hello" || got.Image != "busybox" {
		t.Fatalf("K8sJobOp: %v %+v %v", out, failure, got)
	}

	_, err = ExecuteK8sJob(stepCtx("s", "s"), K8sJob{Image: "busybox", Args: []string{"fail"}})
	jobErr = nil
	if !errors.As(err, &jobErr) || jobErr.Name != "weft-job-r-s-1-1" || jobErr.ExitCode == nil || *jobErr.ExitCode != 3 || IsPermanent(err) {
		t.Fatalf("error %#v", err)
	}
	// Wrapped, it is still found; marked permanent, the step is not retried.
	wrapped := Permanent(errors.Join(errors.New("training failed"), err))
	jobErr = nil
	if !errors.As(wrapped, &jobErr) || *jobErr.ExitCode != 3 || !IsPermanent(wrapped) {
		t.Fatalf("wrapped %v", wrapped)
	}
}
