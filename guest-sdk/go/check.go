// Asset checks (Dagster's @asset_check): functions that evaluate an asset (a plain one or
// one of a multi-asset's, see AssetRef) after each materialization of it in a run, each a
// step of its own; and checks.evaluate, the export that calls them.

package weft

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime/debug"
	"strings"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// AssetCheck is an asset check (Dagster's @asset_check), made by [NewAssetCheck0] or
// [NewAssetCheck1] and listed in [Definitions].AssetChecks: after each materialization of
// its asset in a run, the host runs it as a step of its own, keyed
// `<asset key parts joined by __>_<name>` (e.g. `scored_scored_is_positive`).
//
// A check that ran returns a [CheckResult]; one that did not pass is not a failure unless
// it is [Blocking] and of severity [SeverityError]: then its step fails and the assets
// downstream of its asset are not materialized. An error returned by the function (or a
// panic) fails the step as an op's does: retryably unless marked with [Permanent].
type AssetCheck struct {
	name string
	// of is the asset it evaluates.
	of checked
	// input is the name of the input that receives the asset's value (the last part of
	// the asset's key); "" when the check does not take it.
	input string
	typ   reflect.Type
	s     settings
	run   checkFunc
	errs  []string
}

// AssetRef is an asset a check evaluates: an [*Asset], or an asset of a multi-asset
// ([MultiAsset.Asset]). The package alone implements it.
type AssetRef interface {
	// Key is the asset's key, e.g. ["numbers", "odd"]; nil when it names no asset (an out
	// the multi-asset does not have).
	Key() []string
	// KeyString is the asset's key joined with `/`.
	KeyString() string
	// checked is the asset a check of it evaluates.
	checked() checked
}

// checked is the asset a check evaluates: asset, or the out-th asset of multi; err says
// why there is none (then both are nil).
type checked struct {
	asset *Asset
	multi *MultiAsset
	out   int
	err   string
}

// checkedOf is the asset ref names; a nil ref names none.
func checkedOf(ref AssetRef) checked {
	if ref == nil {
		return checked{err: "its asset is nil"}
	}
	return ref.checked()
}

// key is the asset's key; nil when there is none.
func (c checked) key() []string {
	switch {
	case c.asset != nil:
		return c.asset.Key()
	case c.multi != nil:
		return append([]string(nil), c.multi.keys[c.out]...)
	}
	return nil
}

// input is the name of the input that receives the asset's value: its key's last part
// (an asset's name); "" when there is no asset.
func (c checked) input() string {
	if key := c.key(); len(key) > 0 {
		return key[len(key)-1]
	}
	return ""
}

// checkFunc decodes the asset's value (JSON; nil when the check takes none) and calls the
// author's function.
type checkFunc func(ctx *Context, value json.RawMessage) (CheckResult, error)

// CheckSeverity is how serious a failed check is (Dagster's AssetCheckSeverity).
type CheckSeverity uint8

const (
	// SeverityError is a failure that, in a [Blocking] check, fails the check's step and
	// keeps the assets downstream from being materialized. It is the zero value.
	SeverityError CheckSeverity = iota
	// SeverityWarn is a failure that is only reported.
	SeverityWarn
)

// CheckResult is what a check evaluated (Dagster's AssetCheckResult).
type CheckResult struct {
	Passed bool
	// Severity of a failure (the check did not pass): [SeverityError] unless set.
	Severity CheckSeverity
	// Description says what was found (shown beside the result).
	Description string
	// Metadata is shown beside the result, typed as an output's is (see
	// [Context.AddOutputMetadata]): a string, bool, int or float as it is, or a
	// [MetadataValue]. It is sent sorted by key, after what the check added with
	// Context.AddOutputMetadata.
	Metadata map[string]any
}

// NewAssetCheck0 makes a check of asset (an [*Asset], or a multi-asset's:
// [MultiAsset.Asset]) that does not read the asset's value (it may look elsewhere: a
// table, a file).
//
//	var fresh = weft.NewAssetCheck0("orders_are_fresh", orders,
//		func(ctx *weft.Context) (weft.CheckResult, error) {
//			return weft.CheckResult{Passed: true}, nil
//		}, weft.Blocking())
func NewAssetCheck0(name string, asset AssetRef, fn func(ctx *Context) (CheckResult, error), opts ...Option) *AssetCheck {
	var run checkFunc
	if fn != nil {
		run = func(ctx *Context, _ json.RawMessage) (CheckResult, error) { return fn(ctx) }
	}
	return newAssetCheck(name, checkedOf(asset), false, nil, run, opts)
}

