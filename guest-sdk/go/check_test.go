//go:build !wasm

// Tests of asset checks: how definitions list them (those of a multi-asset's assets too),
// the mistakes reported, and checks.evaluate calling them (and ops.execute refusing them).

package weft

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

var checkedAsset = NewAsset0("scored", func(*Context) (int, error) { return 7, nil }, KeyPrefix("wh"))

func passes(*Context) (CheckResult, error) { return CheckResult{Passed: true}, nil }

func checkCtx(asset []string, name string) types.StepContext {
	return types.StepContext{
		RunId:   "r1",
		Job:     "checked_job",
		StepKey: strings.Join(asset, "__") + "_" + name,
		Target:  types.MakeStepTargetCheck(types.CheckTarget{Asset: asset, Name: name}),
		Attempt: 1,
	}
}

func TestAssetChecksInDefinitions(t *testing.T) {
	positive := NewAssetCheck1("is_positive", checkedAsset, func(_ *Context, v int) (CheckResult, error) {
		return CheckResult{Passed: v > 0}, nil
	}, Blocking(), Description("Above zero"))
	exists := NewAssetCheck0("exists", checkedAsset, passes)
	r := mustCheck(t, Definitions{Assets: []*Asset{checkedAsset}, AssetChecks: []*AssetCheck{positive, exists, positive}})
	defs := r.definitions()
	if len(defs.AssetChecks) != 2 {
		t.Fatalf("asset checks: %+v", defs.AssetChecks)
	}
	p, e := defs.AssetChecks[0], defs.AssetChecks[1]
	if p.Name != "is_positive" || !reflect.DeepEqual(p.Asset, []string{"wh", "scored"}) || !p.Blocking ||
		p.Description.Some() != "Above zero" || p.Input.Some() != "scored" {
		t.Errorf("is_positive: %+v", p)
	}
	if e.Name != "exists" || e.Blocking || e.Description.IsSome() || e.Input.IsSome() {
		t.Errorf("exists: %+v", e)
	}
	if positive.Name() != "is_positive" || positive.Asset() != checkedAsset {
		t.Errorf("accessors: %s %v", positive.Name(), positive.Asset())
	}
	if empty := mustCheck(t, Definitions{}).definitions().AssetChecks; empty == nil || len(empty) != 0 {
		t.Errorf("no checks: %#v, want an empty list", empty)
	}
}

func TestAssetCheckMistakes(t *testing.T) {
	other := NewAsset0("other", func(*Context) (string, error) { return "", nil })
	wantErrors(t, Definitions{
		Assets: []*Asset{checkedAsset, other},
		AssetChecks: []*AssetCheck{
			NewAssetCheck0("Bad-Name", checkedAsset, nil, Group("g")),
			NewAssetCheck0("orphan", nil, passes),
			NewAssetCheck0("elsewhere", NewAsset0("unlisted", func(*Context) (int, error) { return 0, nil }), passes),
			NewAssetCheck0("twice", checkedAsset, passes),
			NewAssetCheck0("twice", checkedAsset, passes),
			NewAssetCheck0("twice", other, passes), // another asset's: fine
			NewAssetCheck1("typed", other, func(_ *Context, v int) (CheckResult, error) { return CheckResult{}, nil }),
			nil,
		},
	},
		"asset check `Bad-Name`: the name must be letters, digits and _",
		"asset check `Bad-Name`: its function is nil",
		"asset check `Bad-Name`: option weft.Group does not apply here (it takes weft.Description, weft.Blocking)",
		"asset check `orphan`: its asset is nil",
		"asset check `elsewhere` of asset `unlisted`: its asset is not in Definitions.Assets",
		"asset `wh/scored` has two different asset checks named `twice`",
		"asset check `typed` of asset `other`: it takes the asset's value as int but the asset returns string",
		"Definitions.AssetChecks holds a nil *weft.AssetCheck",
	)
	err := Check(Definitions{Assets: []*Asset{checkedAsset, other}, AssetChecks: []*AssetCheck{
		NewAssetCheck0("twice", checkedAsset, passes), NewAssetCheck0("twice", other, passes),
	}})
	if err != nil {
		t.Errorf("checks of the same name on two assets: %v", err)
	}
	wantErrors(t, Definitions{Ops: []*Op{NewOp0("o", func(*Context) (int, error) { return 0, nil }, Blocking())}},
		"op `o`: option weft.Blocking does not apply here")
}

