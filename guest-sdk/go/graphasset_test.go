//go:build !wasm

// Tests of graph assets: how definitions list one (its graph's nodes, inputs and output,
// its ops among the location's), the mistakes reported, and ops.execute running one of
// its ops by its step key while refusing the asset itself.

package weft

import (
	"reflect"
	"strings"
	"testing"
	"time"

	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

var (
	scoredValue = NewAsset0("scored", func(*Context) (float64, error) { return 1.5, nil })
	doubleScore = NewOp1("double_score", "x", func(_ *Context, x float64) (float64, error) { return 2 * x, nil })
	addHalf     = NewOp1("add_half", "x", func(ctx *Context, x float64) (float64, error) {
		ctx.AddOutputMetadata("step", ctx.StepKey)
		return x + 0.5, nil
	})
	boosted = NewGraphAsset1("boosted", "scored", func(j *Job, scored any) any {
		return j.Node(addHalf, j.Node(doubleScore, scored))
	}, Group("scores"), Description("Doubled, plus a half"), Kinds("go"), Tag("team", "data"), Deps("elsewhere/raw"))
	// boostedTwice reads boosted as any asset's value.
	boostedTwice = NewAsset1("boosted_twice", "boosted", func(_ *Context, boosted float64) (float64, error) {
		return 2 * boosted, nil
	})
)

func TestGraphAssetInDefinitions(t *testing.T) {
	pair := NewOp2("pair_up", "a", "b", func(_ *Context, a, b float64) (float64, error) { return a + b, nil })
	total := NewOp1("total_of", "xs", func(_ *Context, xs []float64) (float64, error) { return xs[0] + xs[1], nil })
	twice := NewGraph("twice", func(j *Job, in ...any) any {
		return j.Node(doubleScore, j.Node(doubleScore, in[0])).Alias("double_score_2")
	})
	// Two inputs, a graph called in it, a fan-in, a key prefix (not in the nodes' names).
	mixed := NewGraphAssetFunc("mixed", []string{"scored", "boosted"}, func(j *Job, in ...any) any {
		quad := twice.Call(j, in[0])
		return j.Node(total, []*Node{j.Node(pair, quad, in[1]), j.Node(doubleScore, in[1]).Alias("doubled")})
	}, KeyPrefix("wh"))
	r := mustCheck(t, Definitions{Assets: []*Asset{scoredValue, boosted, boostedTwice, mixed}})
	defs := r.definitions()
	var ops []string
	for _, op := range defs.Ops {
		ops = append(ops, op.Name)
	}
	if got := strings.Join(ops, " "); got != "double_score add_half pair_up total_of" {
		t.Errorf("ops: %s", got)
	}
	if len(defs.Assets) != 4 || defs.Assets[0].Graph.IsSome() || defs.Assets[2].Graph.IsSome() {
		t.Fatalf("assets: %+v", defs.Assets)
	}
	a := defs.Assets[1]
	if !reflect.DeepEqual(a.Key, []string{"boosted"}) || a.Group != "scores" || a.Description.Some() != "Doubled, plus a half" ||
		!reflect.DeepEqual(a.Kinds, []string{"go"}) || len(a.Tags) != 1 || a.Tags[0].F0 != "team" ||
		a.RetryPolicy.IsSome() || a.ConfigSchema.IsSome() || a.Multi.IsSome() {
		t.Errorf("boosted: %+v", a)
	}
	if len(a.Deps) != 2 || !reflect.DeepEqual(a.Deps[0].Key, []string{"scored"}) || a.Deps[0].Input.Some() != "scored" ||
		!reflect.DeepEqual(a.Deps[1].Key, []string{"elsewhere", "raw"}) || a.Deps[1].Input.IsSome() {
		t.Errorf("boosted's deps: %+v", a.Deps)
	}
	g := a.Graph.Some()
	want := types.AssetGraph{
		Nodes: []types.NodeDef{
			{Name: "boosted.double_score", Op: "double_score", Inputs: []types.InputBinding{}},
			{Name: "boosted.add_half", Op: "add_half", Inputs: []types.InputBinding{
				{Input: "x", Sources: []types.OutputRef{{Node: "boosted.double_score", Output: "result"}}},
			}},
		},
		Inputs: []types.AssetGraphInput{{Dep: "scored", Node: "boosted.double_score", Input: "x"}},
		Output: types.OutputRef{Node: "boosted.add_half", Output: "result"},
	}
	for i := range g.Nodes {
		if len(g.Nodes[i].Tags) != 0 || len(g.Nodes[i].Hooks) != 0 {
			t.Errorf("node %s: tags %v hooks %v", g.Nodes[i].Name, g.Nodes[i].Tags, g.Nodes[i].Hooks)
		}
		g.Nodes[i].Tags, g.Nodes[i].Hooks = nil, nil
	}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("boosted's graph:\n got %+v\nwant %+v", g, want)
	}

	m := defs.Assets[3]
	if !reflect.DeepEqual(m.Key, []string{"wh", "mixed"}) || m.Group != "default" || len(m.Deps) != 2 || m.Deps[1].Input.Some() != "boosted" {
		t.Errorf("mixed: %+v", m)
	}
	mg := m.Graph.Some()
	var names []string
	for _, n := range mg.Nodes {
		names = append(names, n.Name)
	}
	if got := strings.Join(names, " "); got != "wh__mixed.twice.double_score wh__mixed.twice.double_score_2 wh__mixed.pair_up wh__mixed.doubled wh__mixed.total_of" {
		t.Errorf("mixed's nodes: %s", got)
	}
	if in := mg.Nodes[2].Inputs; len(in) != 1 || in[0].Input != "a" || in[0].Sources[0].Node != "wh__mixed.twice.double_score_2" {
		t.Errorf("mixed.pair_up's bindings: %+v", in)
	}
	if in := mg.Nodes[4].Inputs; len(in) != 1 || !in[0].FanIn || len(in[0].Sources) != 2 || in[0].Sources[1].Node != "wh__mixed.doubled" {
		t.Errorf("mixed.total_of's bindings: %+v", in)
	}
	wantInputs := []types.AssetGraphInput{
		{Dep: "scored", Node: "wh__mixed.twice.double_score", Input: "x"},
		{Dep: "boosted", Node: "wh__mixed.pair_up", Input: "b"},
		{Dep: "boosted", Node: "wh__mixed.doubled", Input: "x"},
	}
	if !reflect.DeepEqual(mg.Inputs, wantInputs) || mg.Output != (types.OutputRef{Node: "wh__mixed.total_of", Output: "result"}) {
		t.Errorf("mixed's inputs and output: %+v %+v", mg.Inputs, mg.Output)
	}
}