// NewAssetCheck1 makes a check of asset (an [*Asset], or a multi-asset's:
// [MultiAsset.Asset]) that takes the asset's value, decoded into T as an op's input is
// (its input is named as the asset is: the last part of its key).
//
//	var positive = weft.NewAssetCheck1("scored_is_positive", scored,
//		func(ctx *weft.Context, scored int) (weft.CheckResult, error) {
//			return weft.CheckResult{Passed: scored > 0, Metadata: map[string]any{"score": float64(scored)}}, nil
//		}, weft.Blocking(), weft.Description("The score is above zero"))
//
//	var lowIsSmall = weft.NewAssetCheck1("low_is_small", splitScores.Asset("low"),
//		func(ctx *weft.Context, low float64) (weft.CheckResult, error) {
//			return weft.CheckResult{Passed: low < 10}, nil
//		})
func NewAssetCheck1[T any](name string, asset AssetRef, fn func(ctx *Context, value T) (CheckResult, error), opts ...Option) *AssetCheck {
	of := checkedOf(asset)
	input := of.input()
	var run checkFunc
	if fn != nil {
		run = func(ctx *Context, raw json.RawMessage) (CheckResult, error) {
			var v T
			if err := decodeArg(input, raw, &v); err != nil {
				return CheckResult{}, err
			}
			return fn(ctx, v)
		}
	}
	return newAssetCheck(name, of, true, typeOf[T](), run, opts)
}

func newAssetCheck(name string, of checked, takesValue bool, typ reflect.Type, run checkFunc, opts []Option) *AssetCheck {
	what := fmt.Sprintf("asset check `%s`", name)
	s, errs := apply(what, checkOptions, opts)
	c := &AssetCheck{name: name, of: of, typ: typ, s: s, run: run, errs: errs}
	if !isIdentifier(name) {
		c.errs = append(c.errs, what+": the name must be letters, digits and _ ([A-Za-z0-9_]+)")
	}
	if of.err != "" {
		c.errs = append(c.errs, what+": "+of.err)
	} else if takesValue {
		c.input = of.input()
	}
	if run == nil {
		c.errs = append(c.errs, what+": its function is nil")
	}
	return c
}

// Blocking makes an asset check blocking (Dagster's blocking=True): when it fails with
// severity [SeverityError], its step fails and the assets downstream of its asset are not
// materialized in the run.
func Blocking() Option {
	return Option{"Blocking", func(s *settings) { s.blocking = true }}
}

// Name is the check's name.
func (c *AssetCheck) Name() string { return c.name }

// Asset is the asset the check evaluates; nil when it is an asset of a multi-asset (see
// [AssetCheck.AssetKey]).
func (c *AssetCheck) Asset() *Asset { return c.of.asset }

// AssetKey is the key of the asset the check evaluates (a plain asset or a multi-asset's);
// nil when it names none.
func (c *AssetCheck) AssetKey() []string { return c.of.key() }

// what names the check in messages: "asset check `name` of asset `a/b`".
func (c *AssetCheck) what() string {
	if c.of.err != "" {
		return fmt.Sprintf("asset check `%s`", c.name)
	}
	return fmt.Sprintf("asset check `%s` of asset `%s`", c.name, strings.Join(c.of.key(), "/"))
}

// addCheck registers c (once), reporting a check of an asset the location does not
// define, another check of the same asset with the same name, and a value type the
// asset's value does not decode into (a plain asset's: a multi-asset's outs are untyped).
func (r *registry) addCheck(c *AssetCheck) {
	for _, known := range r.checks {
		if known == c {
			return
		}
	}
	r.checks = append(r.checks, c)
	r.errs = append(r.errs, c.errs...)
	if c.of.err != "" {
		return
	}
	if a := c.of.asset; a != nil {
		defined := false
		for _, known := range r.defs.Assets {
			defined = defined || known == a
		}
		if !defined {
			r.errs = append(r.errs, fmt.Sprintf("%s: its asset is not in Definitions.Assets", c.what()))
		}
	} else if m := c.of.multi; r.multiByName[m.op.name] != m {
		r.errs = append(r.errs, fmt.Sprintf("%s: its %s is not in Definitions.MultiAssets", c.what(), m.what()))
	}
	key := c.of.key()
	for _, known := range r.checks {
		if known != c && known.name == c.name && known.of.err == "" && equalKeys(known.of.key(), key) {
			r.errs = append(r.errs, fmt.Sprintf("asset `%s` has two different asset checks named `%s`", strings.Join(key, "/"), c.name))
			break
		}
	}
	if a := c.of.asset; a != nil && c.typ != nil && a.op.out != nil && !compatible(a.op.out, c.typ) {
		r.errs = append(r.errs, fmt.Sprintf("%s: it takes the asset's value as %s but the asset returns %s", c.what(), c.typ, a.op.out))
	}
}

