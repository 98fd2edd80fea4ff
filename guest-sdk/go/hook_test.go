//go:build !wasm

// Tests of hooks: how definitions list them and name them on each node, the mistakes
// reported, and hooks.run calling them.

package weft

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

func noHook(*HookContext) error { return nil }

func TestHooksInDefinitions(t *testing.T) {
	announce := NewSuccessHook("announce", noHook, Description("Say it worked"))
	alarm := NewFailureHook("alarm", noHook)
	grumpy := NewFailureHook("grumpy", noHook)
	spare := NewSuccessHook("spare", noHook)
	inner := NewGraph("inner", func(j *Job, in ...any) any { return j.Node(addOne, in[0]) })
	job := NewJob("hooked", func(j *Job) {
		start := j.Node(gen)
		j.Node(sumOp, start).WithHooks(grumpy, alarm) // alarm is the job's too: listed once
		inner.Call(j, j.Node(sumOp, start).Alias("again").WithHooks(grumpy))
	}, Hooks(announce, alarm, announce))
	plain := NewJob("plain", func(j *Job) { j.Node(gen) })
	r := mustCheck(t, Definitions{Jobs: []*Job{job, plain}, Hooks: []*Hook{spare, alarm}})
	defs := r.definitions()

	var hooks []string
	for _, h := range defs.Hooks {
		hooks = append(hooks, h.Name)
	}
	if !reflect.DeepEqual(hooks, []string{"spare", "alarm", "announce", "grumpy"}) {
		t.Errorf("definitions.hooks: %v", hooks)
	}
	byName := map[string]types.HookDef{}
	for _, h := range defs.Hooks {
		byName[h.Name] = h
	}
	if h := byName["announce"]; h.On != types.HookTrigger_Success || h.Description.Some() != "Say it worked" {
		t.Errorf("announce: %+v", h)
	}
	if h := byName["alarm"]; h.On != types.HookTrigger_Failure || h.Description.IsSome() {
		t.Errorf("alarm: %+v", h)
	}
	want := map[string][]string{
		"gen":           {"alarm", "announce"},
		"sum":           {"alarm", "announce", "grumpy"},
		"again":         {"alarm", "announce", "grumpy"},
		"inner.add_one": {"alarm", "announce"}, // a graph's node gets the job's hooks
	}
	for _, n := range defs.Jobs[0].Nodes {
		if !reflect.DeepEqual(n.Hooks, want[n.Name]) {
			t.Errorf("node %s: hooks %v, want %v", n.Name, n.Hooks, want[n.Name])
		}
	}
	if h := defs.Jobs[1].Nodes[0].Hooks; h == nil || len(h) != 0 {
		t.Errorf("a node with no hooks: %#v, want an empty list", h)
	}
}

func TestHookMistakes(t *testing.T) {
	bad := NewSuccessHook("Bad-Name", nil, Group("g"))
	wantErrors(t, Definitions{Hooks: []*Hook{bad}},
		"success hook `Bad-Name`: the name must be letters, digits and _",
		"success hook `Bad-Name`: its function is nil",
		"success hook `Bad-Name`: option weft.Group does not apply here (it takes weft.Description)",
	)
	one, other := NewFailureHook("same", noHook), NewSuccessHook("same", noHook)
	job := NewJob("j", func(j *Job) { j.Node(gen).WithHooks(other, nil) }, Hooks(one, nil))
	wantErrors(t, Definitions{Jobs: []*Job{job}, Hooks: []*Hook{nil}},
		"two different hooks are named `same`",
		"job `j`: weft.Hooks was given a nil *weft.Hook",
		"job `j`: node `gen`: WithHooks was given a nil *weft.Hook",
		"Definitions.Hooks holds a nil *weft.Hook",
	)
	assets := NewAssetJob("a", "*", Hooks(one))
	wantErrors(t, Definitions{AssetJobs: []*AssetJob{assets}}, "asset job `a`: option weft.Hooks does not apply here")
}

func TestRunHook(t *testing.T) {
	var lines []string
	testLog = func(level Level, msg string, fields [][2]string) {
		lines = append(lines, formatLine(level, msg, fields))
	}
	defer func() { testLog = nil }()
	var seen *HookContext
	announce := NewSuccessHook("announce", func(ctx *HookContext) error {
		seen = ctx
		ctx.Log.Info("announce: "+ctx.StepKey+" of "+ctx.Job+" succeeded", "op", ctx.Op)
		return nil
	})
	alarm := NewFailureHook("alarm", func(ctx *HookContext) error {
		seen = ctx
		return nil
	})
	grumpy := NewFailureHook("grumpy", func(*HookContext) error { return errors.New("grumpy hook fails") })
	strict := NewFailureHook("strict", func(*HookContext) error { return Permanentf("strictly") })
	boom := NewFailureHook("boom", func(*HookContext) error { panic("kaboom") })
	job := NewJob("j", func(j *Job) {
		j.Node(gen).WithHooks(grumpy, strict, boom)
	}, Hooks(announce, alarm))
	Register(Definitions{Jobs: []*Job{job}})
	defer func() { registered, built, registers = nil, nil, 0 }()

	ctx := types.HookContext{RunId: "r1", Job: "j", StepKey: "gen_2", Op: "gen", Failure: witTypes.None[string]()}
	if res := runHook("announce", ctx); res.IsErr() {
		t.Fatalf("announce: %+v", res.Err())
	}
	if seen == nil || *seen != (HookContext{RunID: "r1", Job: "j", StepKey: "gen_2", Op: "gen", Failure: "", Log: Log}) {
		t.Errorf("announce's context: %+v", seen)
	}
	if len(lines) != 1 || lines[0] != "INFO announce: gen_2 of j succeeded op=gen" {
		t.Errorf("log lines: %q", lines)
	}
	ctx.Failure = witTypes.Some("broken on purpose")
	if res := runHook("alarm", ctx); res.IsErr() || seen.Failure != "broken on purpose" {
		t.Errorf("alarm: %+v, saw %+v", res, seen)
	}
	for _, c := range []struct{ hook, message string }{
		{"grumpy", "grumpy hook fails"},
		{"strict", "strictly"},
		{"boom", "panicked: kaboom (at "},
		{"nope", `no hook named "nope" in this code location`},
	} {
		res := runHook(c.hook, ctx)
		if !res.IsErr() || !strings.HasPrefix(res.Err().Message, c.message) || res.Err().Retryable {
			t.Errorf("%s: got %+v, want a permanent failure %q", c.hook, res, c.message)
		}
	}
	if msg := runHook("boom", ctx).Err().Message; !strings.Contains(msg, "hook_test.go:") {
		t.Errorf("the panic's site is not the test file: %s", msg)
	}
}

func TestRunHookWithInvalidDefinitions(t *testing.T) {
	bad := NewSuccessHook("bad-name", noHook)
	Register(Definitions{Hooks: []*Hook{bad}})
	defer func() { registered, built, registers = nil, nil, 0 }()
	res := runHook("bad-name", types.HookContext{})
	if !res.IsErr() || !strings.Contains(res.Err().Message, "the location's definitions are invalid") {
		t.Errorf("got %+v", res)
	}
}
