//go:build !wasm

// Tests of dynamic fan-out: a dynamic output in the definitions, mapped and collecting
// nodes' bindings, the wiring mistakes reported, and ops.execute emitting one keyed output
// per value, refusing bad keys, handing a mapped step its key and a collect input its list.

package weft

import (
	"fmt"
	"strings"
	"testing"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

var (
	// fanOutOp emits 1..3 under k1..k3, or what its keys tag says (comma-separated).
	fanOutOp = NewOp0("fan_out", func(ctx *Context) (Dynamic[int], error) {
		ctx.AddOutputMetadata("count", 3)
		keys := []string{"k1", "k2", "k3"}
		if tag, ok := ctx.Tags["keys"]; ok {
			keys = strings.Split(tag, ",")
		}
		var out Dynamic[int]
		for i, k := range keys {
			out.Add(k, i+1)
		}
		return out, nil
	})
	squareOp = NewOp1("square", "x", func(ctx *Context, x int) (int, error) {
		if ctx.MappingKey == "k9" {
			return 0, ctx.Config(&struct{}{})
		}
		return x * x, nil
	})
	keyOf = NewOp1("key_of", "x", func(ctx *Context, x int) (string, error) {
		return fmt.Sprintf("%s:%d", ctx.MappingKey, x), nil
	})
	// routeOp has the dynamic output files and the plain output count.
	routeOp = NewOp0("route", func(*Context) (Results, error) {
		files := Dynamic[string]{{Value: "a.csv", MappingKey: "a"}, {Value: "b.csv", MappingKey: "b"}}
		return Results{"files": files, "count": len(files)}, nil
	}, Outs("files", "count"), DynamicOuts("files"), Optional("files"))
	sizeOf = NewOp1("size_of", "file", func(_ *Context, file string) (int, error) { return len(file), nil })
)

// fanoutJob is Dagster's fan_out().map(square).map(add_one) collected into sum.
var fanoutJob = NewJob("fanout", func(j *Job) {
	mapped := j.Node(fanOutOp).Map(squareOp).Map(addOne)
	j.Node(sumOp, mapped.Collect())
})

func TestDynamicOutputsMappedAndCollectedNodesInDefinitions(t *testing.T) {
	routed := NewJob("routed", func(j *Job) {
		r := j.Node(routeOp)
		sizes := r.Out("files").Map(sizeOf)
		j.Node(sumOp, sizes.Collect())
		j.Node(sumOp, []Out{r.Out("count")}).Alias("counted")
		j.Node(keyOf, j.Node(fanOutOp)).Alias("direct") // a dynamic output fed to Node: mapped too
		j.Node(sumOp, j.Node(fanOutOp).Alias("again").Collect()).Alias("sum_again")
	})
	r := mustCheck(t, Definitions{Jobs: []*Job{fanoutJob, routed}})
	defs := r.definitions()
	outs := map[string][]types.OutputDef{}
	for _, op := range defs.Ops {
		outs[op.Name] = op.Outputs
	}
	if o := outs["fan_out"]; len(o) != 1 || o[0].Name != "result" || !o[0].Dynamic || !o[0].Required || o[0].TypeName.Some() != "weft.Dynamic[int]" {
		t.Errorf("fan_out's outputs: %+v", o)
	}
	if o := outs["square"]; len(o) != 1 || o[0].Dynamic {
		t.Errorf("square's outputs: %+v", o)
	}
	if o := outs["route"]; len(o) != 2 || !o[0].Dynamic || o[0].Required || o[1].Dynamic || !o[1].Required {
		t.Errorf("route's outputs: %+v", o)
	}
	var got []string
	for _, n := range defs.Jobs[0].Nodes {
		for _, b := range n.Inputs {
			got = append(got, fmt.Sprintf("%s.%s<-%s.%s fan_in=%v collect=%v", n.Name, b.Input, b.Sources[0].Node, b.Sources[0].Output, b.FanIn, b.Collect))
		}
	}
	want := []string{
		"square.x<-fan_out.result fan_in=false collect=false",
		"add_one.x<-square.result fan_in=false collect=false",
		"sum.numbers<-add_one.result fan_in=false collect=true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("fanout's bindings:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	nodes := defs.Jobs[1].Nodes
	if b := nodes[1].Inputs[0]; nodes[1].Name != "size_of" || b.Sources[0].Node != "route" || b.Sources[0].Output != "files" || b.Collect {
		t.Errorf("size_of: %+v", nodes[1])
	}
	if b := nodes[2].Inputs[0]; !b.Collect || b.FanIn || b.Sources[0].Node != "size_of" {
		t.Errorf("sum collects size_of: %+v", nodes[2])
	}
	if b := nodes[7].Inputs[0]; nodes[7].Name != "sum_again" || !b.Collect || b.Sources[0].Node != "again" {
		t.Errorf("sum_again collects the dynamic output itself: %+v", nodes[7])
	}
	over := map[string]string{}
	for _, n := range routed.nodes {
		if n.over.node != nil {
			over[n.name] = n.over.node.name + "." + n.over.name
		}
	}
	if fmt.Sprint(over) != "map[direct:fan_out.result size_of:route.files]" {
		t.Errorf("mapped nodes: %v", over)
	}
}

func TestDynamicWiringMistakesAreNamed(t *testing.T) {
	strs := NewOp0("strs", func(*Context) (Dynamic[string], error) { return nil, nil })
	both := NewOp2("both", "a", "b", func(_ *Context, a, b int) (int, error) { return a + b, nil })
	refan := NewOp1("refan", "x", func(_ *Context, x int) (Dynamic[int], error) { return nil, nil })
	// Errors name a node as it is named when it is wired, before an Alias.
	bad := NewJob("bad", func(j *Job) {
		g := j.Node(gen)
		f := j.Node(fanOutOp)
		j.Node(gen).Alias("gen2").Map(sumOp)
		j.Node(sumOp, g.Collect())
		j.Node(addOne, f.Collect())
		j.Node(strs).Map(addOne)
		j.Node(sumOp, j.Node(strs).Alias("strs2").Collect())
		j.Node(sumOp, []*Node{f})
		j.Node(both, f, j.Node(fanOutOp).Alias("other"))
		f.Map(refan)
		j.Node(routeOp).Map(sizeOf)
		j.Node(sumOp, j.Node(routeOp).Collect())
		j.Node(sumOp, Collected{})
	})
	wantErrors(t, Definitions{Jobs: []*Job{bad}},
		"node `sum`: Map: output `result` of node `gen2` is not dynamic (return weft.Dynamic[T], or weft.DynamicOuts) nor an output of a node mapped over one",
		"node `sum`: input `numbers` collects output `result` of node `gen`, which is not dynamic nor an output of a node mapped over one",
		"node `add_one`: input `x` collects output `result` of node `fan_out`, so op `add_one` must take a slice there, not int",
		"node `add_one`: input `x` is int but node `strs` returns string",
		"node `sum`: input `numbers` is []int but node `strs2` (collected) returns string",
		"node `sum`: input `numbers` fans in output `result` of node `fan_out`, which is dynamic or mapped: collect it instead",
		"node `both`: it is mapped over two dynamic outputs (`fan_out.result` and `other.result`); a node may be mapped over one only",
		"node `refan`: it is mapped over output `result` of node `fan_out`, so op `refan` cannot have a dynamic output of its own",
		"Map: op `route` has outputs files, count: map one of them, node.Out(name).Map(op)",
		"node `route`: Collect: op `route` has outputs files, count: collect one of them, node.Out(name).Collect()",
		"node `sum`: input `numbers`: a zero weft.Collected was given",
	)
	wrong := NewOp0("wrong", func(*Context) (Results, error) { return nil, nil }, Outs("a"), DynamicOuts("b"))
	plain := NewOp0("plain", func(*Context) (int, error) { return 0, nil }, DynamicOuts("result"))
	asset := NewAsset0("dyn", func(*Context) (Dynamic[int], error) { return nil, nil })
	wantErrors(t, Definitions{Ops: []*Op{wrong, plain}, Assets: []*Asset{asset}},
		"op `wrong`: weft.DynamicOuts(\"b\") names no output of weft.Outs",
		"op `plain`: weft.DynamicOuts(\"result\") names no output of weft.Outs (an op without Outs makes its output `result` dynamic by returning weft.Dynamic[T])",
		"asset `dyn`: it returns weft.Dynamic[int], but only an op can have a dynamic output",
	)
}

func TestDynamicOutputIsOneKeyedOutputPerValue(t *testing.T) {
	out, f := runStep(fanOutOp, "op `fan_out`", stepCtx("fan_out", "fan_out"), nil)
	if f != nil {
		t.Fatal(f.Message)
	}
	var got []string
	for i, o := range out {
		got = append(got, fmt.Sprintf("%s[%s]=%s (%s)", o.Name, o.MappingKey.SomeOr("-"), o.Value.Data, metadataText(out, i)))
	}
	if want := "result[k1]=1 (count=int:3) result[k2]=2 (count=int:3) result[k3]=3 (count=int:3)"; strings.Join(got, " ") != want {
		t.Errorf("outputs:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	out, f = runStep(routeOp, "op `route`", stepCtx("route", "route"), nil)
	if f != nil || len(out) != 3 || out[0].MappingKey.Some() != "a" || string(out[1].Value.Data) != `"b.csv"` ||
		out[2].Name != "count" || out[2].MappingKey.IsSome() || string(out[2].Value.Data) != "2" {
		t.Fatalf("route's outputs: %+v %v", out, f)
	}
	c := stepCtx("fan_out", "fan_out")
	c.Tags["keys"] = ""
	if out, f = runStep(fanOutOp, "op `fan_out`", c, nil); f == nil || !strings.Contains(f.Message, `mapping key "" must be letters`) {
		t.Errorf("an empty key: %+v %+v", out, f)
	}
	empty := NewOp0("empty", func(*Context) (Dynamic[int], error) { return nil, nil })
	if out, f = runStep(empty, "op `empty`", stepCtx("empty", "empty"), nil); f != nil || out == nil || len(out) != 0 {
		t.Errorf("no values: %+v %+v", out, f)
	}
}

func TestBadOrRepeatedMappingKeysFailTheStep(t *testing.T) {
	for keys, want := range map[string]string{
		"k1,k-2":   "op `fan_out`: output `result`: mapping key \"k-2\" must be letters, digits and _ ([A-Za-z0-9_]+)",
		"k1,k é":   "mapping key \"k é\" must be letters, digits and _",
		"k1,k2,k1": "op `fan_out`: output `result`: mapping key \"k1\" is used twice (each value of a dynamic output needs its own key)",
	} {
		c := stepCtx("fan_out", "fan_out")
		c.Tags["keys"] = keys
		_, f := runStep(fanOutOp, "op `fan_out`", c, nil)
		if f == nil || f.Retryable || !strings.Contains(f.Message, want) {
			t.Errorf("keys %s: %+v, want %q", keys, f, want)
		}
	}
	notDynamic := NewOp0("not_dynamic", func(*Context) (Results, error) {
		return Results{"a": Dynamic[int]{{Value: 1, MappingKey: "x"}}}, nil
	}, Outs("a"))
	if _, f := runStep(notDynamic, "op `not_dynamic`", stepCtx("not_dynamic", "not_dynamic"), nil); f == nil ||
		!strings.Contains(f.Message, "op `not_dynamic`: output `a` is not dynamic: return its value, not weft.Dynamic[int]") {
		t.Errorf("a Dynamic for a plain output: %+v", f)
	}
	plainValue := NewOp0("plain_value", func(*Context) (Results, error) { return Results{"d": 1}, nil }, Outs("d"), DynamicOuts("d"))
	if _, f := runStep(plainValue, "op `plain_value`", stepCtx("plain_value", "plain_value"), nil); f == nil ||
		!strings.Contains(f.Message, "output `d` is dynamic: return a weft.Dynamic[T] for it, not int") {
		t.Errorf("a plain value for a dynamic output: %+v", f)
	}
}

func TestMappedStepGetsItsKeyAndCollectGetsAList(t *testing.T) {
	Register(Definitions{Jobs: []*Job{fanoutJob, NewJob("keyed", func(j *Job) { j.Node(fanOutOp).Map(keyOf) })}})
	defer func() { registered, built, registers = nil, nil, 0 }()
	step := func(op, key string, mapping witTypes.Option[string], inputs ...types.StepInput) witTypes.Result[[]types.StepOutput, types.Failure] {
		return execute(types.StepContext{RunId: "r", Job: "fanout", StepKey: key, Target: types.MakeStepTargetOp(op), Attempt: 1, MappingKey: mapping}, inputs)
	}
	res := step("key_of", "key_of[k2]", witTypes.Some("k2"), types.StepInput{Name: "x", Arg: single("2")})
	if !res.IsOk() || string(res.Ok()[0].Value.Data) != `"k2:2"` || res.Ok()[0].MappingKey.IsSome() {
		t.Errorf("key_of[k2]: %+v", res)
	}
	res = step("key_of", "key_of", witTypes.None[string](), types.StepInput{Name: "x", Arg: single("2")})
	if !res.IsOk() || string(res.Ok()[0].Value.Data) != `":2"` {
		t.Errorf("an unmapped step has no key: %+v", res)
	}
	res = step("square", "square[k9]", witTypes.Some("k9"), types.StepInput{Name: "x", Arg: single("2")})
	if !res.IsErr() || !strings.Contains(res.Err().Message, "step `square[k9]` needs config (struct {}) but the run gave none: set ops.square.config") {
		t.Errorf("a mapped step's config is its node's: %+v", res)
	}
	list := []types.Value{{Codec: "json", Data: []byte("2")}, {Codec: "json", Data: []byte("5")}, {Codec: "json", Data: []byte("10")}}
	res = step("sum", "sum", witTypes.None[string](), types.StepInput{Name: "numbers", Arg: types.MakeInputArgFanIn(list)})
	if !res.IsOk() || string(res.Ok()[0].Value.Data) != "17" {
		t.Errorf("sum of the collected values: %+v", res)
	}
	res = step("sum", "sum", witTypes.None[string](), types.StepInput{Name: "numbers", Arg: types.MakeInputArgFanIn(nil)})
	if !res.IsOk() || string(res.Ok()[0].Value.Data) != "0" {
		t.Errorf("nothing collected: %+v", res)
	}
}
