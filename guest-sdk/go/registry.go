// The registry: the definitions the package registered, built once per instance and
// checked, with each asset's (and multi-asset's) upstream assets resolved and the ops of
// jobs and graph assets collected.

package weft

import (
	"errors"
	"fmt"
	"strings"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// registry is the registered definitions, built and checked, as the exports serve them.
type registry struct {
	defs   *Definitions
	ops    []*Op
	byName map[string]*Op
	deps   map[*Asset][]types.AssetDep
	// hooks are the hooks listed and those jobs use, in that order, each once.
	hooks      []*Hook
	hookByName map[string]*Hook
	// checks are the asset checks listed, each once.
	checks []*AssetCheck
	// multis are the multi-assets listed, each once, and their upstream assets.
	multis      []*MultiAsset
	multiByName map[string]*MultiAsset
	multiDeps   map[*MultiAsset][]types.AssetDep
	errs        []string
}

func (r *registry) err() error {
	return errors.New(strings.Join(r.errs, "\n"))
}

// theRegistry builds the registered definitions once per instance.
func theRegistry() *registry {
	if built == nil {
		if registered == nil {
			built = &registry{errs: []string{"the code location registered no definitions: call weft.Register(weft.Definitions{...}) in an init function"}}
		} else {
			built = build(registered)
			if registers > 1 {
				built.errs = append(built.errs, fmt.Sprintf("weft.Register was called %d times; call it once", registers))
			}
		}
	}
	return built
}

func build(defs *Definitions) *registry {
	r := &registry{
		defs: defs, byName: map[string]*Op{}, deps: map[*Asset][]types.AssetDep{}, hookByName: map[string]*Hook{},
		multiByName: map[string]*MultiAsset{}, multiDeps: map[*MultiAsset][]types.AssetDep{},
	}
	addOp := func(op *Op) {
		if known, ok := r.byName[op.name]; ok {
			if known != op {
				r.errs = append(r.errs, fmt.Sprintf("two different ops are named `%s`", op.name))
			}
			return
		}
		r.byName[op.name] = op
		r.ops = append(r.ops, op)
		r.errs = append(r.errs, op.errs...)
	}
	for _, op := range defs.Ops {
		if op == nil {
			r.errs = append(r.errs, "Definitions.Ops holds a nil *weft.Op")
			continue
		}
		addOp(op)
	}
	for _, h := range defs.Hooks {
		if h == nil {
			r.errs = append(r.errs, "Definitions.Hooks holds a nil *weft.Hook")
			continue
		}
		r.addHook(h)
	}
	names := map[string]string{}
	unique := func(kind, name string) {
		if prev, ok := names[kind+name]; ok {
			r.errs = append(r.errs, fmt.Sprintf("two %s are named `%s` (%s)", kind, name, prev))
		}
		names[kind+name] = kind
	}
	for _, job := range defs.Jobs {
		if job == nil {
			r.errs = append(r.errs, "Definitions.Jobs holds a nil *weft.Job")
			continue
		}
		unique("jobs", job.name)
		r.errs = append(r.errs, job.errors()...)
		for _, n := range job.nodes {
			if n.op != nil {
				addOp(n.op)
			}
		}
		for _, h := range job.s.hooks {
			r.addHook(h)
		}
		for _, n := range job.nodes {
			for _, h := range n.hooks {
				r.addHook(h)
			}
		}
	}
	for _, job := range defs.AssetJobs {
		if job == nil {
			r.errs = append(r.errs, "Definitions.AssetJobs holds a nil *weft.AssetJob")
			continue
		}
		unique("jobs", job.name)
		r.errs = append(r.errs, job.errs...)
	}
	for _, s := range defs.Schedules {
		if s == nil {
			r.errs = append(r.errs, "Definitions.Schedules holds a nil *weft.Schedule")
			continue
		}
		unique("schedules", s.name)
		r.errs = append(r.errs, s.errs...)
	}
	for _, s := range defs.Sensors {
		if s == nil {
			r.errs = append(r.errs, "Definitions.Sensors holds a nil *weft.Sensor")
			continue
		}
		unique("sensors", s.name)
		r.errs = append(r.errs, s.errs...)
	}
	var keys [][]string
	for _, a := range defs.Assets {
		if a == nil {
			r.errs = append(r.errs, "Definitions.Assets holds a nil *weft.Asset")
			continue
		}
		unique("assets", a.KeyString())
		r.errs = append(r.errs, a.op.errs...)
		keys = append(keys, a.Key())
		if a.graph != nil {
			r.addGraphAsset(a, addOp)
		}
	}
	for _, m := range defs.MultiAssets {
		if m == nil {
			r.errs = append(r.errs, "Definitions.MultiAssets holds a nil *weft.MultiAsset")
			continue
		}
		r.addMultiAsset(m, unique)
	}
	for _, m := range r.multis {
		keys = append(keys, m.keys...)
	}
	for _, a := range defs.Assets {
		if a != nil {
			r.deps[a] = r.resolveDeps(a.what(), a.op, keys)
		}
	}
	for _, m := range r.multis {
		r.multiDeps[m] = r.resolveDeps(m.what(), m.op, keys)
	}
	r.checkMultiAssets(keys)
	r.checkGraphAssets()
	for _, c := range defs.AssetChecks {
		if c == nil {
			r.errs = append(r.errs, "Definitions.AssetChecks holds a nil *weft.AssetCheck")
			continue
		}
		r.addCheck(c)
	}
	return r
}

// resolveDeps finds the upstream asset of each input of op, the function of an asset or
// multi-asset (what names it): the one InputKey names, else the one with the asset's
// prefix and the input's name, else the only one with that name.
func (r *registry) resolveDeps(what string, op *Op, keys [][]string) []types.AssetDep {
	var deps []types.AssetDep
	for _, p := range op.params {
		key, ok := op.s.inputKeys[p.name]
		if !ok {
			same := append(append([]string(nil), op.s.keyPrefix...), p.name)
			var named [][]string
			for _, k := range keys {
				if equalKeys(k, same) {
					named = [][]string{k}
					break
				}
				if k[len(k)-1] == p.name {
					named = append(named, k)
				}
			}
			switch len(named) {
			case 1:
				key = named[0]
			case 0:
				r.errs = append(r.errs, fmt.Sprintf("%s: input `%s` names no asset of this location (use weft.InputKey(%q, \"other/location/key\") for another's)", what, p.name, p.name))
				continue
			default:
				r.errs = append(r.errs, fmt.Sprintf("%s: input `%s` matches several assets; use weft.InputKey to pick one", what, p.name))
				continue
			}
		}
		deps = append(deps, types.AssetDep{Key: key, Input: witTypes.Some(p.name)})
	}
	for input := range op.s.inputKeys {
		found := false
		for _, p := range op.params {
			found = found || p.name == input
		}
		if !found {
			r.errs = append(r.errs, fmt.Sprintf("%s: weft.InputKey names `%s`, which is not one of its inputs %s", what, input, paramNames(op.params)))
		}
	}
	for _, key := range op.s.deps {
		deps = append(deps, types.AssetDep{Key: key, Input: witTypes.None[string]()})
	}
	return deps
}

func equalKeys(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
