// Graph-backed assets (Dagster's @graph_asset): NewGraphAsset0 ... NewGraphAsset4 and
// NewGraphAssetFunc, an asset whose value a graph of ops computes, each op a step of its
// own (`asset.op`); the asset-def's graph, and what the registry checks of it.

package weft

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// assetGraph is the graph of ops that computes a graph asset, built when it is made.
type assetGraph struct {
	// job holds its nodes, named `<asset>.<op>`, and its wiring mistakes.
	job *Job
	// inputs are the asset's inputs, the upstream assets its graph reads.
	inputs []string
	// output is the node output that is the asset's value; a zero Out if the graph
	// gives none (reported).
	output Out
}

// assetInput is what a graph asset's build function gets for each of its inputs: the
// value of an upstream asset, to pass to [Job.Node] (or a graph's Call) as a node's input.
type assetInput struct {
	job  *Job
	name string
}

// NewGraphAsset0 makes a graph asset (Dagster's @graph_asset) with no upstream assets:
// build wires ops as a job's build does and returns the node (or [Out]) whose output is
// the asset's value. See [NewGraphAsset1].
func NewGraphAsset0(name string, build func(j *Job) any, opts ...Option) *Asset {
	var b func(*Job, []any) any
	if build != nil {
		b = func(j *Job, _ []any) any { return build(j) }
	}
	return newGraphAsset(name, nil, b, opts)
}

// NewGraphAsset1 makes a graph asset (Dagster's @graph_asset) computed from the upstream
// asset named a by a graph of ops: build gets the upstream asset's value as a (what
// [Job.Node] takes as an input, or a graph's Call), wires ops on it, and returns the node
// (or [Out]) whose output is the asset's value.
//
//	var boosted = weft.NewGraphAsset1("boosted", "scored", func(j *weft.Job, scored any) any {
//		return j.Node(addHalf, j.Node(doubleScore, scored))
//	}, weft.Group("scores"), weft.Description("The score, doubled, plus a half"))
//
// The asset has no function of its own: its ops run as steps of their own, named
// `<asset>.<op>` as a graph's are (`boosted.double_score`, `boosted.add_half`; an op
// invoked twice needs an [Node.Alias]), and the step of the node it returns
// materializes it. List it in [Definitions].Assets, as any asset; its ops are the
// location's ops without being listed. Options: [Description], [Group], [KeyPrefix],
// [Kinds], [Tag], [Tags], [InputKey], [Deps] (retries and config are its ops').
func NewGraphAsset1(name, a string, build func(j *Job, a any) any, opts ...Option) *Asset {
	var b func(*Job, []any) any
	if build != nil {
		b = func(j *Job, in []any) any { return build(j, in[0]) }
	}
	return newGraphAsset(name, []string{a}, b, opts)
}

// NewGraphAsset2 makes a graph asset computed from the upstream assets named a and b.
func NewGraphAsset2(name, a, b string, build func(j *Job, a, b any) any, opts ...Option) *Asset {
	var fn func(*Job, []any) any
	if build != nil {
		fn = func(j *Job, in []any) any { return build(j, in[0], in[1]) }
	}
	return newGraphAsset(name, []string{a, b}, fn, opts)
}

// NewGraphAsset3 makes a graph asset computed from three upstream assets.
func NewGraphAsset3(name, a, b, c string, build func(j *Job, a, b, c any) any, opts ...Option) *Asset {
	var fn func(*Job, []any) any
	if build != nil {
		fn = func(j *Job, in []any) any { return build(j, in[0], in[1], in[2]) }
	}
	return newGraphAsset(name, []string{a, b, c}, fn, opts)
}

// NewGraphAsset4 makes a graph asset computed from four upstream assets.
func NewGraphAsset4(name, a, b, c, d string, build func(j *Job, a, b, c, d any) any, opts ...Option) *Asset {
	var fn func(*Job, []any) any
	if build != nil {
		fn = func(j *Job, in []any) any { return build(j, in[0], in[1], in[2], in[3]) }
	}
	return newGraphAsset(name, []string{a, b, c, d}, fn, opts)
}

