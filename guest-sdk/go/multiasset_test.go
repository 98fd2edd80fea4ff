//go:build !wasm

// Tests of multi-assets: how definitions list their assets, the mistakes reported, and
// ops.execute running one for the assets a run selects.

package weft

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

var (
	base = NewAsset0("base", func(*Context) (float64, error) { return 5, nil })
	// splitBase is subsettable: it returns the selected outputs only.
	splitBase = NewMultiAsset1("split_base", []AssetOut{
		{Output: "low", Key: "low", Group: "split", Description: "Below"},
		{Output: "high", Key: "wh/high"},
	}, "base", func(ctx *Context, base float64) (Results, error) {
		seenMulti = ctx
		ctx.AddOutputMetadata("base", base)
		out := Results{}
		if ctx.IsSelected("low") {
			ctx.AddMetadataTo("low", "side", "low")
			out["low"] = base - 1
		}
		if ctx.IsSelected("wh/high") {
			ctx.AddMetadataTo("high", "side", "high")
			out["high"] = base + 1
		}
		return out, nil
	}, CanSubset(), Group("numbers"), Kinds("go"), Tag("team", "data"), Deps("elsewhere/raw"),
		Retry(RetryPolicy{MaxRetries: 2, Delay: time.Second}), ConfigSchema(`{"type":"object"}`))
	// spreadOf depends on both of splitBase's assets by name.
	spreadOf = NewAsset2("spread", "low", "high", func(_ *Context, low, high float64) (float64, error) {
		return high - low, nil
	})
	seenMulti *Context
)

func multiCtx(name string, selected ...string) types.StepContext {
	target := types.MultiAssetTarget{Name: name, Selected: [][]string{}}
	for _, k := range selected {
		target.Selected = append(target.Selected, strings.Split(k, "/"))
	}
	return types.StepContext{RunId: "r1", Job: "split_job", StepKey: name, Target: types.MakeStepTargetMultiAsset(target), Attempt: 1}
}

func TestMultiAssetsInDefinitions(t *testing.T) {
	pair := NewMultiAsset0("pair", []AssetOut{{Output: "one"}, {Output: "two", Group: "g"}},
		func(*Context) (Results, error) { return Results{"one": 1, "two": 2}, nil })
	r := mustCheck(t, Definitions{Assets: []*Asset{base, spreadOf}, MultiAssets: []*MultiAsset{splitBase, pair, splitBase}})
	assets := r.definitions().Assets
	if len(assets) != 6 {
		t.Fatalf("%d assets, want base, spread and the four of the multi-assets: %+v", len(assets), assets)
	}
	if assets[0].Multi.IsSome() || assets[1].Multi.IsSome() {
		t.Errorf("plain assets name a multi-asset: %+v %+v", assets[0].Multi, assets[1].Multi)
	}
	spread := assets[1]
	if len(spread.Deps) != 2 || !reflect.DeepEqual(spread.Deps[0].Key, []string{"low"}) || spread.Deps[0].Input.Some() != "low" ||
		!reflect.DeepEqual(spread.Deps[1].Key, []string{"wh", "high"}) || spread.Deps[1].Input.Some() != "high" {
		t.Errorf("spread's deps: %+v", spread.Deps)
	}
	low, high := assets[2], assets[3]
	for _, a := range []types.AssetDef{low, high} {
		m := a.Multi.Some()
		if m.Name != "split_base" || !m.CanSubset {
			t.Errorf("%v: multi %+v", a.Key, m)
		}
		if len(a.Deps) != 2 || !reflect.DeepEqual(a.Deps[0].Key, []string{"base"}) || a.Deps[0].Input.Some() != "base" ||
			!reflect.DeepEqual(a.Deps[1].Key, []string{"elsewhere", "raw"}) || a.Deps[1].Input.IsSome() {
			t.Errorf("%v: deps %+v", a.Key, a.Deps)
		}
		if !reflect.DeepEqual(a.Kinds, []string{"go"}) || len(a.Tags) != 1 || a.Tags[0].F0 != "team" ||
			a.RetryPolicy.Some().MaxRetries != 2 || a.ConfigSchema.Some() != `{"type":"object"}` {
			t.Errorf("%v: kinds, tags, retry or config: %+v", a.Key, a)
		}
	}
	if !reflect.DeepEqual(low.Key, []string{"low"}) || low.Multi.Some().Output != "low" || low.Group != "split" || low.Description.Some() != "Below" {
		t.Errorf("low: %+v", low)
	}
	if !reflect.DeepEqual(high.Key, []string{"wh", "high"}) || high.Multi.Some().Output != "high" || high.Group != "numbers" || high.Description.IsSome() {
		t.Errorf("high: %+v", high)
	}
	one, two := assets[4], assets[5]
	if !reflect.DeepEqual(one.Key, []string{"one"}) || one.Group != "default" || one.Multi.Some().CanSubset || len(one.Deps) != 0 || one.Kinds == nil {
		t.Errorf("one: %+v", one)
	}
	if !reflect.DeepEqual(two.Key, []string{"two"}) || two.Group != "g" || two.Multi.Some().Name != "pair" {
		t.Errorf("two: %+v", two)
	}
	if splitBase.Name() != "split_base" || !reflect.DeepEqual(splitBase.Keys(), [][]string{{"low"}, {"wh", "high"}}) {
		t.Errorf("accessors: %s %v", splitBase.Name(), splitBase.Keys())
	}
}

