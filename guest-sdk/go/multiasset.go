// Multi-assets (Dagster's @multi_asset): one function, run as one step keyed by the
// multi-asset's name, that materializes several assets, one per output; MultiAsset.Asset,
// one of them for an asset check; and ops.execute's part for them (which of its assets a
// run selected, its outputs encoded).

package weft

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// AssetOut is one asset of a multi-asset (Dagster's AssetOut): the output of the
// multi-asset's function that materializes it, and the asset's own properties.
type AssetOut struct {
	// Output is the output's name (Dagster's outs key): the function returns the asset's
	// value in [Results] under it. Letters, digits and _.
	Output string
	// Key is the asset's key, `a/b`; the output's name when empty. Downstream assets name
	// it as any asset's (an input named as its last part, [InputKey], [Deps]).
	Key string
	// Group is the asset's group; when empty the multi-asset's [Group], else `default`.
	Group string
	// Description describes the asset.
	Description string
}

// MultiAsset is a multi-asset (Dagster's @multi_asset), made by [NewMultiAsset0] ...
// [NewMultiAsset4] or [NewMultiAssetFunc] and listed in [Definitions].MultiAssets: one
// function that computes several assets, its [AssetOut]s, at once. A run that
// materializes any of them runs it as one step, keyed by the multi-asset's name, and
// stores each output it returns as its asset (an out whose value is a [MaterializeResult]
// stores `null` with the result's metadata). Its inputs name upstream assets as an
// asset's do; they feed the function whichever of its assets the run selected.
//
// Without [CanSubset] a run materializes all of its assets or none; with it, a run may
// select some only, and the function returns only those ([Context.IsSelected],
// [Context.SelectedOutputs]). An error returned by the function (or a panic) fails the
// step as an op's does.
type MultiAsset struct {
	op   *Op
	outs []AssetOut
	// keys are the outs' asset keys, in order.
	keys [][]string
	errs []string
}

var resultsType = reflect.TypeFor[Results]()

// NewMultiAsset0 makes a multi-asset with no upstream assets.
//
//	var split = weft.NewMultiAsset0("split", []weft.AssetOut{
//		{Output: "even", Group: "numbers"},
//		{Output: "odd", Key: "numbers/odd", Description: "The odd ones"},
//	}, func(ctx *weft.Context) (weft.Results, error) {
//		return weft.Results{"even": []int{2, 4}, "odd": []int{1, 3}}, nil
//	})
func NewMultiAsset0(name string, outs []AssetOut, fn func(ctx *Context) (Results, error), opts ...Option) *MultiAsset {
	p, o, r := spec0(fn)
	return newMultiAsset(name, outs, p, o, r, nil, opts)
}

// NewMultiAsset1 makes a multi-asset computed from the upstream asset named a.
//
//	var splitScores = weft.NewMultiAsset1("split_scores", []weft.AssetOut{
//		{Output: "low", Group: "split"},
//		{Output: "high", Group: "split"},
//	}, "scored", func(ctx *weft.Context, scored float64) (weft.Results, error) {
//		out := weft.Results{}
//		if ctx.IsSelected("low") {
//			out["low"] = scored - 1
//		}
//		if ctx.IsSelected("high") {
//			out["high"] = scored + 1
//		}
//		return out, nil
//	}, weft.CanSubset())
func NewMultiAsset1[A any](name string, outs []AssetOut, a string, fn func(ctx *Context, a A) (Results, error), opts ...Option) *MultiAsset {
	p, o, r := spec1(a, fn)
	return newMultiAsset(name, outs, p, o, r, nil, opts)
}

// NewMultiAsset2 makes a multi-asset computed from the upstream assets named a and b.
func NewMultiAsset2[A, B any](name string, outs []AssetOut, a, b string, fn func(ctx *Context, a A, b B) (Results, error), opts ...Option) *MultiAsset {
	p, o, r := spec2(a, b, fn)
	return newMultiAsset(name, outs, p, o, r, nil, opts)
}