// NewGraphAssetFunc makes a graph asset computed from the upstream assets named in
// inputs, which build gets in that order (as a [NewGraph]'s build does: pass them on to
// a graph's Call to make it an asset).
func NewGraphAssetFunc(name string, inputs []string, build func(j *Job, in ...any) any, opts ...Option) *Asset {
	var fn func(*Job, []any) any
	if build != nil {
		fn = func(j *Job, in []any) any { return build(j, in...) }
	}
	return newGraphAsset(name, append([]string(nil), inputs...), fn, opts)
}

func newGraphAsset(name string, inputs []string, build func(*Job, []any) any, opts []Option) *Asset {
	what := fmt.Sprintf("graph asset `%s`", name)
	params := make([]param, len(inputs))
	for i, input := range inputs {
		params[i] = param{name: input}
	}
	// The host never executes the asset itself, only its ops: its "function" says so.
	refuse := func(*Context, []json.RawMessage) (any, error) {
		return nil, Permanentf("%s has no function of its own: its ops run as the steps of its graph", what)
	}
	op := newOp("graph asset", name, params, nil, refuse, opts, graphAssetOptions)
	// Its graph is named by the asset's key, parts joined with __ (as Dagster names it):
	// its ops are the steps boosted.double_score, or warehouse__boosted.double_score.
	graph := strings.Join(append(append([]string(nil), op.s.keyPrefix...), name), "__")
	j := &Job{name: name, kind: "graph asset", prefix: []string{graph}}
	g := &assetGraph{job: j, inputs: inputs}
	if build == nil {
		j.errs = append(j.errs, what+": its build function is nil")
		return &Asset{op: op, graph: g}
	}
	in := make([]any, len(inputs))
	for i, input := range inputs {
		in[i] = assetInput{job: j, name: input}
	}
	g.output = j.assetOutput(build(j, in))
	if n := g.output.node; n != nil && n.op != nil && len(n.op.s.outs) == 0 {
		op.out = n.op.out // what checks and downstream assets decode
	}
	for _, input := range inputs {
		if !g.reads(input) {
			j.errs = append(j.errs, fmt.Sprintf("%s: input `%s` feeds no node: pass it to j.Node (or use weft.Deps(%q) to order the asset after it without reading it)", what, input, input))
		}
	}
	return &Asset{op: op, graph: g}
}

// assetInput binds input p of n to the graph asset's input a.
func (j *Job) assetInput(n *Node, p param, a assetInput) {
	if a.job != j {
		j.errorf(n, "input `%s`: `%s` is an input of %s, not of this graph", p.name, a.name, a.job.what())
	}
	n.inputs = append(n.inputs, binding{input: p.name, dep: a.name})
}

// assetOutput is the output that what a graph asset's build function returned names:
// one output of a node of the graph, not dynamic nor mapped.
func (j *Job) assetOutput(v any) Out {
	var o Out
	switch a := v.(type) {
	case *Node:
		if a == nil {
			break
		}
		if a.op != nil && len(a.op.s.outs) > 0 {
			j.errs = append(j.errs, fmt.Sprintf("%s: it gives node `%s`, whose op `%s` has outputs %s: give one of them, node.Out(name)", j.what(), a.name, a.op.name, strings.Join(a.op.s.outs, ", ")))
			return Out{}
		}
		o = Out{node: a, name: "result"}
	case Out:
		o = a
	case assetInput:
		j.errs = append(j.errs, fmt.Sprintf("%s: it gives its input `%s` as it is: the asset's value must be a node's output", j.what(), a.name))
		return Out{}
	case nil:
	default:
		j.errs = append(j.errs, fmt.Sprintf("%s: its build function gives a %T: give the node (or node.Out(name)) whose output is the asset's value", j.what(), v))
		return Out{}
	}
	switch {
	case o.node == nil:
		j.errs = append(j.errs, fmt.Sprintf("%s: its build function gives nothing: give the node (or node.Out(name)) whose output is the asset's value", j.what()))
		return Out{}
	case o.node.job != j:
		j.errs = append(j.errs, fmt.Sprintf("%s: it gives node `%s`, which belongs to %s", j.what(), o.node.name, o.node.job.what()))
		return Out{}
	case o.node.op != nil && o.node.mappedOver(o.name).node != nil:
		j.errs = append(j.errs, fmt.Sprintf("%s: it gives output `%s` of node `%s`, which is dynamic or mapped: collect it into one value (node.Collect()) with another op", j.what(), o.name, o.node.name))
	}
	return o
}

