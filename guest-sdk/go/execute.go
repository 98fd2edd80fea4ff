// ops.execute: a step's inputs decoded, its op (asset, multi-asset, op of a graph
// asset) called, its outputs encoded, and a returned error or a panic made the step's
// failure.

package weft

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

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
		var asset *Asset
		for _, a := range r.defs.Assets {
			if equalKeys(a.Key(), assetKey) {
				asset, op = a, a.op
			}
		}
		what = fmt.Sprintf("asset `%s`", strings.Join(assetKey, "/"))
		if op == nil {
			return witTypes.Err[[]types.StepOutput](permanent("this location has no " + what))
		}
		if asset.graph != nil {
			return witTypes.Err[[]types.StepOutput](permanent(fmt.Sprintf("%s is a graph asset: its ops run as steps of their own (%s), not the asset", what, strings.Join(asset.graph.steps(), ", "))))
		}
	case types.StepTarget_MultiAsset:
		c := newContext(ctx)
		outputs, failure := executeMultiAsset(r, ctx.Target.MultiAsset(), c, inputs)
		if failure != nil {
			return witTypes.Err[[]types.StepOutput](*failure)
		}
		return witTypes.Ok[[]types.StepOutput, types.Failure](outputs)
	case types.StepTarget_Check:
		target := ctx.Target.Check()
		return witTypes.Err[[]types.StepOutput](permanent(fmt.Sprintf("step `%s` is the asset check `%s` of asset `%s`: checks.evaluate evaluates it, not ops.execute", ctx.StepKey, target.Name, strings.Join(target.Asset, "/"))))
	default:
		return witTypes.Err[[]types.StepOutput](permanent(fmt.Sprintf("step `%s` has a target this SDK does not know (%d)", ctx.StepKey, ctx.Target.Tag())))
	}
	if ctx.StepKey != op.name && assetKey == nil {
		what = fmt.Sprintf("%s (step `%s`)", what, ctx.StepKey)
	}
	c := newContext(ctx)
	c.AssetKey = assetKey
	if assetKey != nil {
		c.selectedKeys = [][]string{assetKey}
	}
	c.selectedOutputs = op.outputNames()
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

// runStep decodes the inputs, calls the op and encodes its outputs; a returned error or
// a panic becomes the step's failure.
func runStep(op *Op, what string, c *Context, inputs []types.StepInput) ([]types.StepOutput, *types.Failure) {
	value, failure := callStep(op, what, c, inputs)
	if failure != nil {
		return nil, failure
	}
	return encodeOutputs(op, what, c, value)
}

// callStep decodes the inputs and calls the op's (or multi-asset's) function; a returned
// error or a panic becomes the step's failure.
func callStep(op *Op, what string, c *Context, inputs []types.StepInput) (value any, failure *types.Failure) {
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
		return nil, stepFailure(what, err)
	}
	return value, nil
}

// stepFailure is the failure of a step whose function (an op's, an asset's or an asset
// check's) returned err: retryable unless it is [Permanent]; an input that did not decode
// is named with what.
func stepFailure(what string, err error) *types.Failure {
	var decode *decodeError
	message := err.Error()
	if errors.As(err, &decode) {
		message = fmt.Sprintf("%s: %s", what, message)
	}
	return &types.Failure{Message: message, Retryable: !IsPermanent(err)}
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
		RunID:      ctx.RunId,
		Job:        ctx.Job,
		StepKey:    ctx.StepKey,
		MappingKey: ctx.MappingKey.SomeOr(""),
		Attempt:    ctx.Attempt,
		Partition:  ctx.Partition.SomeOr(""),
		Tags:       map[string]string{},
		Log:        Log,
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