func TestEvaluateCheck(t *testing.T) {
	var seen *Context
	positive := NewAssetCheck1("is_positive", checkedAsset, func(ctx *Context, v int) (CheckResult, error) {
		seen = ctx
		ctx.AddOutputMetadata("first", "added to the context")
		return CheckResult{Passed: v > 0, Description: "checked", Metadata: map[string]any{"score": float64(v), "link": URL("http://x")}}, nil
	}, Blocking())
	small := NewAssetCheck1("is_small", checkedAsset, func(_ *Context, v int) (CheckResult, error) {
		return CheckResult{Passed: v < 5, Severity: SeverityWarn}, nil
	})
	flaky := NewAssetCheck0("flaky", checkedAsset, func(*Context) (CheckResult, error) { return CheckResult{}, errors.New("disk full") })
	strict := NewAssetCheck0("strict", checkedAsset, func(*Context) (CheckResult, error) { return CheckResult{}, Permanentf("bad row %d", 3) })
	boom := NewAssetCheck0("boom", checkedAsset, func(*Context) (CheckResult, error) { panic("kaboom") })
	Register(Definitions{Assets: []*Asset{checkedAsset}, AssetChecks: []*AssetCheck{positive, small, flaky, strict, boom}})
	defer func() { registered, built, registers = nil, nil, 0 }()
	key := []string{"wh", "scored"}
	value := []types.StepInput{{Name: "scored", Arg: single("7")}}

	res := evaluateCheck(checkCtx(key, "is_positive"), value)
	if res.IsErr() {
		t.Fatalf("is_positive: %+v", res.Err())
	}
	got := res.Ok()
	if !got.Passed || got.Severity != types.CheckSeverity_Error || got.Description.Some() != "checked" || len(got.Metadata) != 3 {
		t.Fatalf("is_positive: %+v", got)
	}
	if m := got.Metadata; m[0].F0 != "first" || m[0].F1.Text() != "added to the context" ||
		m[1].F0 != "link" || m[1].F1.Url() != "http://x" || m[2].F0 != "score" || m[2].F1.Float() != 7 {
		t.Errorf("metadata: %+v", m)
	}
	if seen.StepKey != "wh__scored_is_positive" || !reflect.DeepEqual(seen.AssetKey, key) || seen.RunID != "r1" || seen.Job != "checked_job" {
		t.Errorf("the check's context: %+v", seen)
	}
	got = evaluateCheck(checkCtx(key, "is_small"), value).Ok()
	if got.Passed || got.Severity != types.CheckSeverity_Warn || got.Description.IsSome() || got.Metadata == nil || len(got.Metadata) != 0 {
		t.Errorf("is_small: %+v", got)
	}

	for _, c := range []struct {
		check     string
		inputs    []types.StepInput
		message   string
		retryable bool
	}{
		{"flaky", nil, "disk full", true},
		{"strict", nil, "bad row 3", false},
		{"boom", nil, "panicked: kaboom (at ", true},
		{"is_positive", []types.StepInput{{Name: "scored", Arg: single(`"seven"`)}}, "asset check `is_positive` of asset `wh/scored`: cannot decode input `scored` as int", false},
		{"is_positive", nil, "asset check `is_positive` of asset `wh/scored`: the host gave no value for input `scored`", false},
		{"nope", nil, "this location has no asset check `nope` of asset `wh/scored`", false},
	} {
		res := evaluateCheck(checkCtx(key, c.check), c.inputs)
		if !res.IsErr() || !strings.HasPrefix(res.Err().Message, c.message) || res.Err().Retryable != c.retryable {
			t.Errorf("%s: got %+v, want %q retryable=%v", c.check, res, c.message, c.retryable)
		}
	}
	if msg := evaluateCheck(checkCtx(key, "boom"), nil).Err().Message; !strings.Contains(msg, "check_test.go:") {
		t.Errorf("the panic's site is not the test file: %s", msg)
	}
	if msg := evaluateCheck(checkCtx([]string{"scored"}, "is_positive"), value).Err().Message; msg != "this location has no asset check `is_positive` of asset `scored`" {
		t.Errorf("another asset's key: %s", msg)
	}
	op := types.StepContext{StepKey: "wh/scored", Target: types.MakeStepTargetAsset(key)}
	if msg := evaluateCheck(op, value).Err().Message; !strings.Contains(msg, "checks.evaluate was called for step `wh/scored`, which is not an asset check") {
		t.Errorf("an asset's step: %s", msg)
	}
}