// reads reports whether a node of the graph reads the asset's input.
func (g *assetGraph) reads(input string) bool {
	for _, n := range g.job.nodes {
		for _, b := range n.inputs {
			if b.dep == input {
				return true
			}
		}
	}
	return false
}

// steps are the step keys of the graph's nodes.
func (g *assetGraph) steps() []string {
	keys := make([]string, len(g.job.nodes))
	for i, n := range g.job.nodes {
		keys[i] = n.name
	}
	return keys
}

// addGraphAsset registers the ops, hooks and mistakes of a graph asset's graph.
func (r *registry) addGraphAsset(a *Asset, addOp func(*Op)) {
	r.errs = append(r.errs, a.graph.job.errors()...)
	for _, n := range a.graph.job.nodes {
		if n.op != nil {
			addOp(n.op)
		}
		for _, h := range n.hooks {
			r.addHook(h)
		}
	}
}

// checkGraphAssets reports, once every asset's upstream assets are known, an upstream
// asset whose value does not decode into the node input it feeds, and two graph assets
// with a node of the same name (the same step key).
func (r *registry) checkGraphAssets() {
	steps := map[string]string{}
	for _, a := range r.defs.Assets {
		if a == nil || a.graph == nil {
			continue
		}
		for _, n := range a.graph.job.nodes {
			if other, ok := steps[n.name]; ok && other != a.KeyString() {
				r.errs = append(r.errs, fmt.Sprintf("graph assets `%s` and `%s` both have the node `%s`: name one otherwise", other, a.KeyString(), n.name))
			}
			steps[n.name] = a.KeyString()
			if n.op == nil {
				continue
			}
			for _, b := range n.inputs {
				if b.dep == "" {
					continue
				}
				up := r.upstream(a, b.dep)
				typ := paramType(n.op, b.input)
				if up != nil && up.op.out != nil && typ != nil && !compatible(up.op.out, typ) {
					r.errs = append(r.errs, fmt.Sprintf("graph asset `%s`: node `%s`: input `%s` is %s but asset `%s` (its input `%s`) returns %s", a.KeyString(), n.name, b.input, typ, up.KeyString(), b.dep, up.op.out))
				}
			}
		}
	}
}

// upstream is the asset of this location feeding a's input, or nil.
func (r *registry) upstream(a *Asset, input string) *Asset {
	for _, dep := range r.deps[a] {
		if !dep.Input.IsSome() || dep.Input.Some() != input {
			continue
		}
		for _, up := range r.defs.Assets {
			if up != nil && equalKeys(up.Key(), dep.Key) {
				return up
			}
		}
	}
	return nil
}

// paramType is the Go type of op's input name, or nil.
func paramType(op *Op, name string) reflect.Type {
	for _, p := range op.params {
		if p.name == name {
			return p.typ
		}
	}
	return nil
}

// graphDef is the asset's graph as the contract describes it, or none.
func (a *Asset) graphDef() witTypes.Option[types.AssetGraph] {
	if a.graph == nil {
		return witTypes.None[types.AssetGraph]()
	}
	g := types.AssetGraph{Nodes: []types.NodeDef{}, Inputs: []types.AssetGraphInput{}}
	for _, n := range a.graph.job.nodes {
		g.Nodes = append(g.Nodes, nodeDef(n, nil))
		for _, b := range n.inputs {
			if b.dep != "" {
				g.Inputs = append(g.Inputs, types.AssetGraphInput{Dep: b.dep, Node: n.name, Input: b.input})
			}
		}
	}
	if o := a.graph.output; o.node != nil {
		g.Output = types.OutputRef{Node: o.node.name, Output: o.name}
	}
	return witTypes.Some(g)
}
