//go:build !wasm

package weft

import (
	"fmt"
	"strings"
	"testing"

	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

var split = NewOp1("split", "numbers", func(ctx *Context, numbers []int) (Results, error) {
	var even, odd []int
	for _, n := range numbers {
		if n%2 == 0 {
			even = append(even, n)
		} else {
			odd = append(odd, n)
		}
	}
	ctx.AddOutputMetadata("total", len(numbers))
	ctx.AddMetadataTo("even", "link", URL("http://x"))
	out := Results{"even": even}
	if len(odd) > 0 {
		out["odd"] = odd
	}
	return out, nil
}, Outs("even", "odd"), Optional("odd"))

func metadataText(m []types.StepOutput, i int) string {
	var parts []string
	for _, e := range m[i].Metadata {
		switch e.F1.Tag() {
		case types.MetadataValue_Int:
			parts = append(parts, fmt.Sprintf("%s=int:%d", e.F0, e.F1.Int()))
		case types.MetadataValue_Url:
			parts = append(parts, fmt.Sprintf("%s=url:%s", e.F0, e.F1.Url()))
		default:
			parts = append(parts, e.F0+"=?")
		}
	}
	return strings.Join(parts, " ")
}

func TestSeveralOutputsSomeOptional(t *testing.T) {
	defs := split.outputDefs()
	if len(defs) != 2 || defs[0].Name != "even" || !defs[0].Required || defs[1].Name != "odd" || defs[1].Required {
		t.Fatalf("output defs: %+v", defs)
	}
	out, f := runStep(split, "op `split`", stepCtx("split", "split"), []types.StepInput{{Name: "numbers", Arg: single(`[1,2,4]`)}})
	if f != nil {
		t.Fatal(f.Message)
	}
	if len(out) != 2 || out[0].Name != "even" || string(out[0].Value.Data) != "[2,4]" || out[1].Name != "odd" || string(out[1].Value.Data) != "[1]" {
		t.Fatalf("outputs: %+v", out)
	}
	if got := metadataText(out, 0); got != "total=int:3 link=url:http://x" {
		t.Errorf("even's metadata: %s", got)
	}
	if got := metadataText(out, 1); got != "total=int:3" {
		t.Errorf("odd's metadata: %s", got)
	}
	out, f = runStep(split, "op `split`", stepCtx("split", "split"), []types.StepInput{{Name: "numbers", Arg: single(`[2]`)}})
	if f != nil || len(out) != 1 || out[0].Name != "even" {
		t.Fatalf("the optional output is left out: %+v %v", out, f)
	}
}

func TestOutputsWireByNameAndMistakesAreNamed(t *testing.T) {
	gen := NewOp0("gen", func(*Context) ([]int, error) { return []int{1, 2}, nil })
	sum := NewOp1("sum", "numbers", func(_ *Context, n []int) (int, error) { return len(n), nil })
	job := NewJob("parity", func(j *Job) {
		s := j.Node(split, j.Node(gen))
		j.Node(sum, s.Out("even"))
		j.Node(sum, s.Out("odd")).Alias("sum_odd")
	})
	if errs := job.errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	b := job.nodes[3].inputs[0]
	if b.sources[0].name != "split" || b.outputs[0] != "odd" {
		t.Errorf("sum_odd reads %s.%s", b.sources[0].name, b.outputs[0])
	}
	bad := NewJob("bad", func(j *Job) {
		s := j.Node(split, j.Node(gen))
		j.Node(sum, s)
		j.Node(sum, s.Out("nope")).Alias("other")
	})
	errs := strings.Join(bad.errors(), "\n")
	for _, want := range []string{
		"input `numbers`: op `split` has outputs even, odd: pass one of them, node.Out(name)",
		"op `split` has no output `nope` (its outputs: even, odd)",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors %q do not contain %q", errs, want)
		}
	}
	wrong := NewOp0("wrong", func(*Context) (int, error) { return 1, nil }, Outs("a", "a"), Optional("b"))
	errs = strings.Join(wrong.errs, "\n")
	if !strings.Contains(errs, "two outputs are named `a`") || !strings.Contains(errs, `weft.Optional("b") names no output`) {
		t.Errorf("op errors: %s", errs)
	}
	_, f := runStep(wrong, "op `wrong`", stepCtx("wrong", "wrong"), nil)
	if f == nil || !strings.Contains(f.Message, "return weft.Results, not int") {
		t.Errorf("wrong return: %+v", f)
	}
}

func TestConfigOfAStructIsItsJSONSchema(t *testing.T) {
	type Window struct {
		Days int `json:"days" default:"7"`
	}
	type Scale struct {
		Factor int      `json:"factor" description:"times"`
		Label  string   `json:"label,omitempty"`
		Tags   []string `json:"tags" default:"[]"`
		Window Window   `json:"window"`
		hidden int
	}
	op := NewOp0("scale", func(*Context) (int, error) { return 1, nil }, ConfigOf[Scale]())
	if len(op.errs) > 0 {
		t.Fatal(op.errs)
	}
	want := `{"additionalProperties":false,"properties":{"factor":{"description":"times","type":"integer"},"label":{"type":"string"},"tags":{"default":[],"items":{"type":"string"},"type":"array"},"window":{"additionalProperties":false,"properties":{"days":{"default":7,"type":"integer"}},"type":"object"}},"required":["factor","window"],"type":"object"}`
	if op.s.configSchema != want {
		t.Errorf("schema:\n got %s\nwant %s", op.s.configSchema, want)
	}
	bad := NewOp0("bad", func(*Context) (int, error) { return 1, nil }, ConfigOf[struct {
		F func() `json:"f"`
	}]())
	if len(bad.errs) != 1 || !strings.Contains(bad.errs[0], "field F: a func() cannot be config") {
		t.Errorf("errors: %v", bad.errs)
	}
}

func TestOpsInAGraphAreNamedGraphDotOp(t *testing.T) {
	seed := NewOp0("seed", func(*Context) (int, error) { return 1, nil })
	addOne := NewOp1("add_one", "x", func(_ *Context, x int) (int, error) { return x + 1, nil })
	twice := NewGraph("twice", func(j *Job, in ...any) any {
		return j.Node(addOne, j.Node(addOne, in[0])).Alias("add_one_2")
	})
	outer := NewGraph("outer", func(j *Job, in ...any) any {
		return twice.Call(j, j.Node(addOne, in[0]))
	})
	job := NewJob("graphs", func(j *Job) {
		one := outer.Call(j, j.Node(seed))
		twice.Alias("again").Call(j, one)
		j.Node(addOne, one)
	})
	if errs := job.errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	var names []string
	for _, n := range job.nodes {
		names = append(names, n.name)
	}
	want := "seed outer.add_one outer.twice.add_one outer.twice.add_one_2 again.add_one again.add_one_2 add_one"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("nodes:\n got %s\nwant %s", got, want)
	}
	if src := job.nodes[4].inputs[0].sources[0].name; src != "outer.twice.add_one_2" {
		t.Errorf("again.add_one reads %s", src)
	}
	twiceAgain := NewJob("dup", func(j *Job) {
		s := j.Node(seed)
		twice.Call(j, s)
		twice.Call(j, s)
	})
	if errs := strings.Join(twiceAgain.errors(), "\n"); !strings.Contains(errs, "two nodes are named `twice.add_one`") {
		t.Errorf("errors: %s", errs)
	}
}
