// Package weft is the Weft Go SDK: define the ops and jobs of a code location, and the
// package serves them as the exports of the location's WebAssembly component.
//
// A code location is a main package that registers its definitions in init:
//
//	var hello = &weft.Op{
//		Name: "hello",
//		Run: func(ctx *weft.Context, in weft.Inputs) (any, error) {
//			return "hello from go", nil
//		},
//	}
//
//	func init() {
//		weft.Register(weft.Definitions{
//			Jobs: []*weft.Job{{Name: "hello_job", Nodes: []weft.Node{{Op: hello}}}},
//		})
//	}
//
//	func main() {}
//
// Build it with standard Go for wasip1 as a reactor, then componentize the core module
// against the repository's wit/ (tests/guests/build-polyglot.sh, or the componentize
// example of runtime/build, does both):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -ldflags=-checklinkname=0 -o core.wasm .
//
// Values cross the boundary as JSON (encoding/json): an op's inputs arrive as
// [json.RawMessage] and its result is marshalled into its one output, "result".
// This first SDK knows ops and jobs; assets, sensors and schedules come later.
package weft

//go:generate ./generate.sh

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	exportDefinitions "example.invalid/weft/guest-sdk/go/wit/exports/export_weft_plugin_definitions"
	exportOps "example.invalid/weft/guest-sdk/go/wit/exports/export_weft_plugin_ops"
	exportSchedules "example.invalid/weft/guest-sdk/go/wit/exports/export_weft_plugin_schedules"
	exportSensors "example.invalid/weft/guest-sdk/go/wit/exports/export_weft_plugin_sensors"
	_ "example.invalid/weft/guest-sdk/go/wit/exports/wit_exports" // the component's exports
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// Op is an op (Dagster's @op): the smallest unit of work.
type Op struct {
	// Name is the op's snake_case name, unique in the location.
	Name        string
	Description string
	// Inputs names the op's inputs; a job node feeds each from upstream outputs.
	Inputs []string
	Tags   map[string]string
	// Run computes the op's result; it is JSON-encoded into the output "result".
	// An error fails the step (retryably, unless wrapped with [Permanent]).
	Run func(ctx *Context, in Inputs) (any, error)
}

// Inputs holds a step's input values as JSON, by input name. A fan-in input holds a JSON
// array of its upstream values.
type Inputs map[string]json.RawMessage

// Decode unmarshals the input name into v.
func (in Inputs) Decode(name string, v any) error {
	raw, ok := in[name]
	if !ok {
		return Permanent(fmt.Errorf("no input named %s", name))
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return Permanent(fmt.Errorf("input %s: %w", name, err))
	}
	return nil
}

// Context is what the host tells a step about itself.
type Context struct {
	RunID   string
	Job     string
	StepKey string
	// Attempt is 1 for the first attempt, 2 for the first retry, ...
	Attempt   uint32
	Partition string
	Tags      map[string]string
	// Config is the step's run config (ops.<step-key>.config), or nil.
	Config json.RawMessage
}

// Job is a job (Dagster's @job): a graph of op invocations.
type Job struct {
	Name        string
	Description string
	Tags        map[string]string
	Nodes       []Node
}

// Node is one invocation of an op in a job.
type Node struct {
	// Name is unique in the job; it defaults to the op's name (set it to alias the op).
	Name string
	Op   *Op
	// Inputs feeds each input of the op from upstream nodes' "result" outputs.
	Inputs map[string]Input
	Tags   map[string]string
}

// Input says which upstream nodes feed an input; see [From].
type Input struct {
	From  []string
	FanIn bool
}

// From feeds an input from the result of one node, or of several as a fan-in list.
func From(nodes ...string) Input {
	return Input{From: nodes, FanIn: len(nodes) != 1}
}

// Definitions is everything a code location defines (Dagster's Definitions).
type Definitions struct {
	// Ops lists ops that no job uses; the ops of Jobs are included without listing them.
	Ops  []*Op
	Jobs []*Job
}