// checkByTarget is the check a step's target names, or nil.
func (r *registry) checkByTarget(target types.CheckTarget) *AssetCheck {
	for _, c := range r.checks {
		if c.name == target.Name && c.of.err == "" && equalKeys(c.of.key(), target.Asset) {
			return c
		}
	}
	return nil
}

// assetCheckDef is c as the contract says it.
func assetCheckDef(c *AssetCheck) types.AssetCheckDef {
	return types.AssetCheckDef{
		Name:        c.name,
		Asset:       c.of.key(),
		Description: optional(c.s.description),
		Blocking:    c.s.blocking,
		Input:       optional(c.input),
	}
}

// --- checks.evaluate --------------------------------------------------------------------

// evaluateCheck evaluates the check ctx.Target names with its inputs (the asset's value,
// when the check takes it).
func evaluateCheck(ctx types.StepContext, inputs []types.StepInput) witTypes.Result[types.CheckResult, types.Failure] {
	r := theRegistry()
	if len(r.errs) > 0 {
		return witTypes.Err[types.CheckResult](permanent("the location's definitions are invalid:\n" + strings.Join(r.errs, "\n")))
	}
	if ctx.Target.Tag() != types.StepTarget_Check {
		return witTypes.Err[types.CheckResult](permanent(fmt.Sprintf("checks.evaluate was called for step `%s`, which is not an asset check", ctx.StepKey)))
	}
	target := ctx.Target.Check()
	c := r.checkByTarget(target)
	if c == nil {
		return witTypes.Err[types.CheckResult](permanent(fmt.Sprintf("this location has no asset check `%s` of asset `%s`", target.Name, strings.Join(target.Asset, "/"))))
	}
	cx := newContext(ctx)
	cx.AssetKey = c.of.key()
	result, failure := runCheck(c, cx, inputs)
	if failure != nil {
		return witTypes.Err[types.CheckResult](*failure)
	}
	return witTypes.Ok[types.CheckResult, types.Failure](result)
}

// runCheck decodes the asset's value, calls the check and converts its result; a
// returned error or a panic becomes the step's failure, as an op's does.
func runCheck(c *AssetCheck, cx *Context, inputs []types.StepInput) (result types.CheckResult, failure *types.Failure) {
	what := c.what()
	var raw json.RawMessage
	if c.input != "" {
		v, err := inputValue(inputs, c.input)
		if err != nil {
			return types.CheckResult{}, &types.Failure{Message: fmt.Sprintf("%s: %v", what, err), Retryable: false}
		}
		raw = v
	}
	defer func() {
		if p := recover(); p != nil {
			failure = &types.Failure{Message: panicMessage(p), Retryable: true}
			fmt.Fprintf(os.Stderr, "%s panicked: %v\n\n%s", what, p, debug.Stack())
		}
	}()
	out, err := c.run(cx, raw)
	if err != nil {
		return types.CheckResult{}, stepFailure(what, err)
	}
	return checkResult(out, cx), nil
}

// checkResult is what a check returned as the contract says it: the metadata added to
// its context first, then its result's, sorted by key.
func checkResult(out CheckResult, cx *Context) types.CheckResult {
	severity := types.CheckSeverity_Error
	if out.Severity == SeverityWarn {
		severity = types.CheckSeverity_Warn
	}
	metadata := metadataFor(cx.metadata, "")
	for _, k := range sortedKeys(out.Metadata) {
		metadata = append(metadata, witTypes.Tuple2[string, types.MetadataValue]{F0: k, F1: metadataValue(out.Metadata[k])})
	}
	return types.CheckResult{
		Passed:      out.Passed,
		Severity:    severity,
		Description: optional(out.Description),
		Metadata:    metadata,
	}
}