// NewMultiAsset3 makes a multi-asset computed from three upstream assets.
func NewMultiAsset3[A, B, C any](name string, outs []AssetOut, a, b, c string, fn func(ctx *Context, a A, b B, c C) (Results, error), opts ...Option) *MultiAsset {
	p, o, r := spec3(a, b, c, fn)
	return newMultiAsset(name, outs, p, o, r, nil, opts)
}

// NewMultiAsset4 makes a multi-asset computed from four upstream assets.
func NewMultiAsset4[A, B, C, D any](name string, outs []AssetOut, a, b, c, d string, fn func(ctx *Context, a A, b B, c C, d D) (Results, error), opts ...Option) *MultiAsset {
	p, o, r := spec4(a, b, c, d, fn)
	return newMultiAsset(name, outs, p, o, r, nil, opts)
}

// NewMultiAssetFunc makes a multi-asset from fn, a
// `func(*weft.Context, T1, ..., Tn) (weft.Results, error)` whose parameters after the
// context are the upstream assets named in inputs.
func NewMultiAssetFunc(name string, outs []AssetOut, inputs []string, fn any, opts ...Option) *MultiAsset {
	what := "multi-asset `" + name + "`"
	p, o, r, errs := specFunc(what, inputs, fn)
	if errs == nil && o != resultsType {
		errs = []string{fmt.Sprintf("%s: want a function returning (weft.Results, error), got %s", what, reflect.TypeOf(fn))}
	}
	if errs != nil {
		r = func(*Context, []json.RawMessage) (any, error) { return nil, Permanentf("%s", errs[0]) }
	}
	return newMultiAsset(name, outs, p, o, r, errs, opts)
}

func newMultiAsset(name string, outs []AssetOut, params []param, out reflect.Type, run runFunc, errs []string, opts []Option) *MultiAsset {
	what := fmt.Sprintf("multi-asset `%s`", name)
	op := newOp("multi-asset", name, params, out, run, opts, multiAssetOptions)
	m := &MultiAsset{op: op, outs: append([]AssetOut(nil), outs...), errs: append(errs, op.errs...)}
	if len(outs) == 0 {
		m.errs = append(m.errs, what+": it has no asset outs ([]weft.AssetOut)")
	}
	seen := map[string]bool{}
	for _, o := range m.outs {
		if !isIdentifier(o.Output) {
			m.errs = append(m.errs, fmt.Sprintf("%s: output name %q must be letters, digits and _", what, o.Output))
		}
		if seen[o.Output] {
			m.errs = append(m.errs, fmt.Sprintf("%s: two outs have the output `%s`", what, o.Output))
		}
		seen[o.Output] = true
		key := o.Output
		if o.Key != "" {
			key = o.Key
		}
		parts := splitKey(key)
		for _, part := range parts {
			if part == "" {
				m.errs = append(m.errs, fmt.Sprintf("%s: output `%s`: asset key %q has an empty part", what, o.Output, key))
				break
			}
		}
		m.keys = append(m.keys, parts)
	}
	return m
}

// CanSubset lets a run materialize some of a multi-asset's assets only (Dagster's
// can_subset=True): its function is then told which ([Context.IsSelected]) and returns
// only those. Without it a run selects all of them or none.
func CanSubset() Option {
	return Option{"CanSubset", func(s *settings) { s.canSubset = true }}
}

// Name is the multi-asset's name: its step's key.
func (m *MultiAsset) Name() string { return m.op.name }

// Keys are the keys of its assets, in the order of its outs.
func (m *MultiAsset) Keys() [][]string {
	keys := make([][]string, len(m.keys))
	for i, k := range m.keys {
		keys[i] = append([]string(nil), k...)
	}
	return keys
}

// Asset is the asset of its out named output (an [AssetOut].Output, not its key), for an
// asset check of it (Dagster's @asset_check(asset=...) on a multi-asset's asset):
//
//	var lowIsSmall = weft.NewAssetCheck1("low_is_small", splitScores.Asset("low"),
//		func(ctx *weft.Context, low float64) (weft.CheckResult, error) {
//			return weft.CheckResult{Passed: low < 10}, nil
//		})
//
// The check's input is named as the asset's key's last part. An output the multi-asset
// does not have is a definition error of the check.
func (m *MultiAsset) Asset(output string) AssetRef { return multiAssetOut{m, output} }