func TestMultiAssetMistakes(t *testing.T) {
	noop := func(*Context) (Results, error) { return nil, nil }
	wantErrors(t, Definitions{
		Assets: []*Asset{base, NewAsset0("clash", func(*Context) (int, error) { return 0, nil })},
		MultiAssets: []*MultiAsset{
			NewMultiAsset0("empty", nil, noop),
			NewMultiAsset0("Bad-Name", []AssetOut{{Output: "bad out"}, {Output: "x"}, {Output: "x", Key: "y"}, {Output: "z", Key: "a//b"}}, nil,
				Description("no"), KeyPrefix("p")),
			NewMultiAsset0("clash", []AssetOut{{Output: "c1"}}, noop),
			NewMultiAsset0("dup", []AssetOut{{Output: "base"}}, noop),
			NewMultiAsset0("dup", []AssetOut{{Output: "d2"}}, noop),
			NewMultiAsset1("self", []AssetOut{{Output: "mine"}}, "mine", func(_ *Context, v int) (Results, error) { return nil, nil }),
			NewMultiAsset1("lost", []AssetOut{{Output: "l1"}}, "nowhere", func(_ *Context, v int) (Results, error) { return nil, nil }),
			NewMultiAssetFunc("typed", []AssetOut{{Output: "t1"}}, []string{"base"}, func(_ *Context, v int) (int, error) { return v, nil }),
			NewMultiAssetFunc("shape", []AssetOut{{Output: "s1"}}, []string{"base"}, func(*Context) (Results, error) { return nil, nil }),
			nil,
		},
	},
		"multi-asset `empty`: it has no asset outs ([]weft.AssetOut)",
		"multi-asset `Bad-Name`: the name must be letters, digits and _",
		"multi-asset `Bad-Name`: its function is nil",
		"multi-asset `Bad-Name`: option weft.Description does not apply here (it takes weft.Tag, weft.Tags, weft.Retry, weft.ConfigSchema, weft.Group, weft.Kinds, weft.InputKey, weft.Deps, weft.CanSubset)",
		"multi-asset `Bad-Name`: option weft.KeyPrefix does not apply here",
		"multi-asset `Bad-Name`: output name \"bad out\" must be letters, digits and _",
		"multi-asset `Bad-Name`: two outs have the output `x`",
		"multi-asset `Bad-Name`: output `z`: asset key \"a//b\" has an empty part",
		"multi-asset `clash`: an asset has the key `clash`; name it otherwise",
		"two assets are named `base`",
		"two different multi-assets are named `dup`",
		"multi-asset `self`: it depends on its own asset `mine`",
		"multi-asset `lost`: input `nowhere` names no asset of this location",
		"multi-asset `typed`: want a function returning (weft.Results, error), got func(*weft.Context, int) (int, error)",
		"multi-asset `shape`: want a function func(*weft.Context, <1 inputs>) (T, error)",
		"Definitions.MultiAssets holds a nil *weft.MultiAsset",
	)
	wantErrors(t, Definitions{Assets: []*Asset{NewAsset0("a", func(*Context) (int, error) { return 0, nil }, CanSubset())}},
		"asset `a`: option weft.CanSubset does not apply here")
	// Its own name as one of its assets' keys is a clash too.
	wantErrors(t, Definitions{MultiAssets: []*MultiAsset{NewMultiAsset0("same", []AssetOut{{Output: "same"}}, noop)}},
		"multi-asset `same`: an asset has the key `same`")
}

