// Dynamic fan-out (Dagster's DynamicOut, DynamicOutput, .map and .collect): an op returns
// a dynamic output, weft.Dynamic[T], each value under its own mapping key; a job maps
// ops over it (Node.Map), one step per key, and collects what they return (Collect).

package weft

import (
	"fmt"
	"reflect"
	"strings"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// DynamicOutput is one value of a dynamic output and its mapping key (Dagster's
// DynamicOutput(value, mapping_key)): letters, digits and _ ([A-Za-z0-9_]+), unique
// within the output. The key names the steps mapped over the value: `square[k1]`.
type DynamicOutput[T any] struct {
	Value      T
	MappingKey string
}

// Dynamic is the values of a dynamic output (Dagster's DynamicOut), in order. An op
// returning it has the dynamic output `result`: a job maps ops over it ([Node.Map]), one
// step per value, and gathers what they return into a list ([Node.Collect]). An op with
// several outputs returns it in [Results] for the outputs [DynamicOuts] names.
//
//	var fanOut = weft.NewOp0("fan_out", func(*weft.Context) (weft.Dynamic[int], error) {
//		var out weft.Dynamic[int]
//		for i := 1; i <= 3; i++ {
//			out.Add(fmt.Sprintf("k%d", i), i)
//		}
//		return out, nil
//	})
//
// A key that is not letters, digits and _, or that is used twice, fails the step
// (permanently), naming the key.
type Dynamic[T any] []DynamicOutput[T]

// Add appends value under the mapping key.
func (d *Dynamic[T]) Add(key string, value T) {
	*d = append(*d, DynamicOutput[T]{Value: value, MappingKey: key})
}

// anyDynamic is what every Dynamic[T] is, for the SDK to find one behind an `any` or a
// reflect.Type.
type anyDynamic interface {
	elemType() reflect.Type
	entries() []dynamicEntry
}

// dynamicEntry is one value of a dynamic output, its element type forgotten.
type dynamicEntry struct {
	key   string
	value any
}

func (d Dynamic[T]) elemType() reflect.Type { return reflect.TypeFor[T]() }

func (d Dynamic[T]) entries() []dynamicEntry {
	out := make([]dynamicEntry, len(d))
	for i, v := range d {
		out[i] = dynamicEntry{key: v.MappingKey, value: v.Value}
	}
	return out
}

var anyDynamicType = reflect.TypeFor[anyDynamic]()

// dynamicElem is T when t is a Dynamic[T], else nil.
func dynamicElem(t reflect.Type) reflect.Type {
	if t == nil || t.Kind() == reflect.Pointer || !t.Implements(anyDynamicType) {
		return nil
	}
	return reflect.Zero(t).Interface().(anyDynamic).elemType()
}

// DynamicOuts marks outputs declared by [Outs] as dynamic (Dagster's DynamicOut): the
// op returns a [Dynamic] for each of them in its [Results]. (An op without Outs makes its
// one output dynamic by returning a weft.Dynamic[T].)
//
//	var route = weft.NewOp0("route", routeFiles,
//		weft.Outs("files", "count"), weft.DynamicOuts("files"))
func DynamicOuts(names ...string) Option {
	return Option{"DynamicOuts", func(s *settings) { s.dynamic = append(s.dynamic, names...) }}
}

// isDynamic reports whether the op's output name is dynamic.
func (o *Op) isDynamic(name string) bool {
	if len(o.s.outs) == 0 {
		return name == "result" && dynamicElem(o.out) != nil
	}
	for _, n := range o.s.dynamic {
		if n == name {
			return true
		}
	}
	return false
}

// hasDynamic reports whether any output of the op is dynamic.
func (o *Op) hasDynamic() bool {
	for _, n := range o.outputNames() {
		if o.isDynamic(n) {
			return true
		}
	}
	return false
}

// checkDynamic reports [DynamicOuts] naming no declared output, and a dynamic result
// of anything but an op.
func (o *Op) checkDynamic(kind, what string) []string {
	var errs []string
	for _, n := range o.s.dynamic {
		if !o.hasOutput(n) || len(o.s.outs) == 0 {
			errs = append(errs, fmt.Sprintf("%s: weft.DynamicOuts(%q) names no output of weft.Outs (an op without Outs makes its output `result` dynamic by returning weft.Dynamic[T])", what, n))
		}
	}
	if kind != "op" && dynamicElem(o.out) != nil {
		errs = append(errs, fmt.Sprintf("%s: it returns %s, but only an op can have a dynamic output", what, o.out))
	}
	return errs
}

// encodeDynamic encodes the values of the dynamic output name, one step output per
// value with its mapping key, refusing a key that is not an identifier or is repeated.
func encodeDynamic(what, name string, v any, c *Context) ([]types.StepOutput, *types.Failure) {
	d, ok := v.(anyDynamic)
	if !ok || reflect.ValueOf(v).Kind() == reflect.Pointer {
		return nil, &types.Failure{Message: fmt.Sprintf("%s: output `%s` is dynamic: return a weft.Dynamic[T] for it, not %T", what, name, v), Retryable: false}
	}
	outputs := []types.StepOutput{}
	seen := map[string]bool{}
	for _, e := range d.entries() {
		if !isIdentifier(e.key) {
			return nil, &types.Failure{Message: fmt.Sprintf("%s: output `%s`: mapping key %q must be letters, digits and _ ([A-Za-z0-9_]+)", what, name, e.key), Retryable: false}
		}
		if seen[e.key] {
			return nil, &types.Failure{Message: fmt.Sprintf("%s: output `%s`: mapping key %q is used twice (each value of a dynamic output needs its own key)", what, name, e.key), Retryable: false}
		}
		seen[e.key] = true
		out, failure := encodeOutput(what, name, e.value, c)
		if failure != nil {
			return nil, failure
		}
		out.MappingKey = witTypes.Some(e.key)
		outputs = append(outputs, out)
	}
	return outputs, nil
}

// Collected is an output gathered into one list (Dagster's .collect()), as
// [Node.Collect] and [Out.Collect] return it: pass it to [Job.Node] to feed an input
// that takes a slice. The output is dynamic, or an output of a node mapped over one; the
// list holds its values in the order their mapping keys were produced.
type Collected struct {
	out Out
}

// Map invokes op once per value of the node's dynamic output `result` (Dagster's
// fan_out().map(square)), or once per step of a node mapped over one (a chain of maps):
// the new node, named after the op, takes that value as its one input and is itself
// mapped, its steps keyed `square[k1]`, `square[k2]`, ... It returns the new node, to
// Map again, Collect, Alias, or feed another mapped node with [Job.Node].
//
//	total := j.Node(sum, j.Node(fanOut).Map(square).Map(addOne).Collect())
func (n *Node) Map(op *Op) *Node {
	if n.op != nil && len(n.op.s.outs) > 0 {
		m := n.job.Node(op, Out{node: n, name: "result"}) // reported once, below
		n.job.errorf(m, "Map: op `%s` has outputs %s: map one of them, node.Out(name).Map(op)", n.op.name, strings.Join(n.op.s.outs, ", "))
		return m
	}
	m := n.job.Node(op, n)
	n.job.checkMappable(m, Out{node: n, name: "result"})
	return m
}

// Map invokes op once per value of this output, which is dynamic or an output of a node
// mapped over one: see [Node.Map].
func (o Out) Map(op *Op) *Node {
	if o.node == nil {
		panic("weft: Map of a zero weft.Out")
	}
	m := o.node.job.Node(op, o)
	o.node.job.checkMappable(m, o)
	return m
}

// Collect gathers the values of the node's dynamic output `result`, or of the steps of
// a node mapped over one, into one list (Dagster's .collect()): pass it to [Job.Node]
// for an input that takes a slice.
func (n *Node) Collect() Collected {
	if n.op != nil && len(n.op.s.outs) > 0 {
		n.job.errorf(n, "Collect: op `%s` has outputs %s: collect one of them, node.Out(name).Collect()", n.op.name, strings.Join(n.op.s.outs, ", "))
	}
	return Collected{out: Out{node: n, name: "result"}}
}

// Collect gathers the values of this output into one list: see [Node.Collect].
func (o Out) Collect() Collected { return Collected{out: o} }

// mappedOver is the dynamic output that the node's output name yields one value of per
// mapping key: the output itself when it is dynamic, the one the node is mapped over
// otherwise; a zero Out if neither.
func (n *Node) mappedOver(name string) Out {
	if n.op != nil && n.op.isDynamic(name) {
		return Out{node: n, name: name}
	}
	return n.over
}

// checkMappable reports a Map of an output that is neither dynamic nor mapped.
func (j *Job) checkMappable(m *Node, src Out) {
	if src.node != nil && src.node.op != nil && src.node.mappedOver(src.name).node == nil {
		j.errorf(m, "Map: output `%s` of node `%s` is not dynamic (return weft.Dynamic[T], or weft.DynamicOuts) nor an output of a node mapped over one", src.name, src.node.name)
	}
}

// collect binds input p of n to the list of a dynamic (or mapped) output's values.
func (j *Job) collect(n *Node, p param, c Collected) {
	src := c.out.node
	if src == nil {
		j.errorf(n, "input `%s`: a zero weft.Collected was given (use node.Collect())", p.name)
		return
	}
	ok := j.checkSource(n, p, src)
	elem := sliceElem(p.typ)
	switch {
	case elem == nil:
		j.errorf(n, "input `%s` collects output `%s` of node `%s`, so op `%s` must take a slice there, not %s", p.name, c.out.name, src.name, n.op.name, p.typ)
	case !ok || src.mappedOver(c.out.name).node == nil:
		// not checked: reported on that node, or by mapping (nothing to collect)
	case len(src.op.s.outs) == 0 && !compatible(src.out(), elem):
		j.errorf(n, "input `%s` is %s but node `%s` (collected) returns %s", p.name, p.typ, src.name, src.out())
	}
	n.inputs = append(n.inputs, binding{input: p.name, sources: []*Node{src}, outputs: []string{c.out.name}, collect: true})
}

// mapping finds the dynamic output n is mapped over from its inputs, and reports what the
// contract refuses: collecting what is not dynamic, fanning in what is, a node mapped over
// two dynamic outputs, or a mapped node with a dynamic output of its own.
func (j *Job) mapping(n *Node) {
	for _, b := range n.inputs {
		for i, src := range b.sources {
			if src == nil || src.op == nil {
				continue
			}
			over := src.mappedOver(b.outputs[i])
			switch {
			case b.collect:
				if over.node == nil {
					j.errorf(n, "input `%s` collects output `%s` of node `%s`, which is not dynamic nor an output of a node mapped over one", b.input, b.outputs[i], src.name)
				}
			case over.node == nil:
			case b.fanIn:
				j.errorf(n, "input `%s` fans in output `%s` of node `%s`, which is dynamic or mapped: collect it instead (node.Collect())", b.input, b.outputs[i], src.name)
			case n.over.node == nil:
				n.over = over
			case n.over != over:
				j.errorf(n, "it is mapped over two dynamic outputs (`%s.%s` and `%s.%s`); a node may be mapped over one only", n.over.node.name, n.over.name, over.node.name, over.name)
			}
		}
	}
	if n.over.node != nil && n.op != nil && n.op.hasDynamic() {
		j.errorf(n, "it is mapped over output `%s` of node `%s`, so op `%s` cannot have a dynamic output of its own", n.over.name, n.over.node.name, n.op.name)
	}
}
