package weft

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// registry is the registered definitions, built and checked, as the exports serve them.
type registry struct {
	defs   *Definitions
	ops    []*Op
	byName map[string]*Op
	deps   map[*Asset][]types.AssetDep
	errs   []string
}

func (r *registry) err() error {
	return errors.New(strings.Join(r.errs, "\n"))
}

// theRegistry builds the registered definitions once per instance.
func theRegistry() *registry {
	if built == nil {
		if registered == nil {
			built = &registry{errs: []string{"the code location registered no definitions: call weft.Register(weft.Definitions{...}) in an init function"}}
		} else {
			built = build(registered)
			if registers > 1 {
				built.errs = append(built.errs, fmt.Sprintf("weft.Register was called %d times; call it once", registers))
			}
		}
	}
	return built
}

func build(defs *Definitions) *registry {
	r := &registry{defs: defs, byName: map[string]*Op{}, deps: map[*Asset][]types.AssetDep{}}
	addOp := func(op *Op) {
		if known, ok := r.byName[op.name]; ok {
			if known != op {
				r.errs = append(r.errs, fmt.Sprintf("two different ops are named `%s`", op.name))
			}
			return
		}
		r.byName[op.name] = op
		r.ops = append(r.ops, op)
		r.errs = append(r.errs, op.errs...)
	}
	for _, op := range defs.Ops {
		if op == nil {
			r.errs = append(r.errs, "Definitions.Ops holds a nil *weft.Op")
			continue
		}
		addOp(op)
	}
	names := map[string]string{}
	unique := func(kind, name string) {
		if prev, ok := names[kind+name]; ok {
			r.errs = append(r.errs, fmt.Sprintf("two %s are named `%s` (%s)", kind, name, prev))
		}
		names[kind+name] = kind
	}
	for _, job := range defs.Jobs {
		if job == nil {
			r.errs = append(r.errs, "Definitions.Jobs holds a nil *weft.Job")
			continue
		}
		unique("jobs", job.name)
		r.errs = append(r.errs, job.errors()...)
		for _, n := range job.nodes {
			if n.op != nil {
				addOp(n.op)
			}
		}
	}
	for _, job := range defs.AssetJobs {
		if job == nil {
			r.errs = append(r.errs, "Definitions.AssetJobs holds a nil *weft.AssetJob")
			continue
		}
		unique("jobs", job.name)
		r.errs = append(r.errs, job.errs...)
	}
	for _, s := range defs.Schedules {
		if s == nil {
			r.errs = append(r.errs, "Definitions.Schedules holds a nil *weft.Schedule")
			continue
		}
		unique("schedules", s.name)
		r.errs = append(r.errs, s.errs...)
	}
	for _, s := range defs.Sensors {
		if s == nil {
			r.errs = append(r.errs, "Definitions.Sensors holds a nil *weft.Sensor")
			continue
		}
		unique("sensors", s.name)
		r.errs = append(r.errs, s.errs...)
	}
	var keys [][]string
	for _, a := range defs.Assets {
		if a == nil {
			r.errs = append(r.errs, "Definitions.Assets holds a nil *weft.Asset")
			continue
		}
		unique("assets", a.KeyString())
		r.errs = append(r.errs, a.op.errs...)
		keys = append(keys, a.Key())
	}
	for _, a := range defs.Assets {
		if a != nil {
			r.deps[a] = r.resolveDeps(a, keys)
		}
	}
	return r
}

// resolveDeps finds the upstream asset of each input of a: the one InputKey names, else
// the one with a's prefix and the input's name, else the only one with that name.
func (r *registry) resolveDeps(a *Asset, keys [][]string) []types.AssetDep {
	var deps []types.AssetDep
	for _, p := range a.op.params {
		key, ok := a.op.s.inputKeys[p.name]
		if !ok {
			same := append(append([]string(nil), a.op.s.keyPrefix...), p.name)
			var named [][]string
			for _, k := range keys {
				if equalKeys(k, same) {
					named = [][]string{k}
					break
				}
				if k[len(k)-1] == p.name {
					named = append(named, k)
				}
			}
			switch len(named) {
			case 1:
				key = named[0]
			case 0:
				r.errs = append(r.errs, fmt.Sprintf("asset `%s`: input `%s` names no asset of this location (use weft.InputKey(%q, \"other/location/key\") for another's)", a.KeyString(), p.name, p.name))
				continue
			default:
				r.errs = append(r.errs, fmt.Sprintf("asset `%s`: input `%s` matches several assets; use weft.InputKey to pick one", a.KeyString(), p.name))
				continue
			}
		}
		deps = append(deps, types.AssetDep{Key: key, Input: witTypes.Some(p.name)})
	}
	for input := range a.op.s.inputKeys {
		found := false
		for _, p := range a.op.params {
			found = found || p.name == input
		}
		if !found {
			r.errs = append(r.errs, fmt.Sprintf("asset `%s`: weft.InputKey names `%s`, which is not one of its inputs %s", a.KeyString(), input, paramNames(a.op.params)))
		}
	}
	for _, key := range a.op.s.deps {
		deps = append(deps, types.AssetDep{Key: key, Input: witTypes.None[string]()})
	}
	return deps
}