func TestExecuteRefusesAnAssetCheck(t *testing.T) {
	positive := NewAssetCheck0("is_positive", checkedAsset, passes)
	Register(Definitions{Assets: []*Asset{checkedAsset}, AssetChecks: []*AssetCheck{positive}})
	defer func() { registered, built, registers = nil, nil, 0 }()
	res := execute(checkCtx([]string{"wh", "scored"}, "is_positive"), nil)
	want := "step `wh__scored_is_positive` is the asset check `is_positive` of asset `wh/scored`: checks.evaluate evaluates it, not ops.execute"
	if !res.IsErr() || res.Err().Message != want || res.Err().Retryable {
		t.Errorf("got %+v", res)
	}
}

func TestEvaluateCheckWithInvalidDefinitions(t *testing.T) {
	bad := NewAssetCheck0("bad-name", checkedAsset, passes)
	Register(Definitions{Assets: []*Asset{checkedAsset}, AssetChecks: []*AssetCheck{bad}})
	defer func() { registered, built, registers = nil, nil, 0 }()
	res := evaluateCheck(checkCtx([]string{"wh", "scored"}, "bad-name"), nil)
	if !res.IsErr() || !strings.Contains(res.Err().Message, "the location's definitions are invalid") {
		t.Errorf("got %+v", res)
	}
}

// splitNumbers is a multi-asset whose second asset's key has a prefix.
var splitNumbers = NewMultiAsset0("split_numbers", []AssetOut{
	{Output: "even"},
	{Output: "odd", Key: "numbers/odd"},
}, func(*Context) (Results, error) { return Results{"even": []int{2}, "odd": []int{1, 3}}, nil })

