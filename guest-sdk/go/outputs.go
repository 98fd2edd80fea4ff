// Several outputs (Dagster's out={"even": Out(), "odd": Out(is_required=False)}): an op
// declared with [Outs] (and [Optional], [DynamicOuts]) returns [Results], and a job reads
// each output with [Node.Out]. (A multi-asset returns [Results] too: multiasset.go.)

package weft

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// Results are the values of an op with several outputs, or of a [MultiAsset], by output
// name. Every required output must be there; an optional one that is left out skips the
// steps reading it.
type Results map[string]any

// Outs declares an op's outputs, in order; the op then returns [Results].
//
//	var split = weft.NewOp1("split", "numbers", splitNumbers,
//		weft.Outs("even", "odd"), weft.Optional("odd"))
func Outs(names ...string) Option {
	return Option{"Outs", func(s *settings) { s.outs = append(s.outs, names...) }}
}

// Optional marks outputs declared by [Outs] as optional (Dagster's is_required=False).
func Optional(names ...string) Option {
	return Option{"Optional", func(s *settings) { s.optional = append(s.optional, names...) }}
}

// Out is one output of a node whose op has several, as [Node.Out] returns it: pass it
// to [Job.Node] to feed an input, or a []Out to fan in.
type Out struct {
	node *Node
	name string
}

// Out is the output name of the node, for an op declared with [Outs].
func (n *Node) Out(name string) Out {
	if n.op != nil && !n.op.hasOutput(name) {
		n.job.errorf(n, "op `%s` has no output `%s` (its outputs: %s)", n.op.name, name, strings.Join(n.op.outputNames(), ", "))
	}
	return Out{node: n, name: name}
}

// outputNames are the op's outputs: `result`, or those [Outs] declares.
func (o *Op) outputNames() []string {
	if len(o.s.outs) == 0 {
		return []string{"result"}
	}
	return o.s.outs
}

func (o *Op) hasOutput(name string) bool {
	for _, n := range o.outputNames() {
		if n == name {
			return true
		}
	}
	return false
}

func (o *Op) required(name string) bool {
	for _, n := range o.s.optional {
		if n == name {
			return false
		}
	}
	return true
}

// checkOuts reports outputs declared twice, optional ones not declared, and [Optional]
// without [Outs].
func (o *Op) checkOuts(what string) []string {
	var errs []string
	seen := map[string]bool{}
	for _, n := range o.s.outs {
		if !isIdentifier(n) {
			errs = append(errs, fmt.Sprintf("%s: output name %q must be letters, digits and _", what, n))
		}
		if seen[n] {
			errs = append(errs, fmt.Sprintf("%s: two outputs are named `%s`", what, n))
		}
		seen[n] = true
	}
	for _, n := range o.s.optional {
		if !seen[n] {
			errs = append(errs, fmt.Sprintf("%s: weft.Optional(%q) names no output of weft.Outs (an op without Outs has one output, `result`, which is required)", what, n))
		}
	}
	return errs
}

// outputDefs are the op's outputs as the contract describes them.
func (o *Op) outputDefs() []types.OutputDef {
	if len(o.s.outs) == 0 {
		return []types.OutputDef{{Name: "result", TypeName: typeString(o.out), Required: true, Dynamic: o.isDynamic("result")}}
	}
	defs := make([]types.OutputDef, len(o.s.outs))
	for i, n := range o.s.outs {
		defs[i] = types.OutputDef{Name: n, Required: o.required(n), Dynamic: o.isDynamic(n)}
	}
	return defs
}

// encodeOutputs encodes what the op returned: its result, or the [Results] of an op with
// several outputs, in declared order; a dynamic output is one step output per value.
func encodeOutputs(op *Op, what string, c *Context, value any) ([]types.StepOutput, *types.Failure) {
	if len(op.s.outs) == 0 {
		if op.isDynamic("result") {
			return encodeDynamic(what, "result", value, c)
		}
		out, failure := encodeOutput(what, "result", value, c)
		if failure != nil {
			return nil, failure
		}
		return []types.StepOutput{out}, nil
	}
	results, ok := value.(Results)
	if !ok {
		return nil, &types.Failure{Message: fmt.Sprintf("%s has outputs %s: return weft.Results, not %T", what, strings.Join(op.s.outs, ", "), value), Retryable: false}
	}
	var unknown []string
	for name := range results {
		if !op.hasOutput(name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &types.Failure{Message: fmt.Sprintf("%s returned output(s) %s, which it does not declare (its outputs: %s)", what, strings.Join(unknown, ", "), strings.Join(op.s.outs, ", ")), Retryable: false}
	}
	outputs := []types.StepOutput{}
	for _, name := range op.s.outs {
		v, ok := results[name]
		if !ok {
			continue // the host fails a step that leaves out a required output
		}
		if op.isDynamic(name) {
			dynamic, failure := encodeDynamic(what, name, v, c)
			if failure != nil {
				return nil, failure
			}
			outputs = append(outputs, dynamic...)
			continue
		}
		out, failure := encodeOutput(what, name, v, c)
		if failure != nil {
			return nil, failure
		}
		outputs = append(outputs, out)
	}
	return outputs, nil
}

// encodeOutput is the output name of the step what, with value v as JSON and the metadata
// added for it; a [MaterializeResult] is `null` with its metadata (materialize.go).
func encodeOutput(what, name string, v any, c *Context) (types.StepOutput, *types.Failure) {
	if m, ok := materialized(v); ok {
		return materializeOutput(what, name, m, c)
	}
	if _, ok := v.(anyDynamic); ok {
		return types.StepOutput{}, &types.Failure{Message: fmt.Sprintf("%s: output `%s` is not dynamic: return its value, not %T (an op's output is dynamic when it returns weft.Dynamic[T], or weft.DynamicOuts names it)", what, name, v), Retryable: false}
	}
	data, err := json.Marshal(v)
	if err != nil {
		return types.StepOutput{}, &types.Failure{Message: fmt.Sprintf("%s: cannot encode its output `%s` as JSON: %v", what, name, err), Retryable: false}
	}
	return types.StepOutput{Name: name, Value: types.Value{Codec: "json", Data: data}, Metadata: metadataFor(c.metadata, name)}, nil
}