func equalKeys(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

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
		Ops:       []types.OpDef{},
		Jobs:      []types.JobDef{},
		Assets:    []types.AssetDef{},
		AssetJobs: []types.AssetJobDef{},
		Schedules: []types.ScheduleDef{},
		Sensors:   []types.SensorDef{},
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
			Outputs:      []types.OutputDef{{Name: "result", TypeName: typeString(op.out)}},
			ConfigSchema: optional(op.s.configSchema),
			Tags:         tags(op.s.tags),
			RetryPolicy:  retry(op.s.retry),
		})
	}
	for _, job := range r.defs.Jobs {
		def := types.JobDef{Name: job.name, Description: optional(job.s.description), Tags: tags(job.s.tags), Nodes: []types.NodeDef{}}
		for _, n := range job.nodes {
			node := types.NodeDef{Name: n.name, Op: n.op.name, Tags: tags(n.tags), Inputs: []types.InputBinding{}}
			for _, b := range n.inputs {
				binding := types.InputBinding{Input: b.input, FanIn: b.fanIn, Sources: []types.OutputRef{}}
				for _, src := range b.sources {
					binding.Sources = append(binding.Sources, types.OutputRef{Node: src.name, Output: "result"})
				}
				node.Inputs = append(node.Inputs, binding)
			}
			def.Nodes = append(def.Nodes, node)
		}
		out.Jobs = append(out.Jobs, def)
	}
	for _, a := range r.defs.Assets {
		kinds := append([]string{}, a.op.s.kinds...)
		deps := append([]types.AssetDep{}, r.deps[a]...)
		out.Assets = append(out.Assets, types.AssetDef{
			Key:         a.Key(),
			Group:       a.group(),
			Description: optional(a.op.s.description),
			Kinds:       kinds,
			Deps:        deps,
			Tags:        tags(a.op.s.tags),
			RetryPolicy: retry(a.op.s.retry),
		})
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
	return out
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

// --- ops.execute -----------------------------------------------------------------------

func execute(ctx types.StepContext, inputs []types.StepInput) witTypes.Result[[]types.StepOutput, types.Failure] {
	r := theRegistry()
	if len(r.errs) > 0 {
		return witTypes.Err[[]types.StepOutput](permanent("the location's definitions are invalid:\n" + strings.Join(r.errs, "\n")))
	}
	var op *Op
	var what string
	var assetKey []string
	switch ctx.Target.Tag() {
	case types.StepTarget_Op:
		name := ctx.Target.Op()
		op = r.byName[name]
		if op == nil {
			return witTypes.Err[[]types.StepOutput](permanent(fmt.Sprintf("this location has no op `%s` (its ops: %s)", name, strings.Join(opNames(r.ops), ", "))))
		}
		what = fmt.Sprintf("op `%s`", name)
	case types.StepTarget_Asset:
		assetKey = ctx.Target.Asset()
		for _, a := range r.defs.Assets {
			if equalKeys(a.Key(), assetKey) {
				op = a.op
			}
		}
		what = fmt.Sprintf("asset `%s`", strings.Join(assetKey, "/"))
		if op == nil {
			return witTypes.Err[[]types.StepOutput](permanent("this location has no " + what))
		}
	}
	if ctx.StepKey != op.name && assetKey == nil {
		what = fmt.Sprintf("%s (step `%s`)", what, ctx.StepKey)
	}
	c := newContext(ctx)
	c.AssetKey = assetKey
	outputs, failure := runStep(op, what, c, inputs)
	if failure != nil {
		return witTypes.Err[[]types.StepOutput](*failure)
	}
	return witTypes.Ok[[]types.StepOutput, types.Failure](outputs)
}

func opNames(ops []*Op) []string {
	names := make([]string, len(ops))
	for i, op := range ops {
		names[i] = op.name
	}
	return names
}

// runStep decodes the inputs, calls the op and encodes its result; a returned error or
// a panic becomes the step's failure.
func runStep(op *Op, what string, c *Context, inputs []types.StepInput) (outputs []types.StepOutput, failure *types.Failure) {
	args := make([]json.RawMessage, len(op.params))
	for i, p := range op.params {
		raw, err := inputValue(inputs, p.name)
		if err != nil {
			return nil, &types.Failure{Message: fmt.Sprintf("%s: %v", what, err), Retryable: false}
		}
		args[i] = raw
	}
	defer func() {
		if p := recover(); p != nil {
			failure = &types.Failure{Message: panicMessage(p), Retryable: true}
			fmt.Fprintf(os.Stderr, "%s panicked: %v\n\n%s", what, p, debug.Stack())
		}
	}()
	value, err := op.run(c, args)
	if err != nil {
		var decode *decodeError
		message := err.Error()
		if errors.As(err, &decode) {
			message = fmt.Sprintf("%s: %s", what, message)
		}
		return nil, &types.Failure{Message: message, Retryable: !IsPermanent(err)}
	}
	data, err := json.Marshal(value)
	if err != nil {
		return nil, &types.Failure{Message: fmt.Sprintf("%s: cannot encode its result as JSON: %v", what, err), Retryable: false}
	}
	return []types.StepOutput{{
		Name:     "result",
		Value:    types.Value{Codec: "json", Data: data},
		Metadata: tags(c.metadata),
	}}, nil
}

// panicMessage is `panicked: MESSAGE (at FILE:LINE)`, the form the host gives a Rust
// guest's panic. It is called from the deferred recover, so the panic's site is the
// first frame below the runtime's own.
func panicMessage(p any) string {
	message := fmt.Sprintf("panicked: %v", p)
	if err, ok := p.(error); ok {
		message = "panicked: " + err.Error()
	}
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		frame, more := frames.Next()
		if frame.Function != "" && !strings.HasPrefix(frame.Function, "runtime.") {
			return fmt.Sprintf("%s (at %s:%d)", message, frame.File, frame.Line)
		}
		if !more {
			return message
		}
	}
}

