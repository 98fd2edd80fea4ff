// Asset checks (Dagster's @asset_check): functions that evaluate an asset after each
// materialization of it in a run, each a step of its own; and checks.evaluate, the export
// that calls them.

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
	name  string
	asset *Asset
	// input is the name of the input that receives the asset's value (the asset's name);
	// "" when the check does not take it.
	input string
	typ   reflect.Type
	s     settings
	run   checkFunc
	errs  []string
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

// NewAssetCheck0 makes a check of asset that does not read the asset's value (it may
// look elsewhere: a table, a file).
//
//	var fresh = weft.NewAssetCheck0("orders_are_fresh", orders,
//		func(ctx *weft.Context) (weft.CheckResult, error) {
//			return weft.CheckResult{Passed: true}, nil
//		}, weft.Blocking())
func NewAssetCheck0(name string, asset *Asset, fn func(ctx *Context) (CheckResult, error), opts ...Option) *AssetCheck {
	var run checkFunc
	if fn != nil {
		run = func(ctx *Context, _ json.RawMessage) (CheckResult, error) { return fn(ctx) }
	}
	return newAssetCheck(name, asset, false, nil, run, opts)
}

// NewAssetCheck1 makes a check of asset that takes the asset's value, decoded into T as
// an op's input is (its input is named as the asset is).
//
//	var positive = weft.NewAssetCheck1("scored_is_positive", scored,
//		func(ctx *weft.Context, scored int) (weft.CheckResult, error) {
//			return weft.CheckResult{Passed: scored > 0, Metadata: map[string]any{"score": float64(scored)}}, nil
//		}, weft.Blocking(), weft.Description("The score is above zero"))
func NewAssetCheck1[T any](name string, asset *Asset, fn func(ctx *Context, value T) (CheckResult, error), opts ...Option) *AssetCheck {
	input := ""
	if asset != nil {
		input = asset.op.name
	}
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
	return newAssetCheck(name, asset, true, typeOf[T](), run, opts)
}

func newAssetCheck(name string, asset *Asset, takesValue bool, typ reflect.Type, run checkFunc, opts []Option) *AssetCheck {
	what := fmt.Sprintf("asset check `%s`", name)
	s, errs := apply(what, checkOptions, opts)
	c := &AssetCheck{name: name, asset: asset, typ: typ, s: s, run: run, errs: errs}
	if !isIdentifier(name) {
		c.errs = append(c.errs, what+": the name must be letters, digits and _ ([A-Za-z0-9_]+)")
	}
	if asset == nil {
		c.errs = append(c.errs, what+": its asset is nil")
	} else if takesValue {
		c.input = asset.op.name
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

// Asset is the asset the check evaluates.
func (c *AssetCheck) Asset() *Asset { return c.asset }

// what names the check in messages: "asset check `name` of asset `a/b`".
func (c *AssetCheck) what() string {
	if c.asset == nil {
		return fmt.Sprintf("asset check `%s`", c.name)
	}
	return fmt.Sprintf("asset check `%s` of asset `%s`", c.name, c.asset.KeyString())
}

// addCheck registers c (once), reporting a check of an asset the location does not
// define, another check of the same asset with the same name, and a value type the
// asset's value does not decode into.
func (r *registry) addCheck(c *AssetCheck) {
	for _, known := range r.checks {
		if known == c {
			return
		}
	}
	r.checks = append(r.checks, c)
	r.errs = append(r.errs, c.errs...)
	if c.asset == nil {
		return
	}
	defined := false
	for _, a := range r.defs.Assets {
		defined = defined || a == c.asset
	}
	if !defined {
		r.errs = append(r.errs, fmt.Sprintf("%s: its asset is not in Definitions.Assets", c.what()))
	}
	for _, known := range r.checks {
		if known != c && known.name == c.name && known.asset != nil && equalKeys(known.asset.Key(), c.asset.Key()) {
			r.errs = append(r.errs, fmt.Sprintf("asset `%s` has two different asset checks named `%s`", c.asset.KeyString(), c.name))
			break
		}
	}
	if c.typ != nil && c.asset.op.out != nil && !compatible(c.asset.op.out, c.typ) {
		r.errs = append(r.errs, fmt.Sprintf("%s: it takes the asset's value as %s but the asset returns %s", c.what(), c.typ, c.asset.op.out))
	}
}

// checkByTarget is the check a step's target names, or nil.
func (r *registry) checkByTarget(target types.CheckTarget) *AssetCheck {
	for _, c := range r.checks {
		if c.name == target.Name && c.asset != nil && equalKeys(c.asset.Key(), target.Asset) {
			return c
		}
	}
	return nil
}

// assetCheckDef is c as the contract says it.
func assetCheckDef(c *AssetCheck) types.AssetCheckDef {
	return types.AssetCheckDef{
		Name:        c.name,
		Asset:       c.asset.Key(),
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
	cx.AssetKey = c.asset.Key()
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
