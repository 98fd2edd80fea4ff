// Assets (Dagster's @asset): NewAsset0 ... NewAsset4 and NewAssetFunc, an asset's key
// (KeyPrefix) and its upstream assets by input name. Graph assets: graphasset.go.

package weft

import (
	"encoding/json"
	"strings"
)

// Asset is an asset (Dagster's @asset): a persistent object its function computes from
// the values of its upstream assets. Make one with [NewAsset0] ... [NewAsset4] or
// [NewAssetFunc], or have a graph of ops compute it with [NewGraphAsset0] ...
// [NewGraphAsset4] or [NewGraphAssetFunc]: the asset's name is the last part of its key
// ([KeyPrefix] adds the others), and each input name names an upstream asset (see
// [InputKey]). An asset that stores no value of its own returns a [MaterializeResult].
type Asset struct {
	op *Op
	// graph is the graph of ops that computes a graph asset ([NewGraphAsset1]); nil for
	// an asset computed by its function.
	graph *assetGraph
}

// Key is the asset's key, e.g. ["warehouse", "orders"].
func (a *Asset) Key() []string {
	return append(append([]string(nil), a.op.s.keyPrefix...), a.op.name)
}

// KeyString is the asset's key joined with `/`.
func (a *Asset) KeyString() string { return strings.Join(a.Key(), "/") }

// checked makes an asset an [AssetRef]: a check of it evaluates it.
func (a *Asset) checked() checked {
	if a == nil {
		return checked{err: "its asset is nil"}
	}
	return checked{asset: a}
}

// what names the asset in messages: "asset `a/b`", or "graph asset `a/b`".
func (a *Asset) what() string {
	if a.graph != nil {
		return "graph asset `" + a.KeyString() + "`"
	}
	return "asset `" + a.KeyString() + "`"
}

func (a *Asset) group() string {
	if a.op.s.group == "" {
		return "default"
	}
	return a.op.s.group
}

func newAsset(o *Op) *Asset {
	return &Asset{op: o}
}

// NewAsset0 makes an asset with no upstream assets.
//
//	var generated = weft.NewAsset0("generated_numbers",
//		func(ctx *weft.Context) ([]int, error) { return []int{1, 2, 3}, nil },
//		weft.Group("numbers"), weft.Kinds("go"))
func NewAsset0[Out any](name string, fn func(ctx *Context) (Out, error), opts ...Option) *Asset {
	p, o, r := spec0(fn)
	return newAsset(newOp("asset", name, p, o, r, opts, assetOptions))
}

// NewAsset1 makes an asset computed from the upstream asset named a.
func NewAsset1[A, Out any](name, a string, fn func(ctx *Context, a A) (Out, error), opts ...Option) *Asset {
	p, o, r := spec1(a, fn)
	return newAsset(newOp("asset", name, p, o, r, opts, assetOptions))
}

// NewAsset2 makes an asset computed from the upstream assets named a and b.
func NewAsset2[A, B, Out any](name, a, b string, fn func(ctx *Context, a A, b B) (Out, error), opts ...Option) *Asset {
	p, o, r := spec2(a, b, fn)
	return newAsset(newOp("asset", name, p, o, r, opts, assetOptions))
}

// NewAsset3 makes an asset computed from three upstream assets.
func NewAsset3[A, B, C, Out any](name, a, b, c string, fn func(ctx *Context, a A, b B, c C) (Out, error), opts ...Option) *Asset {
	p, o, r := spec3(a, b, c, fn)
	return newAsset(newOp("asset", name, p, o, r, opts, assetOptions))
}

// NewAsset4 makes an asset computed from four upstream assets.
func NewAsset4[A, B, C, D, Out any](name, a, b, c, d string, fn func(ctx *Context, a A, b B, c C, d D) (Out, error), opts ...Option) *Asset {
	p, o, r := spec4(a, b, c, d, fn)
	return newAsset(newOp("asset", name, p, o, r, opts, assetOptions))
}

// NewAssetFunc makes an asset from fn, a `func(*weft.Context, T1, ..., Tn) (Out, error)`
// whose parameters after the context are the upstream assets named in inputs.
func NewAssetFunc(name string, inputs []string, fn any, opts ...Option) *Asset {
	what := "asset `" + name + "`"
	p, o, r, errs := specFunc(what, inputs, fn)
	if errs != nil {
		r = func(*Context, []json.RawMessage) (any, error) { return nil, Permanentf("%s", errs[0]) }
	}
	op := newOp("asset", name, p, o, r, opts, assetOptions)
	op.errs = append(errs, op.errs...)
	return newAsset(op)
}
