//go:build wasm

// The host, on wasm: the component's export handlers installed, and the imports (log,
// resources, k8s-jobs) called.

package weft

import (
	witRuntime "example.invalid/weft/guest-sdk/go/internal/witrt/runtime"
	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	exportChecks "example.invalid/weft/guest-sdk/go/wit/exports/export_weft_plugin_checks"
	exportDefinitions "example.invalid/weft/guest-sdk/go/wit/exports/export_weft_plugin_definitions"
	exportHooks "example.invalid/weft/guest-sdk/go/wit/exports/export_weft_plugin_hooks"
	exportOps "example.invalid/weft/guest-sdk/go/wit/exports/export_weft_plugin_ops"
	exportSchedules "example.invalid/weft/guest-sdk/go/wit/exports/export_weft_plugin_schedules"
	exportSensors "example.invalid/weft/guest-sdk/go/wit/exports/export_weft_plugin_sensors"
	_ "example.invalid/weft/guest-sdk/go/wit/exports/wit_exports" // the component's exports
	k8sjobs "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_k8s_jobs"
	"example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_log"
	"example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_resources"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// The component's exports are served by the registry (registry.go), each after an instance
// made from a build-time snapshot has read its own state again (preinit_wasm.go), with the
// collector on while they run (see witrt/runtime.CollectorOn: it is off while the host calls
// cabi_realloc).
func init() {
	exportDefinitions.Handler = func() witTypes.Result[types.Definitions, types.Failure] {
		refreshAfterSnapshot()
		defer witRuntime.CollectorOn()()
		return getDefinitions()
	}
	exportOps.Handler = func(ctx types.StepContext, inputs []types.StepInput) witTypes.Result[[]types.StepOutput, types.Failure] {
		refreshAfterSnapshot()
		defer witRuntime.CollectorOn()()
		return execute(ctx, inputs)
	}
	exportSensors.Handler = func(name string, ctx types.SensorContext) witTypes.Result[types.SensorResult, types.Failure] {
		refreshAfterSnapshot()
		defer witRuntime.CollectorOn()()
		return evaluateSensor(name, ctx)
	}
	exportSchedules.Handler = func(name string, ctx types.ScheduleContext) witTypes.Result[types.ScheduleResult, types.Failure] {
		refreshAfterSnapshot()
		defer witRuntime.CollectorOn()()
		return evaluateSchedule(name, ctx)
	}
	exportHooks.Handler = func(name string, ctx types.HookContext) witTypes.Result[witTypes.Unit, types.Failure] {
		refreshAfterSnapshot()
		defer witRuntime.CollectorOn()()
		return runHook(name, ctx)
	}
	exportChecks.Handler = func(ctx types.StepContext, inputs []types.StepInput) witTypes.Result[types.CheckResult, types.Failure] {
		refreshAfterSnapshot()
		defer witRuntime.CollectorOn()()
		return evaluateCheck(ctx, inputs)
	}
}

func hostLog(level Level, msg string, fields [][2]string) {
	tuples := make([]witTypes.Tuple2[string, string], len(fields))
	for i, f := range fields {
		tuples[i] = witTypes.Tuple2[string, string]{F0: f[0], F1: f[1]}
	}
	weft_plugin_log.Log(weft_plugin_log.Level(level), msg, tuples)
}

func hostResource(name string) (string, []byte, bool) {
	restore := witRuntime.CollectorOff() // the host calls cabi_realloc for the value
	v := weft_plugin_resources.Get(name)
	restore()
	if v.IsNone() {
		return "", nil, false
	}
	value := v.Some()
	return value.Codec, value.Data, true
}

func hostK8sJob(spec k8sjobs.JobSpec) witTypes.Result[k8sjobs.JobRun, k8sjobs.JobError] {
	restore := witRuntime.CollectorOff() // the host calls cabi_realloc for the name and message
	defer restore()
	return k8sjobs.Execute(spec)
}
