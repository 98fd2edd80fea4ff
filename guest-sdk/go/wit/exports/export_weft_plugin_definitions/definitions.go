// Package export_weft_plugin_definitions is the component's `weft:plugin/definitions` export.
//
// Hand-written (generate.sh keeps it): the generated wit_exports package calls Get, which
// hands the call to the Handler the Weft SDK (package weft) installs when it is imported.
package export_weft_plugin_definitions

import (
	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// Handler serves the export; package weft sets it.
var Handler func() witTypes.Result[types.Definitions, types.Failure]

// Get serves the export.
func Get() witTypes.Result[types.Definitions, types.Failure] {
	if Handler == nil {
		return witTypes.Err[types.Definitions, types.Failure](types.Failure{Message: "the Weft Go SDK is not linked into this component", Retryable: false})
	}
	return Handler()
}