func TestExecuteMultiAsset(t *testing.T) {
	fails := NewMultiAsset0("fails", []AssetOut{{Output: "f"}}, func(*Context) (Results, error) { return nil, errors.New("disk full") })
	strict := NewMultiAsset0("strict", []AssetOut{{Output: "s"}}, func(*Context) (Results, error) { return nil, Permanentf("bad row %d", 3) })
	boom := NewMultiAsset0("boom", []AssetOut{{Output: "b"}}, func(*Context) (Results, error) { panic("kaboom") })
	whole := NewMultiAsset0("whole", []AssetOut{{Output: "w1"}, {Output: "w2"}}, func(*Context) (Results, error) {
		return Results{"w1": 1, "w2": 2}, nil
	})
	extra := NewMultiAsset0("extra", []AssetOut{{Output: "e1"}}, func(*Context) (Results, error) {
		return Results{"e1": 1, "zz": 2, "aa": 3}, nil
	})
	Register(Definitions{Assets: []*Asset{base, spreadOf}, MultiAssets: []*MultiAsset{splitBase, fails, strict, boom, whole, extra}})
	defer func() { registered, built, registers = nil, nil, 0 }()
	input := []types.StepInput{{Name: "base", Arg: single("5")}}

	res := execute(multiCtx("split_base", "low", "wh/high"), input)
	if res.IsErr() {
		t.Fatalf("both: %+v", res.Err())
	}
	out := res.Ok()
	if len(out) != 2 || out[0].Name != "low" || string(out[0].Value.Data) != "4" || out[1].Name != "high" || string(out[1].Value.Data) != "6" {
		t.Fatalf("both: %+v", out)
	}
	if m := out[0].Metadata; len(m) != 2 || m[0].F0 != "base" || m[0].F1.Float() != 5 || m[1].F0 != "side" || m[1].F1.Text() != "low" {
		t.Errorf("low's metadata: %+v", m)
	}
	if m := out[1].Metadata; len(m) != 2 || m[1].F0 != "side" || m[1].F1.Text() != "high" {
		t.Errorf("high's metadata: %+v", m)
	}
	if seenMulti.StepKey != "split_base" || seenMulti.AssetKey != nil || seenMulti.Job != "split_job" ||
		!reflect.DeepEqual(seenMulti.SelectedAssetKeys(), [][]string{{"low"}, {"wh", "high"}}) ||
		!reflect.DeepEqual(seenMulti.SelectedOutputs(), []string{"low", "high"}) {
		t.Errorf("the context: %+v, selected %v %v", seenMulti, seenMulti.SelectedAssetKeys(), seenMulti.SelectedOutputs())
	}

	// A subset: the selected output only, whichever order the host lists them in.
	out = execute(multiCtx("split_base", "wh/high"), input).Ok()
	if len(out) != 1 || out[0].Name != "high" || string(out[0].Value.Data) != "6" {
		t.Fatalf("high only: %+v", out)
	}
	if seenMulti.IsSelected("low") || !seenMulti.IsSelected("wh/high") || !reflect.DeepEqual(seenMulti.SelectedOutputs(), []string{"high"}) {
		t.Errorf("high only: selected %v %v", seenMulti.SelectedAssetKeys(), seenMulti.SelectedOutputs())
	}
	if out := execute(multiCtx("whole", "w2", "w1"), nil).Ok(); len(out) != 2 || out[0].Name != "w1" || out[1].Name != "w2" {
		t.Errorf("whole: %+v", out)
	}

	for _, c := range []struct {
		ctx       types.StepContext
		inputs    []types.StepInput
		message   string
		retryable bool
	}{
		{multiCtx("fails", "f"), nil, "disk full", true},
		{multiCtx("strict", "s"), nil, "bad row 3", false},
		{multiCtx("boom", "b"), nil, "panicked: kaboom (at ", true},
		{multiCtx("split_base", "low"), []types.StepInput{{Name: "base", Arg: single(`"five"`)}}, "multi-asset `split_base`: cannot decode input `base` as float64", false},
		{multiCtx("split_base", "low"), nil, "multi-asset `split_base`: the host gave no value for input `base`", false},
		{multiCtx("nope", "low"), nil, "this location has no multi-asset `nope` (its multi-assets: split_base, fails, strict, boom, whole, extra)", false},
		{multiCtx("split_base", "base"), input, "multi-asset `split_base` has no asset `base` (its assets: low, wh/high)", false},
		{multiCtx("split_base"), input, "the run selects none of the assets of multi-asset `split_base`", false},
		{multiCtx("whole", "w1"), nil, "multi-asset `whole` cannot be subset (it is not weft.CanSubset) but the run leaves out w2", false},
		{multiCtx("extra", "e1"), nil, "multi-asset `extra` returned output(s) aa, zz, which it does not declare (its outputs: e1)", false},
	} {
		res := execute(c.ctx, c.inputs)
		if !res.IsErr() || !strings.HasPrefix(res.Err().Message, c.message) || res.Err().Retryable != c.retryable {
			t.Errorf("%s: got %+v, want %q retryable=%v", c.ctx.StepKey, res, c.message, c.retryable)
		}
	}
	if msg := execute(multiCtx("boom", "b"), nil).Err().Message; !strings.Contains(msg, "multiasset_test.go:") {
		t.Errorf("the panic's site is not the test file: %s", msg)
	}
}