// inputValue is the JSON of the input name: one value, or a JSON list of a fan-in's.
func inputValue(inputs []types.StepInput, name string) (json.RawMessage, error) {
	for _, input := range inputs {
		if input.Name != name {
			continue
		}
		switch input.Arg.Tag() {
		case types.InputArg_Single:
			return jsonValue(name, input.Arg.Single())
		case types.InputArg_FanIn:
			list := []json.RawMessage{}
			for _, v := range input.Arg.FanIn() {
				raw, err := jsonValue(name, v)
				if err != nil {
					return nil, err
				}
				list = append(list, raw)
			}
			return json.Marshal(list)
		}
	}
	return nil, fmt.Errorf("the host gave no value for input `%s`", name)
}

func jsonValue(name string, v types.Value) (json.RawMessage, error) {
	if v.Codec != "json" {
		return nil, fmt.Errorf("input `%s` has codec %q; this SDK reads json", name, v.Codec)
	}
	if !json.Valid(v.Data) {
		return nil, fmt.Errorf("input `%s` is not valid JSON", name)
	}
	return json.RawMessage(v.Data), nil
}

func newContext(ctx types.StepContext) *Context {
	c := &Context{
		RunID:     ctx.RunId,
		Job:       ctx.Job,
		StepKey:   ctx.StepKey,
		Attempt:   ctx.Attempt,
		Partition: ctx.Partition.SomeOr(""),
		Tags:      map[string]string{},
		Log:       Log,
	}
	for _, t := range ctx.Tags {
		c.Tags[t.F0] = t.F1
	}
	if ctx.Config.IsSome() {
		config := ctx.Config.Some()
		c.config = &config
	}
	return c
}

// --- sensors.evaluate and schedules.evaluate -------------------------------------------