func TestGraphAssetWithoutInputsAndAnOutOfSeveral(t *testing.T) {
	seed := NewOp0("seed", func(*Context) (float64, error) { return 1, nil })
	two := NewOp1("two_ways", "x", func(_ *Context, x float64) (Results, error) { return Results{"up": x + 1, "down": x - 1}, nil }, Outs("up", "down"))
	tagged := NewGraphAsset0("tagged", func(j *Job) any {
		return j.Node(two, j.Node(seed).Tag("size", "small").WithHooks(NewSuccessHook("cheer", noHook))).Out("down")
	})
	r := mustCheck(t, Definitions{Assets: []*Asset{tagged}})
	g := r.definitions().Assets[0].Graph.Some()
	if len(g.Inputs) != 0 || g.Output != (types.OutputRef{Node: "tagged.two_ways", Output: "down"}) {
		t.Errorf("inputs and output: %+v %+v", g.Inputs, g.Output)
	}
	if n := g.Nodes[0]; n.Name != "tagged.seed" || len(n.Tags) != 1 || n.Tags[0].F1 != "small" || !reflect.DeepEqual(n.Hooks, []string{"cheer"}) {
		t.Errorf("tagged.seed: %+v", n)
	}
	if hooks := r.definitions().Hooks; len(hooks) != 1 || hooks[0].Name != "cheer" {
		t.Errorf("hooks: %+v", hooks)
	}
}