func TestChecksOfAMultiAssetsAssets(t *testing.T) {
	var seen *Context
	oddOnly := NewAssetCheck1("odd_only", splitNumbers.Asset("odd"), func(ctx *Context, odd []int) (CheckResult, error) {
		seen = ctx
		for _, n := range odd {
			if n%2 == 0 {
				return CheckResult{Description: fmt.Sprintf("%d is even", n)}, nil
			}
		}
		return CheckResult{Passed: true, Metadata: map[string]any{"count": len(odd)}}, nil
	}, Blocking())
	evenExists := NewAssetCheck0("exists", splitNumbers.Asset("even"), passes)
	oddExists := NewAssetCheck0("exists", splitNumbers.Asset("odd"), passes) // another asset's: fine
	defs := Definitions{MultiAssets: []*MultiAsset{splitNumbers}, AssetChecks: []*AssetCheck{oddOnly, evenExists, oddExists}}
	checks := mustCheck(t, defs).definitions().AssetChecks
	if len(checks) != 3 {
		t.Fatalf("asset checks: %+v", checks)
	}
	if o := checks[0]; o.Name != "odd_only" || !reflect.DeepEqual(o.Asset, []string{"numbers", "odd"}) || o.Input.Some() != "odd" || !o.Blocking {
		t.Errorf("odd_only: %+v", o)
	}
	if e := checks[1]; e.Name != "exists" || !reflect.DeepEqual(e.Asset, []string{"even"}) || e.Input.IsSome() {
		t.Errorf("exists of even: %+v", e)
	}
	if e := checks[2]; !reflect.DeepEqual(e.Asset, []string{"numbers", "odd"}) || e.Input.IsSome() {
		t.Errorf("exists of numbers/odd: %+v", e)
	}
	if oddOnly.Asset() != nil || !reflect.DeepEqual(oddOnly.AssetKey(), []string{"numbers", "odd"}) ||
		splitNumbers.Asset("odd").KeyString() != "numbers/odd" || splitNumbers.Asset("nope").Key() != nil {
		t.Errorf("accessors: %v %v %q", oddOnly.Asset(), oddOnly.AssetKey(), splitNumbers.Asset("odd").KeyString())
	}
	if k := NewAssetCheck0("c", checkedAsset, passes).AssetKey(); !reflect.DeepEqual(k, []string{"wh", "scored"}) {
		t.Errorf("a plain asset's check's key: %v", k)
	}

	Register(defs)
	defer func() { registered, built, registers = nil, nil, 0 }()
	key := []string{"numbers", "odd"}
	res := evaluateCheck(checkCtx(key, "odd_only"), []types.StepInput{{Name: "odd", Arg: single("[1, 3]")}})
	if res.IsErr() {
		t.Fatalf("odd_only: %+v", res.Err())
	}
	if got := res.Ok(); !got.Passed || len(got.Metadata) != 1 || got.Metadata[0].F0 != "count" || got.Metadata[0].F1.Int() != 2 {
		t.Errorf("odd_only: %+v", got)
	}
	if seen.StepKey != "numbers__odd_odd_only" || !reflect.DeepEqual(seen.AssetKey, key) {
		t.Errorf("the check's context: %+v", seen)
	}
	if got := evaluateCheck(checkCtx(key, "odd_only"), []types.StepInput{{Name: "odd", Arg: single("[1, 4]")}}).Ok(); got.Passed || got.Description.Some() != "4 is even" {
		t.Errorf("odd_only of [1, 4]: %+v", got)
	}
	if got := evaluateCheck(checkCtx([]string{"even"}, "exists"), nil); got.IsErr() || !got.Ok().Passed {
		t.Errorf("exists of even: %+v", got)
	}
	for inputs, want := range map[string]string{
		`"odd"`: "asset check `odd_only` of asset `numbers/odd`: cannot decode input `odd` as []int",
		"":      "asset check `odd_only` of asset `numbers/odd`: the host gave no value for input `odd`",
	} {
		var in []types.StepInput
		if inputs != "" {
			in = []types.StepInput{{Name: "odd", Arg: single(inputs)}}
		}
		res := evaluateCheck(checkCtx(key, "odd_only"), in)
		if !res.IsErr() || !strings.HasPrefix(res.Err().Message, want) || res.Err().Retryable {
			t.Errorf("inputs %q: got %+v, want %q", inputs, res, want)
		}
	}
	if msg := evaluateCheck(checkCtx([]string{"odd"}, "odd_only"), nil).Err().Message; msg != "this location has no asset check `odd_only` of asset `odd`" {
		t.Errorf("the output's name as the key: %s", msg)
	}
}

func TestChecksOfAMultiAssetsAssetsMistakes(t *testing.T) {
	var nilMulti *MultiAsset
	unlisted := NewMultiAsset0("unlisted", []AssetOut{{Output: "u"}}, func(*Context) (Results, error) { return nil, nil })
	wantErrors(t, Definitions{
		MultiAssets: []*MultiAsset{splitNumbers},
		AssetChecks: []*AssetCheck{
			NewAssetCheck0("unknown", splitNumbers.Asset("numbers/odd"), passes),
			NewAssetCheck1("typed_unknown", splitNumbers.Asset("nope"), func(_ *Context, v int) (CheckResult, error) { return CheckResult{}, nil }),
			NewAssetCheck0("of_nil", nilMulti.Asset("x"), passes),
			NewAssetCheck0("elsewhere", unlisted.Asset("u"), passes),
			NewAssetCheck0("twice", splitNumbers.Asset("odd"), passes),
			NewAssetCheck0("twice", splitNumbers.Asset("odd"), passes),
		},
	},
		"asset check `unknown`: multi-asset `split_numbers` has no out `numbers/odd` (its outs: even, odd)",
		"asset check `typed_unknown`: multi-asset `split_numbers` has no out `nope` (its outs: even, odd)",
		"asset check `of_nil`: its multi-asset is nil",
		"asset check `elsewhere` of asset `u`: its multi-asset `unlisted` is not in Definitions.MultiAssets",
		"asset `numbers/odd` has two different asset checks named `twice`",
	)
	var nilAsset *Asset
	wantErrors(t, Definitions{AssetChecks: []*AssetCheck{NewAssetCheck0("of_nil_asset", nilAsset, passes)}},
		"asset check `of_nil_asset`: its asset is nil")
}