func evaluateSensor(name string, ctx types.SensorContext) (result witTypes.Result[types.SensorResult, types.Failure]) {
	r := theRegistry()
	var sensor *Sensor
	for _, s := range r.defs.Sensors {
		if s != nil && s.name == name {
			sensor = s
		}
	}
	if sensor == nil {
		return witTypes.Err[types.SensorResult](permanent(fmt.Sprintf("this location has no sensor `%s`", name)))
	}
	c := &SensorContext{Cursor: ctx.Cursor.SomeOr(""), HasCursor: ctx.Cursor.IsSome(), Log: Log}
	if ctx.LastEvaluationMs.IsSome() {
		c.LastEvaluation = time.UnixMilli(int64(ctx.LastEvaluationMs.Some())).UTC()
	}
	if ctx.Run.IsSome() {
		c.run = endedRun(ctx.Run.Some())
	}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "sensor `%s` panicked: %v\n\n%s", name, p, debug.Stack())
			result = witTypes.Err[types.SensorResult](types.Failure{Message: panicMessage(p), Retryable: true})
		}
	}()
	res, err := sensor.evaluate(c)
	if err != nil {
		return witTypes.Err[types.SensorResult](types.Failure{Message: err.Error(), Retryable: !IsPermanent(err)})
	}
	requests, err := runRequests(res.RunRequests)
	if err != nil {
		return witTypes.Err[types.SensorResult](permanent(fmt.Sprintf("sensor `%s`: %v", name, err)))
	}
	out := types.SensorResult{RunRequests: requests, SkipReason: witTypes.None[string](), Cursor: witTypes.None[string]()}
	if len(requests) == 0 && res.SkipReason != "" {
		out.SkipReason = witTypes.Some(res.SkipReason)
	}
	if res.cursor != nil {
		out.Cursor = witTypes.Some(*res.cursor)
	}
	return witTypes.Ok[types.SensorResult, types.Failure](out)
}

func evaluateSchedule(name string, ctx types.ScheduleContext) (result witTypes.Result[types.ScheduleResult, types.Failure]) {
	r := theRegistry()
	var schedule *Schedule
	for _, s := range r.defs.Schedules {
		if s != nil && s.name == name {
			schedule = s
		}
	}
	if schedule == nil {
		return witTypes.Err[types.ScheduleResult](permanent(fmt.Sprintf("this location has no schedule `%s`", name)))
	}
	if schedule.s.evaluate == nil {
		return witTypes.Ok[types.ScheduleResult, types.Failure](types.MakeScheduleResultRunRequests([]types.RunRequest{{Tags: tags(nil)}}))
	}
	c := &ScheduleContext{ScheduledTime: time.UnixMilli(int64(ctx.ScheduledTimeMs)).UTC(), Log: Log}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "schedule `%s` panicked: %v\n\n%s", name, p, debug.Stack())
			result = witTypes.Err[types.ScheduleResult](types.Failure{Message: panicMessage(p), Retryable: true})
		}
	}()
	res, err := schedule.s.evaluate(c)
	if err != nil {
		return witTypes.Err[types.ScheduleResult](types.Failure{Message: err.Error(), Retryable: !IsPermanent(err)})
	}
	if len(res.RunRequests) == 0 && res.SkipReason != "" {
		return witTypes.Ok[types.ScheduleResult, types.Failure](types.MakeScheduleResultSkip(res.SkipReason))
	}
	requests, err := runRequests(res.RunRequests)
	if err != nil {
		return witTypes.Err[types.ScheduleResult](permanent(fmt.Sprintf("schedule `%s`: %v", name, err)))
	}
	return witTypes.Ok[types.ScheduleResult, types.Failure](types.MakeScheduleResultRunRequests(requests))
}

func runRequests(requests []RunRequest) ([]types.RunRequest, error) {
	out := []types.RunRequest{}
	for _, req := range requests {
		w := types.RunRequest{RunKey: optional(req.RunKey), Job: witTypes.None[string](), Config: witTypes.None[string]()}
		if req.Job != nil {
			w.Job = witTypes.Some(req.Job.JobName())
		}
		config, ok, err := req.config()
		if err != nil {
			return nil, err
		}
		if ok {
			w.Config = witTypes.Some(config)
		}
		var t [][2]string
		for _, k := range sortedKeys(req.Tags) {
			t = append(t, [2]string{k, req.Tags[k]})
		}
		w.Tags = tags(t)
		out = append(out, w)
	}
	return out, nil
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
