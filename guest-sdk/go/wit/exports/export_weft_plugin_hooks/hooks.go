// Package export_weft_plugin_hooks is the component's `weft:plugin/hooks` export.
//
// Hand-written (generate.sh keeps it): the generated wit_exports package calls Run, which
// hands the call to the Handler the Weft SDK (package weft) installs when it is imported.
package export_weft_plugin_hooks

import (
	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// Handler serves the export; package weft sets it.
var Handler func(name string, ctx types.HookContext) witTypes.Result[witTypes.Unit, types.Failure]

// Run serves the export.
func Run(name string, ctx types.HookContext) witTypes.Result[witTypes.Unit, types.Failure] {
	if Handler == nil {
		return witTypes.Err[witTypes.Unit, types.Failure](types.Failure{Message: "the Weft Go SDK is not linked into this component", Retryable: false})
	}
	return Handler(name, ctx)
}