// multiAssetOut is the asset of a multi-asset's out, by the out's output name.
type multiAssetOut struct {
	multi  *MultiAsset
	output string
}

func (o multiAssetOut) Key() []string { return o.checked().key() }

func (o multiAssetOut) KeyString() string { return strings.Join(o.Key(), "/") }

func (o multiAssetOut) checked() checked {
	if o.multi == nil {
		return checked{err: "its multi-asset is nil"}
	}
	i := o.multi.outputIndex(o.output)
	if i < 0 {
		return checked{err: fmt.Sprintf("%s has no out `%s` (its outs: %s)", o.multi.what(), o.output, strings.Join(o.multi.outputNames(), ", "))}
	}
	return checked{multi: o.multi, out: i}
}

func (m *MultiAsset) what() string { return fmt.Sprintf("multi-asset `%s`", m.op.name) }

// outputNames are the output names of its outs, in order.
func (m *MultiAsset) outputNames() []string {
	names := make([]string, len(m.outs))
	for i, o := range m.outs {
		names[i] = o.Output
	}
	return names
}

// group is the group of its i-th asset.
func (m *MultiAsset) group(i int) string {
	switch {
	case m.outs[i].Group != "":
		return m.outs[i].Group
	case m.op.s.group != "":
		return m.op.s.group
	}
	return "default"
}

// index is the position of the asset key among its outs, or -1.
func (m *MultiAsset) index(key []string) int {
	for i, k := range m.keys {
		if equalKeys(k, key) {
			return i
		}
	}
	return -1
}

func (m *MultiAsset) keyStrings() []string {
	out := make([]string, len(m.keys))
	for i, k := range m.keys {
		out[i] = strings.Join(k, "/")
	}
	return out
}

// addMultiAsset registers m (once) and its assets' keys, reporting another multi-asset of
// the same name.
func (r *registry) addMultiAsset(m *MultiAsset, unique func(kind, name string)) {
	if known, ok := r.multiByName[m.op.name]; ok {
		if known != m {
			r.errs = append(r.errs, fmt.Sprintf("two different multi-assets are named `%s`", m.op.name))
		}
		return
	}
	r.multiByName[m.op.name] = m
	r.multis = append(r.multis, m)
	r.errs = append(r.errs, m.errs...)
	for _, key := range m.keyStrings() {
		unique("assets", key)
	}
}

// checkMultiAssets reports a multi-asset named as an asset's key (both are step keys) and
// one whose input is one of its own assets, once every asset's key is known.
func (r *registry) checkMultiAssets(keys [][]string) {
	for _, m := range r.multis {
		for _, k := range keys {
			if strings.Join(k, "/") == m.op.name {
				r.errs = append(r.errs, fmt.Sprintf("%s: an asset has the key `%s`; name it otherwise", m.what(), m.op.name))
				break
			}
		}
		for _, dep := range r.multiDeps[m] {
			if m.index(dep.Key) >= 0 {
				r.errs = append(r.errs, fmt.Sprintf("%s: it depends on its own asset `%s`", m.what(), strings.Join(dep.Key, "/")))
			}
		}
	}
}

// multiAssetDefs are m's assets as the contract lists them: each with all of m's
// dependencies (its inputs feed whichever assets a run selects), tags, retry policy and
// config schema, and naming m and its output.
func (r *registry) multiAssetDefs(m *MultiAsset) []types.AssetDef {
	defs := make([]types.AssetDef, len(m.outs))
	for i, o := range m.outs {
		defs[i] = types.AssetDef{
			Key:          append([]string(nil), m.keys[i]...),
			Group:        m.group(i),
			Description:  optional(o.Description),
			Kinds:        append([]string{}, m.op.s.kinds...),
			Deps:         append([]types.AssetDep{}, r.multiDeps[m]...),
			Tags:         tags(m.op.s.tags),
			RetryPolicy:  retry(m.op.s.retry),
			ConfigSchema: optional(m.op.s.configSchema),
			Multi:        witTypes.Some(types.MultiAssetOut{Name: m.op.name, Output: o.Output, CanSubset: m.op.s.canSubset}),
			Graph:        witTypes.None[types.AssetGraph](),
		}
	}
	return defs
}