// Failure is a step failure with its retry decision.
type Failure struct {
	Err       error
	Retryable bool
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

// Permanent marks err as not worth retrying: a retry policy does not try the step again.
func Permanent(err error) error {
	return &Failure{Err: err, Retryable: false}
}

var registered *Definitions

// Register sets the location's definitions. Call it once, from init.
func Register(defs Definitions) {
	registered = &defs
}

func init() {
	exportDefinitions.Handler = getDefinitions
	exportOps.Handler = execute
	exportSensors.Handler = func(name string, _ types.SensorContext) witTypes.Result[types.SensorResult, types.Failure] {
		return witTypes.Err[types.SensorResult](permanent("no sensor named %s", name))
	}
	exportSchedules.Handler = func(name string, _ types.ScheduleContext) witTypes.Result[types.ScheduleResult, types.Failure] {
		return witTypes.Err[types.ScheduleResult](permanent("no schedule named %s", name))
	}
}

func permanent(format string, args ...any) types.Failure {
	return types.Failure{Message: fmt.Sprintf(format, args...), Retryable: false}
}

// ops returns every op of the definitions by name: the listed ones, then those of jobs.
func (d *Definitions) ops() ([]*Op, map[string]*Op) {
	var list []*Op
	byName := map[string]*Op{}
	add := func(op *Op) {
		if op != nil && byName[op.Name] == nil {
			byName[op.Name] = op
			list = append(list, op)
		}
	}
	for _, op := range d.Ops {
		add(op)
	}
	for _, job := range d.Jobs {
		for _, node := range job.Nodes {
			add(node.Op)
		}
	}
	return list, byName
}

func getDefinitions() witTypes.Result[types.Definitions, types.Failure] {
	if registered == nil {
		return witTypes.Err[types.Definitions](permanent("the code location registered no definitions (call weft.Register in init)"))
	}
	ops, _ := registered.ops()
	out := types.Definitions{}
	for _, op := range ops {
		inputs := make([]types.InputDef, 0, len(op.Inputs))
		for _, name := range op.Inputs {
			inputs = append(inputs, types.InputDef{Name: name})
		}
		out.Ops = append(out.Ops, types.OpDef{
			Name:        op.Name,
			Description: optional(op.Description),
			Inputs:      inputs,
			Outputs:     []types.OutputDef{{Name: "result"}},
			Tags:        tags(op.Tags),
		})
	}
	for _, job := range registered.Jobs {
		def := types.JobDef{Name: job.Name, Description: optional(job.Description), Tags: tags(job.Tags)}
		for _, node := range job.Nodes {
			if node.Op == nil {
				return witTypes.Err[types.Definitions](permanent("job %s: a node has no op", job.Name))
			}
			name := node.Name
			if name == "" {
				name = node.Op.Name
			}
			n := types.NodeDef{Name: name, Op: node.Op.Name, Tags: tags(node.Tags)}
			for _, input := range sortedKeys(node.Inputs) {
				binding := types.InputBinding{Input: input, FanIn: node.Inputs[input].FanIn}
				for _, from := range node.Inputs[input].From {
					binding.Sources = append(binding.Sources, types.OutputRef{Node: from, Output: "result"})
				}
				n.Inputs = append(n.Inputs, binding)
			}
			def.Nodes = append(def.Nodes, n)
		}
		out.Jobs = append(out.Jobs, def)
	}
	return witTypes.Ok[types.Definitions, types.Failure](out)
}

func execute(ctx types.StepContext, inputs []types.StepInput) (result witTypes.Result[[]types.StepOutput, types.Failure]) {
	fail := func(f types.Failure) witTypes.Result[[]types.StepOutput, types.Failure] {
		return witTypes.Err[[]types.StepOutput](f)
	}
	if registered == nil {
		return fail(permanent("the code location registered no definitions"))
	}
	if ctx.Target.Tag() != types.StepTarget_Op {
		return fail(permanent("this Go SDK defines no assets"))
	}
	_, byName := registered.ops()
	op := byName[ctx.Target.Op()]
	if op == nil || op.Run == nil {
		return fail(permanent("no op named %s", ctx.Target.Op()))
	}

	in := Inputs{}
	for _, input := range inputs {
		switch input.Arg.Tag() {
		case types.InputArg_Single:
			raw, err := jsonValue(input.Arg.Single())
			if err != nil {
				return fail(permanent("op %s: input %s: %v", op.Name, input.Name, err))
			}
			in[input.Name] = raw
		case types.InputArg_FanIn:
			list := []json.RawMessage{}
			for _, value := range input.Arg.FanIn() {
				raw, err := jsonValue(value)
				if err != nil {
					return fail(permanent("op %s: input %s: %v", op.Name, input.Name, err))
				}
				list = append(list, raw)
			}
			raw, err := json.Marshal(list)
			if err != nil {
				return fail(permanent("op %s: input %s: %v", op.Name, input.Name, err))
			}
			in[input.Name] = raw
		}
	}

	defer func() {
		if p := recover(); p != nil {
			result = fail(types.Failure{Message: fmt.Sprintf("op %s panicked: %v", op.Name, p), Retryable: true})
		}
	}()
	value, err := op.Run(newContext(ctx), in)
	if err != nil {
		retryable := true
		var failure *Failure
		if errors.As(err, &failure) {
			retryable = failure.Retryable
		}
		return fail(types.Failure{Message: fmt.Sprintf("op %s failed: %v", op.Name, err), Retryable: retryable})
	}
	data, err := json.Marshal(value)
	if err != nil {
		return fail(permanent("op %s: cannot encode its result as JSON: %v", op.Name, err))
	}
	return witTypes.Ok[[]types.StepOutput, types.Failure]([]types.StepOutput{{
		Name:  "result",
		Value: types.Value{Codec: "json", Data: data},
	}})
}

func newContext(ctx types.StepContext) *Context {
	c := &Context{
		RunID:     ctx.RunId,
		Job:       ctx.Job,
		StepKey:   ctx.StepKey,
		Attempt:   ctx.Attempt,
		Partition: ctx.Partition.SomeOr(""),
		Tags:      map[string]string{},
	}
	for _, tag := range ctx.Tags {
		c.Tags[tag.F0] = tag.F1
	}
	if ctx.Config.IsSome() {
		c.Config = json.RawMessage(ctx.Config.Some())
	}
	return c
}

func jsonValue(value types.Value) (json.RawMessage, error) {
	if value.Codec != "json" {
		return nil, fmt.Errorf("codec %q is not json", value.Codec)
	}
	if !json.Valid(value.Data) {
		return nil, errors.New("not valid JSON")
	}
	return json.RawMessage(value.Data), nil
}

func optional(s string) witTypes.Option[string] {
	if s == "" {
		return witTypes.None[string]()
	}
	return witTypes.Some(s)
}

func tags(m map[string]string) []witTypes.Tuple2[string, string] {
	out := make([]witTypes.Tuple2[string, string], 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, witTypes.Tuple2[string, string]{F0: k, F1: m[k]})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
