// definitions.get: the registry as the contract's definitions, and the conversions of
// the SDK's types to the contract's.

package weft

import (
	"reflect"
	"strings"
	"time"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// --- definitions.get -------------------------------------------------------------------

func getDefinitions() witTypes.Result[types.Definitions, types.Failure] {
	r := theRegistry()
	if len(r.errs) > 0 {
		return witTypes.Err[types.Definitions](permanent("the location's definitions are invalid:\n" + strings.Join(r.errs, "\n")))
	}
	return witTypes.Ok[types.Definitions, types.Failure](r.definitions())
}

func (r *registry) definitions() types.Definitions {
	out := types.Definitions{
		Ops:         []types.OpDef{},
		Jobs:        []types.JobDef{},
		Assets:      []types.AssetDef{},
		AssetJobs:   []types.AssetJobDef{},
		Schedules:   []types.ScheduleDef{},
		Sensors:     []types.SensorDef{},
		Hooks:       []types.HookDef{},
		AssetChecks: []types.AssetCheckDef{},
	}
	for _, op := range r.ops {
		inputs := make([]types.InputDef, len(op.params))
		for i, p := range op.params {
			inputs[i] = types.InputDef{Name: p.name, TypeName: typeString(p.typ)}
		}
		out.Ops = append(out.Ops, types.OpDef{
			Name:         op.name,
			Description:  optional(op.s.description),
			Inputs:       inputs,
			Outputs:      op.outputDefs(),
			ConfigSchema: optional(op.s.configSchema),
			Tags:         tags(op.s.tags),
			RetryPolicy:  retry(op.s.retry),
		})
	}
	for _, job := range r.defs.Jobs {
		def := types.JobDef{Name: job.name, Description: optional(job.s.description), Tags: tags(job.s.tags), Nodes: []types.NodeDef{}}
		for _, n := range job.nodes {
			def.Nodes = append(def.Nodes, nodeDef(n, job.s.hooks))
		}
		out.Jobs = append(out.Jobs, def)
	}
	for _, a := range r.defs.Assets {
		kinds := append([]string{}, a.op.s.kinds...)
		deps := append([]types.AssetDep{}, r.deps[a]...)
		out.Assets = append(out.Assets, types.AssetDef{
			Key:          a.Key(),
			Group:        a.group(),
			Description:  optional(a.op.s.description),
			Kinds:        kinds,
			Deps:         deps,
			Tags:         tags(a.op.s.tags),
			RetryPolicy:  retry(a.op.s.retry),
			ConfigSchema: optional(a.op.s.configSchema),
			Multi:        witTypes.None[types.MultiAssetOut](),
			Graph:        a.graphDef(),
		})
	}
	for _, m := range r.multis {
		out.Assets = append(out.Assets, r.multiAssetDefs(m)...)
	}
	for _, j := range r.defs.AssetJobs {
		out.AssetJobs = append(out.AssetJobs, types.AssetJobDef{
			Name: j.name, Description: optional(j.s.description), Selection: j.selection, Tags: tags(j.s.tags),
		})
	}
	for _, s := range r.defs.Schedules {
		out.Schedules = append(out.Schedules, types.ScheduleDef{
			Name:          s.name,
			Job:           s.job.JobName(),
			Cron:          s.cron,
			Timezone:      optional(s.s.timezone),
			Description:   optional(s.s.description),
			Tags:          tags(s.s.tags),
			DefaultStatus: defaultStatus(s.s.defaultStatus),
			Evaluates:     s.s.evaluate != nil,
		})
	}
	for _, s := range r.defs.Sensors {
		job := witTypes.None[string]()
		if s.s.job != nil {
			job = witTypes.Some(s.s.job.JobName())
		}
		out.Sensors = append(out.Sensors, types.SensorDef{
			Name:                   s.name,
			Job:                    job,
			MinimumIntervalSeconds: uint32(s.s.interval / time.Second),
			Description:            optional(s.s.description),
			DefaultStatus:          defaultStatus(s.s.defaultStatus),
			Kind:                   sensorKind(s),
		})
	}
	for _, h := range r.hooks {
		out.Hooks = append(out.Hooks, hookDef(h))
	}
	for _, c := range r.checks {
		out.AssetChecks = append(out.AssetChecks, assetCheckDef(c))
	}
	return out
}

// nodeDef is the node n of a job (whose hooks every node gets) or of a graph asset, as
// the contract describes it: the inputs a graph asset's input feeds are its graph's
// inputs, not bindings.
func nodeDef(n *Node, jobHooks []*Hook) types.NodeDef {
	node := types.NodeDef{Name: n.name, Op: n.op.name, Tags: tags(n.tags), Inputs: []types.InputBinding{}, Hooks: hookNames(n.hooks, jobHooks)}
	for _, b := range n.inputs {
		if b.dep != "" {
			continue
		}
		binding := types.InputBinding{Input: b.input, FanIn: b.fanIn, Collect: b.collect, Sources: []types.OutputRef{}}
		for i, src := range b.sources {
			binding.Sources = append(binding.Sources, types.OutputRef{Node: src.name, Output: b.outputs[i]})
		}
		node.Inputs = append(node.Inputs, binding)
	}
	return node
}

// sensorKind is what s watches, as the contract says it.
func sensorKind(s *Sensor) types.SensorKind {
	if s.runStatus == 0 {
		return types.MakeSensorKindStandard()
	}
	jobs := []string{}
	for _, j := range s.s.monitored {
		if j != nil {
			jobs = append(jobs, j.JobName())
		}
	}
	return types.MakeSensorKindRunStatus(types.RunStatusFilter{
		Status:        runEnd(s.runStatus),
		MonitoredJobs: jobs,
		AllLocations:  s.s.allLocations,
	})
}

func runEnd(s RunStatus) types.RunEnd {
	switch s {
	case RunFailure:
		return types.RunEnd_Failure
	case RunCanceled:
		return types.RunEnd_Canceled
	}
	return types.RunEnd_Success
}

// endedRun is the run in a run-status sensor's context, in the SDK's terms.
func endedRun(r types.EndedRun) *EndedRun {
	status := RunSuccess
	switch r.Status {
	case types.RunEnd_Failure:
		status = RunFailure
	case types.RunEnd_Canceled:
		status = RunCanceled
	}
	tags := make(map[string]string, len(r.Tags))
	for _, t := range r.Tags {
		tags[t.F0] = t.F1
	}
	return &EndedRun{
		RunID:    r.RunId,
		Job:      r.Job,
		Location: r.Location,
		Status:   status,
		Tags:     tags,
		Error:    r.Error.SomeOr(""),
		Ended:    time.UnixMilli(int64(r.EndedMs)).UTC(),
	}
}

// --- conversions -----------------------------------------------------------------------

func permanent(message string) types.Failure {
	return types.Failure{Message: message, Retryable: false}
}

func optional(s string) witTypes.Option[string] {
	if s == "" {
		return witTypes.None[string]()
	}
	return witTypes.Some(s)
}

func tags(pairs [][2]string) []witTypes.Tuple2[string, string] {
	out := make([]witTypes.Tuple2[string, string], len(pairs))
	for i, p := range pairs {
		out[i] = witTypes.Tuple2[string, string]{F0: p[0], F1: p[1]}
	}
	return out
}

func retry(p *RetryPolicy) witTypes.Option[types.RetryPolicy] {
	if p == nil {
		return witTypes.None[types.RetryPolicy]()
	}
	backoff := types.Backoff_Constant
	if p.Backoff == Exponential {
		backoff = types.Backoff_Exponential
	}
	return witTypes.Some(types.RetryPolicy{MaxRetries: p.MaxRetries, DelayMs: uint64(p.Delay / time.Millisecond), Backoff: backoff})
}

func defaultStatus(s DefaultStatus) types.DefaultStatus {
	if s == Running {
		return types.DefaultStatus_Running
	}
	return types.DefaultStatus_Stopped
}

func typeString(t reflect.Type) witTypes.Option[string] {
	if t == nil {
		return witTypes.None[string]()
	}
	return witTypes.Some(t.String())
}