func TestMultiAssetReturningAnUnselectedOutput(t *testing.T) {
	greedy := NewMultiAsset0("greedy", []AssetOut{{Output: "g1"}, {Output: "g2"}, {Output: "g3"}}, func(*Context) (Results, error) {
		return Results{"g1": 1, "g2": 2, "g3": 3}, nil
	}, CanSubset())
	Register(Definitions{MultiAssets: []*MultiAsset{greedy}})
	defer func() { registered, built, registers = nil, nil, 0 }()
	res := execute(multiCtx("greedy", "g2"), nil)
	want := "multi-asset `greedy` returned output(s) g1, g3, whose assets the run did not select (it selected the outputs g2)"
	if !res.IsErr() || !strings.HasPrefix(res.Err().Message, want) || res.Err().Retryable {
		t.Errorf("got %+v", res)
	}
}

func TestSelectedOfAnAssetAndAnOp(t *testing.T) {
	var assetCtx, opCtx *Context
	scored := NewAsset0("scored", func(ctx *Context) (int, error) { assetCtx = ctx; return 1, nil }, KeyPrefix("wh"))
	two := NewOp0("two", func(ctx *Context) (Results, error) { opCtx = ctx; return Results{"a": 1, "b": 2}, nil }, Outs("a", "b"))
	Register(Definitions{Assets: []*Asset{scored}, Ops: []*Op{two}})
	defer func() { registered, built, registers = nil, nil, 0 }()
	if res := execute(types.StepContext{StepKey: "wh/scored", Target: types.MakeStepTargetAsset([]string{"wh", "scored"})}, nil); res.IsErr() {
		t.Fatal(res.Err())
	}
	if !reflect.DeepEqual(assetCtx.SelectedAssetKeys(), [][]string{{"wh", "scored"}}) || !assetCtx.IsSelected("wh/scored") ||
		assetCtx.IsSelected("scored") || !reflect.DeepEqual(assetCtx.SelectedOutputs(), []string{"result"}) {
		t.Errorf("an asset's: %v %v", assetCtx.SelectedAssetKeys(), assetCtx.SelectedOutputs())
	}
	if res := execute(types.StepContext{StepKey: "two", Target: types.MakeStepTargetOp("two")}, nil); res.IsErr() {
		t.Fatal(res.Err())
	}
	if opCtx.SelectedAssetKeys() != nil || opCtx.IsSelected("two") || !reflect.DeepEqual(opCtx.SelectedOutputs(), []string{"a", "b"}) {
		t.Errorf("an op's: %v %v", opCtx.SelectedAssetKeys(), opCtx.SelectedOutputs())
	}
}
