// Jobs (Dagster's @job): NewJob builds a graph of op invocations (nodes, their inputs,
// aliases, fan-in); asset jobs (NewAssetJob); JobRef names the job a schedule, sensor or
// run request launches.

package weft

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// JobRef is a job a schedule, sensor or run request launches: a [*Job], an [*AssetJob],
// or [JobNamed].
type JobRef interface {
	JobName() string
}

type jobName string

func (j jobName) JobName() string { return string(j) }

// JobNamed refers to a job of this location by name.
func JobNamed(name string) JobRef { return jobName(name) }

// Job is a job (Dagster's @job): a graph of op invocations, built by [NewJob]. A graph
// asset's build function wires its ops on a Job too ([NewGraphAsset1]).
type Job struct {
	name  string
	s     settings
	nodes []*Node
	errs  []string
	// prefix is the graphs being called while the job builds, outermost first (see graph.go).
	prefix []string
	// kind is what the nodes are the graph of: "job", or "graph asset" (graphasset.go).
	kind string
}

// Node is one invocation of an op in a job, as [Job.Node] returns it. Pass it to
// Job.Node to feed a downstream input from its result; pass a []*Node to fan in.
type Node struct {
	job    *Job
	name   string
	prefix []string
	op     *Op
	inputs []binding
	tags   [][2]string
	// hooks are its own hooks ([Node.WithHooks]), besides its job's.
	hooks []*Hook
	// over is the dynamic output the node is mapped over (one step per mapping key), if
	// any: see dynamic.go.
	over Out
}

type binding struct {
	input   string
	sources []*Node
	// outputs are the output of each source feeding the input: `result`, or one [Outs]
	// declares.
	outputs []string
	fanIn   bool
	// collect: the one source is dynamic (or mapped) and the input gets all its values.
	collect bool
	// dep is the graph asset's input (an upstream asset) feeding the input, in place of
	// sources: see graphasset.go.
	dep string
}

// NewJob makes the job name, whose graph build wires by calling [Job.Node]:
//
//	var processNumbers = weft.NewJob("process_numbers", func(j *weft.Job) {
//		numbers := j.Node(generateNumbers)
//		evens := j.Node(filterEven, numbers)
//		j.Node(sumAll, evens)
//	}, weft.Tag("domain", "numbers"))
//
// Options: [Description], [Tag], [Tags], and [Hooks] (hooks every node of the job gets).
// Wiring mistakes (a wrong number of inputs, an upstream result whose Go type cannot
// decode into the input, a repeated node name) are definition errors naming the job and
// the node: the location then fails `weft check` with all of them.
func NewJob(name string, build func(j *Job), opts ...Option) *Job {
	what := fmt.Sprintf("job `%s`", name)
	s, errs := apply(what, jobOptions, opts)
	j := &Job{name: name, s: s, errs: append(errs, nilHooks(what, s.hooks)...), kind: "job"}
	if !isIdentifier(name) {
		j.errs = append(j.errs, what+": the name must be letters, digits and _ ([A-Za-z0-9_]+)")
	}
	if build == nil {
		j.errs = append(j.errs, what+": its build function is nil")
		return j
	}
	build(j)
	return j
}

// JobName is the job's name.
func (j *Job) JobName() string { return j.name }

// what names the graph in messages: "job `name`", or "graph asset `name`".
func (j *Job) what() string {
	if j.kind == "" {
		return fmt.Sprintf("job `%s`", j.name)
	}
	return fmt.Sprintf("%s `%s`", j.kind, j.name)
}