func TestGraphAssetMistakes(t *testing.T) {
	var leaked any
	upper := NewOp1("upper", "s", func(_ *Context, s string) (string, error) { return s, nil })
	two := NewOp0("two_outs", func(*Context) (Results, error) { return nil, nil }, Outs("a", "b"))
	fan := NewOp0("fan", func(*Context) (Dynamic[float64], error) { return nil, nil })
	wantErrors(t, Definitions{
		Assets: []*Asset{
			scoredValue,
			NewGraphAsset1("nil_build", "scored", nil),
			NewGraphAsset1("gives_nothing", "scored", func(j *Job, scored any) any { j.Node(doubleScore, scored); return nil }),
			NewGraphAsset1("gives_input", "scored", func(j *Job, scored any) any { leaked = scored; return scored }),
			NewGraphAsset1("gives_string", "scored", func(j *Job, scored any) any { j.Node(doubleScore, scored); return "x" }),
			NewGraphAsset1("gives_two", "scored", func(j *Job, scored any) any { j.Node(doubleScore, scored); return j.Node(two) }),
			NewGraphAsset1("gives_mapped", "scored", func(j *Job, scored any) any { j.Node(addHalf, scored); return j.Node(fan).Map(doubleScore) }),
			NewGraphAsset1("unread", "scored", func(j *Job, _ any) any { return j.Node(doubleScore, NewJob("x", func(*Job) {}).Node(addHalf)) }),
			NewGraphAsset1("miswired", "scored", func(j *Job, scored any) any { return j.Node(addHalf) }),
			NewGraphAsset1("mistyped", "scored", func(j *Job, scored any) any { return j.Node(upper, scored) }),
			NewGraphAsset1("twice_same", "scored", func(j *Job, scored any) any {
				return j.Node(doubleScore, j.Node(doubleScore, scored))
			}),
			NewGraphAsset1("optioned", "scored", func(j *Job, scored any) any { return j.Node(doubleScore, scored) },
				Retry(RetryPolicy{MaxRetries: 1, Delay: time.Second}), ConfigSchema(`{}`)),
			NewGraphAsset1("Bad-Name", "nowhere", func(j *Job, in any) any { return j.Node(doubleScore, in) }),
		},
	},
		"graph asset `nil_build`: its build function is nil",
		"graph asset `gives_nothing`: its build function gives nothing: give the node (or node.Out(name)) whose output is the asset's value",
		"graph asset `gives_input`: it gives its input `scored` as it is",
		"graph asset `gives_string`: its build function gives a string",
		"graph asset `gives_two`: it gives node `gives_two.two_outs`, whose op `two_outs` has outputs a, b: give one of them, node.Out(name)",
		"graph asset `gives_mapped`: it gives output `result` of node `gives_mapped.double_score`, which is dynamic or mapped",
		"graph asset `unread`: input `scored` feeds no node",
		"graph asset `unread`: node `unread.double_score`: input `x`: node `add_half` belongs to job `x`",
		"graph asset `miswired`: node `miswired.add_half`: op `add_half` takes 1 input(s) (x), 0 given",
		"graph asset `mistyped`: node `mistyped.upper`: input `s` is string but asset `scored` (its input `scored`) returns float64",
		"graph asset `twice_same`: two nodes are named `twice_same.double_score`: give one an Alias",
		"graph asset `optioned`: option weft.Retry does not apply here (it takes weft.Description, weft.Tag, weft.Tags, weft.Group, weft.KeyPrefix, weft.Kinds, weft.InputKey, weft.Deps)",
		"graph asset `optioned`: option weft.ConfigSchema does not apply here",
		"graph asset `Bad-Name`: the name must be letters, digits and _",
		"graph asset `Bad-Name`: input `nowhere` names no asset of this location",
	)
	// An input used outside its graph asset, in a job.
	wantErrors(t, Definitions{Jobs: []*Job{NewJob("thief", func(j *Job) { j.Node(doubleScore, leaked) })}},
		"job `thief`: node `double_score`: input `x`: `scored` is an input of graph asset `gives_input`, not of this graph")
	// An asset check of a graph asset takes the value of its output.
	wantErrors(t, Definitions{
		Assets:      []*Asset{scoredValue, boosted},
		AssetChecks: []*AssetCheck{NewAssetCheck1("is_text", boosted, func(_ *Context, v string) (CheckResult, error) { return CheckResult{}, nil })},
	}, "asset check `is_text` of asset `boosted`: it takes the asset's value as string but the asset returns float64")
}

func TestExecuteAGraphAssetsOp(t *testing.T) {
	Register(Definitions{Assets: []*Asset{scoredValue, boosted, boostedTwice}})
	defer func() { registered, built, registers = nil, nil, 0 }()
	ctx := types.StepContext{RunId: "r1", Job: "__asset_job", StepKey: "boosted.add_half", Target: types.MakeStepTargetOp("add_half"), Attempt: 1}
	res := execute(ctx, []types.StepInput{{Name: "x", Arg: single("3")}})
	if res.IsErr() {
		t.Fatal(res.Err())
	}
	out := res.Ok()
	if len(out) != 1 || out[0].Name != "result" || string(out[0].Value.Data) != "3.5" ||
		len(out[0].Metadata) != 1 || out[0].Metadata[0].F1.Text() != "boosted.add_half" {
		t.Errorf("boosted.add_half: %+v", out)
	}
	ctx.StepKey, ctx.Target = "boosted.double_score", types.MakeStepTargetOp("double_score")
	if out := execute(ctx, []types.StepInput{{Name: "x", Arg: single("1.5")}}).Ok(); len(out) != 1 || string(out[0].Value.Data) != "3" {
		t.Errorf("boosted.double_score: %+v", out)
	}
	// A bad input names the op and the step.
	res = execute(ctx, []types.StepInput{{Name: "x", Arg: single(`"high"`)}})
	if !res.IsErr() || !strings.HasPrefix(res.Err().Message, "op `double_score` (step `boosted.double_score`): cannot decode input `x` as float64") {
		t.Errorf("a bad input: %+v", res)
	}
	// The asset itself is never a step.
	res = execute(types.StepContext{StepKey: "boosted", Target: types.MakeStepTargetAsset([]string{"boosted"})}, nil)
	want := "asset `boosted` is a graph asset: its ops run as steps of their own (boosted.double_score, boosted.add_half), not the asset"
	if !res.IsErr() || res.Err().Message != want || res.Err().Retryable {
		t.Errorf("the asset: %+v", res)
	}
	// Its downstream asset reads its value as any asset's.
	res = execute(types.StepContext{StepKey: "boosted_twice", Target: types.MakeStepTargetAsset([]string{"boosted_twice"})}, []types.StepInput{{Name: "boosted", Arg: single("3.5")}})
	if res.IsErr() || string(res.Ok()[0].Value.Data) != "7" {
		t.Errorf("boosted_twice: %+v", res)
	}
}