// --- ops.execute, target multi-asset ---------------------------------------------------

// executeMultiAsset runs the multi-asset target names for the assets it selects.
func executeMultiAsset(r *registry, target types.MultiAssetTarget, c *Context, inputs []types.StepInput) ([]types.StepOutput, *types.Failure) {
	m := r.multiByName[target.Name]
	if m == nil {
		names := make([]string, len(r.multis))
		for i, known := range r.multis {
			names[i] = known.op.name
		}
		f := permanent(fmt.Sprintf("this location has no multi-asset `%s` (its multi-assets: %s)", target.Name, strings.Join(names, ", ")))
		return nil, &f
	}
	picked, failure := m.selection(target.Selected)
	if failure != nil {
		return nil, failure
	}
	for i, on := range picked {
		if on {
			c.selectedKeys = append(c.selectedKeys, m.keys[i])
			c.selectedOutputs = append(c.selectedOutputs, m.outs[i].Output)
		}
	}
	what := m.what()
	value, failure := callStep(m.op, what, c, inputs)
	if failure != nil {
		return nil, failure
	}
	return m.encodeOutputs(picked, what, c, value)
}

// selection is which of m's outs the selected keys pick: each must be one of its assets,
// at least one, and all of them unless m can subset.
func (m *MultiAsset) selection(selected [][]string) ([]bool, *types.Failure) {
	picked := make([]bool, len(m.outs))
	for _, key := range selected {
		i := m.index(key)
		if i < 0 {
			f := permanent(fmt.Sprintf("%s has no asset `%s` (its assets: %s)", m.what(), strings.Join(key, "/"), strings.Join(m.keyStrings(), ", ")))
			return nil, &f
		}
		picked[i] = true
	}
	var left []string
	for i, on := range picked {
		if !on {
			left = append(left, strings.Join(m.keys[i], "/"))
		}
	}
	switch {
	case len(left) == len(picked):
		f := permanent(fmt.Sprintf("the run selects none of the assets of %s", m.what()))
		return nil, &f
	case len(left) > 0 && !m.op.s.canSubset:
		f := permanent(fmt.Sprintf("%s cannot be subset (it is not weft.CanSubset) but the run leaves out %s", m.what(), strings.Join(left, ", ")))
		return nil, &f
	}
	return picked, nil
}

// encodeOutputs encodes the [Results] the function returned: one output per selected
// asset it returned, in the order of its outs. An output it does not have, or one of an
// asset the run did not select, fails the step; a selected one left out is the host's to
// judge (required unless the multi-asset can subset).
func (m *MultiAsset) encodeOutputs(picked []bool, what string, c *Context, value any) ([]types.StepOutput, *types.Failure) {
	results, _ := value.(Results)
	var unknown, unselected []string
	for name := range results {
		i := m.outputIndex(name)
		switch {
		case i < 0:
			unknown = append(unknown, name)
		case !picked[i]:
			unselected = append(unselected, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		f := permanent(fmt.Sprintf("%s returned output(s) %s, which it does not declare (its outputs: %s)", what, strings.Join(unknown, ", "), strings.Join(m.outputNames(), ", ")))
		return nil, &f
	}
	if len(unselected) > 0 {
		sort.Strings(unselected)
		f := permanent(fmt.Sprintf("%s returned output(s) %s, whose assets the run did not select (it selected the outputs %s): return only those ctx.IsSelected reports", what, strings.Join(unselected, ", "), strings.Join(c.selectedOutputs, ", ")))
		return nil, &f
	}
	outputs := []types.StepOutput{}
	for i, o := range m.outs {
		v, ok := results[o.Output]
		if !ok || !picked[i] {
			continue
		}
		out, failure := encodeOutput(what, o.Output, v, c)
		if failure != nil {
			return nil, failure
		}
		outputs = append(outputs, out)
	}
	return outputs, nil
}

func (m *MultiAsset) outputIndex(name string) int {
	for i, o := range m.outs {
		if o.Output == name {
			return i
		}
	}
	return -1
}