// Node invokes op in the job, feeding its inputs, in order, from inputs: each a *Node (the
// upstream node's result), an [Out] (one output of a node whose op has several), a
// []*Node or []Out (a fan-in: the input receives a list of their values, so the op must
// take a slice there), a [Collected] (all the values of a dynamic output, or of a node
// mapped over one: a slice too), or, in a graph asset, one of its inputs (the value of
// an upstream asset: see [NewGraphAsset1]). The node is named after the op; see
// [Node.Alias] to invoke one op several times. A node fed by a dynamic output, or by a
// node mapped over one, is mapped itself (one step per mapping key): see [Node.Map].
func (j *Job) Node(op *Op, inputs ...any) *Node {
	n := &Node{job: j}
	j.nodes = append(j.nodes, n)
	if op == nil {
		n.name = fmt.Sprintf("<node %d>", len(j.nodes))
		j.errorf(n, "a nil *weft.Op was given")
		return n
	}
	n.op = op
	n.prefix = append([]string(nil), j.prefix...)
	n.name = qualified(n.prefix, op.name)
	if len(inputs) != len(op.params) {
		j.errorf(n, "op `%s` takes %d input(s) %s, %d given", op.name, len(op.params), paramNames(op.params), len(inputs))
		return n
	}
	for i, arg := range inputs {
		p := op.params[i]
		switch a := arg.(type) {
		case Out:
			j.feed(n, p, []*Node{a.node}, []string{a.name}, false)
		case Collected:
			j.collect(n, p, a)
		case assetInput:
			j.assetInput(n, p, a)
		case []Out:
			nodes, names := make([]*Node, len(a)), make([]string, len(a))
			for k, o := range a {
				nodes[k], names[k] = o.node, o.name
			}
			j.feed(n, p, nodes, names, true)
		case *Node:
			if a != nil && a.op != nil && len(a.op.s.outs) > 0 {
				j.errorf(n, "input `%s`: op `%s` has outputs %s: pass one of them, node.Out(name)", p.name, a.op.name, strings.Join(a.op.s.outs, ", "))
			}
			if j.checkSource(n, p, a) && !compatible(a.out(), p.typ) {
				j.errorf(n, "input `%s` is %s but node `%s` returns %s", p.name, p.typ, a.name, a.out())
			}
			n.inputs = append(n.inputs, binding{input: p.name, sources: []*Node{a}, outputs: []string{"result"}})
		case []*Node:
			ok := true
			for _, src := range a {
				ok = j.checkSource(n, p, src) && ok
			}
			if ok {
				elem := sliceElem(p.typ)
				if elem == nil {
					j.errorf(n, "input `%s` fans in %d nodes, so op `%s` must take a slice there, not %s", p.name, len(a), op.name, p.typ)
				} else {
					for _, src := range a {
						if !compatible(src.out(), elem) {
							j.errorf(n, "input `%s` is %s but node `%s` (fanned in) returns %s", p.name, p.typ, src.name, src.out())
							break
						}
					}
				}
			}
			outputs := make([]string, len(a))
			for k := range outputs {
				outputs[k] = "result"
			}
			n.inputs = append(n.inputs, binding{input: p.name, sources: a, outputs: outputs, fanIn: true})
		default:
			j.errorf(n, "input `%s`: want a *weft.Node, a weft.Out, a slice of either or a weft.Collected, got %T", p.name, arg)
		}
	}
	j.mapping(n)
	return n
}

// feed binds input p of n to outputs of other nodes; their types are not known to Go
// (an op with several outputs returns [Results]), so only where they come from is checked.
func (j *Job) feed(n *Node, p param, nodes []*Node, outputs []string, fanIn bool) {
	for _, src := range nodes {
		j.checkSource(n, p, src)
	}
	if fanIn && sliceElem(p.typ) == nil {
		j.errorf(n, "input `%s` fans in %d outputs, so op `%s` must take a slice there, not %s", p.name, len(nodes), n.op.name, p.typ)
	}
	n.inputs = append(n.inputs, binding{input: p.name, sources: nodes, outputs: outputs, fanIn: fanIn})
}

// Alias names the node (Dagster's op.alias("add_7")); the name is its step key (under
// the graphs it is called in: `graph.add_7`).
func (n *Node) Alias(name string) *Node {
	if !isIdentifier(name) {
		n.job.errorf(n, "alias %q must be letters, digits and _", name)
	}
	n.name = qualified(n.prefix, name)
	return n
}

// Tag adds a tag to the node's step.
func (n *Node) Tag(key, value string) *Node {
	n.tags = append(n.tags, [2]string{key, value})
	return n
}

// Name is the node's name: its alias, or its op's name.
func (n *Node) Name() string { return n.name }

// out is the Go type of the node's result: of one value of it, when it is dynamic.
func (n *Node) out() reflect.Type {
	if n.op == nil {
		return nil
	}
	if elem := dynamicElem(n.op.out); elem != nil {
		return elem
	}
	return n.op.out
}

func (j *Job) checkSource(n *Node, p param, src *Node) bool {
	switch {
	case src == nil:
		j.errorf(n, "input `%s`: a nil *weft.Node was given", p.name)
	case src.job != j:
		j.errorf(n, "input `%s`: node `%s` belongs to %s", p.name, src.name, src.job.what())
	case src.op == nil:
		return false // reported on that node
	default:
		return true
	}
	return false
}

func (j *Job) errorf(n *Node, format string, args ...any) {
	j.errs = append(j.errs, fmt.Sprintf("%s: node `%s`: %s", j.what(), n.name, fmt.Sprintf(format, args...)))
}

