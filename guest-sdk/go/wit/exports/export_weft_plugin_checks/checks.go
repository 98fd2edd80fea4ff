// Package export_weft_plugin_checks is the component's `weft:plugin/checks` export.
//
// Hand-written (generate.sh keeps it): the generated wit_exports package calls Evaluate,
// which hands the call to the Handler the Weft SDK (package weft) installs when it is
// imported.
package export_weft_plugin_checks

import (
	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// Handler serves the export; package weft sets it.
var Handler func(ctx types.StepContext, inputs []types.StepInput) witTypes.Result[types.CheckResult, types.Failure]

// Evaluate serves the export.
func Evaluate(ctx types.StepContext, inputs []types.StepInput) witTypes.Result[types.CheckResult, types.Failure] {
	if Handler == nil {
		return witTypes.Err[types.CheckResult, types.Failure](types.Failure{Message: "the Weft Go SDK is not linked into this component", Retryable: false})
	}
	return Handler(ctx, inputs)
}