// errors returns the job's definition errors, including repeated node names.
func (j *Job) errors() []string {
	errs := append([]string(nil), j.errs...)
	seen := map[string]bool{}
	for _, n := range j.nodes {
		if seen[n.name] {
			errs = append(errs, fmt.Sprintf("%s: two nodes are named `%s`: give one an Alias", j.what(), n.name))
		}
		seen[n.name] = true
	}
	return errs
}

func paramNames(params []param) string {
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.name
	}
	return "(" + strings.Join(names, ", ") + ")"
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

func sliceElem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		return t.Elem()
	}
	if t == rawMessageType || t.Kind() == reflect.Interface {
		return t
	}
	return nil
}

// compatible reports whether a value of type from, encoded as JSON, decodes into to.
// It is deliberately lenient where encoding/json is (any struct into any struct), and
// strict where a mistake is likely (a list into a number).
func compatible(from, to reflect.Type) bool {
	if from == nil || to == nil {
		return true
	}
	for from.Kind() == reflect.Pointer {
		from = from.Elem()
	}
	for to.Kind() == reflect.Pointer {
		to = to.Elem()
	}
	if from == to || to == rawMessageType || from == rawMessageType || from.Kind() == reflect.Interface {
		return true
	}
	if to.Kind() == reflect.Interface {
		return to.NumMethod() == 0 || from.Implements(to) || reflect.PointerTo(from).Implements(to)
	}
	if implementsJSON(from) || implementsJSON(to) {
		return true
	}
	isBytes := from.Kind() == reflect.Slice && from.Elem().Kind() == reflect.Uint8
	switch {
	case isBytes && to.Kind() == reflect.String: // []byte is a base64 string
		return true
	case isInt(from) && isInt(to), isNumber(from) && isFloat(to):
		return true
	case from.Kind() == reflect.String && to.Kind() == reflect.String, from.Kind() == reflect.Bool && to.Kind() == reflect.Bool:
		return true
	case (from.Kind() == reflect.Slice || from.Kind() == reflect.Array) && (to.Kind() == reflect.Slice || to.Kind() == reflect.Array):
		if from.Elem().Kind() == reflect.Uint8 && from.Kind() == reflect.Slice {
			return to.Elem().Kind() == reflect.Uint8 // []byte is a base64 string
		}
		return compatible(from.Elem(), to.Elem())
	case from.Kind() == reflect.Map && to.Kind() == reflect.Map:
		return compatible(from.Elem(), to.Elem())
	case (from.Kind() == reflect.Map || from.Kind() == reflect.Struct) && (to.Kind() == reflect.Map || to.Kind() == reflect.Struct):
		return true
	}
	return false
}

var (
	marshalerType   = reflect.TypeFor[json.Marshaler]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

func implementsJSON(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(marshalerType) || p.Implements(marshalerType) || p.Implements(unmarshalerType)
}

func isInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

func isFloat(t reflect.Type) bool {
	return t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64
}

func isNumber(t reflect.Type) bool { return isInt(t) || isFloat(t) }

// AssetJob is an asset job (Dagster's define_asset_job): the assets a selection picks.
type AssetJob struct {
	name      string
	selection string
	s         settings
	errs      []string
}

// NewAssetJob makes an asset job of the assets selection picks. Selection syntax
// (comma-separated terms, their union): `group:NAME`, `key:a/b` or `a/b`, `*`; a term
// followed by `+` adds everything downstream, preceded by `+` everything upstream.
// [Groups] and [Keys] write the common ones.
func NewAssetJob(name, selection string, opts ...Option) *AssetJob {
	what := fmt.Sprintf("asset job `%s`", name)
	s, errs := apply(what, assetJobOptions, opts)
	if !isIdentifier(name) {
		errs = append(errs, what+": the name must be letters, digits and _ ([A-Za-z0-9_]+)")
	}
	if strings.TrimSpace(selection) == "" {
		errs = append(errs, what+": its selection is empty")
	}
	return &AssetJob{name: name, selection: selection, s: s, errs: errs}
}

// JobName is the asset job's name.
func (j *AssetJob) JobName() string { return j.name }

// Groups selects the assets of these groups: `group:a,group:b`.
func Groups(groups ...string) string {
	terms := make([]string, len(groups))
	for i, g := range groups {
		terms[i] = "group:" + g
	}
	return strings.Join(terms, ",")
}

// Keys selects assets by key (`a/b`): `key:a/b,key:c`.
func Keys(keys ...string) string {
	terms := make([]string, len(keys))
	for i, k := range keys {
		terms[i] = "key:" + k
	}
	return strings.Join(terms, ",")
}
