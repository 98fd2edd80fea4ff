// MaterializeResult (Dagster's MaterializeResult): what an asset, or an out of a
// multi-asset, returns when it stores no value of its own (it wrote a table, a file): its
// output's value is JSON null and its metadata the result's. An op may not return one.

package weft

import (
	"fmt"
	"reflect"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// MaterializeResult is what an asset returns when it stores no value of its own
// (Dagster's MaterializeResult): the materialization is recorded with its metadata, and
// the asset's value is JSON `null` (a downstream asset or a check taking the value gets
// null; depend on it with [Deps], or check it with [NewAssetCheck0], instead).
//
//	var audit = weft.NewAsset1("audit", "spread", func(ctx *weft.Context, spread float64) (weft.MaterializeResult, error) {
//		writeReport(spread)
//		return weft.MaterializeResult{Metadata: map[string]any{"spread": spread, "report": weft.Path("/reports/audit.csv")}}, nil
//	})
//
// A multi-asset may return one as an out's value in its [Results]. An op may not (as in
// Dagster): one whose function's type returns it is a definition error, and one that
// returns it at run time (through `any` or [Results]) fails its step permanently.
type MaterializeResult struct {
	// Metadata is stored with the materialization, typed as an output's is (see
	// [Context.AddOutputMetadata]): a string, bool, int or float as it is, or a
	// [MetadataValue]. It is sent sorted by key, after what the step added with
	// Context.AddOutputMetadata (and [Context.AddMetadataTo] for the output).
	Metadata map[string]any
}

var materializeResultType = reflect.TypeFor[MaterializeResult]()

// isMaterializeResult reports whether t is MaterializeResult or a pointer to it.
func isMaterializeResult(t reflect.Type) bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t == materializeResultType
}

// checkMaterialize reports an op whose function returns a [MaterializeResult] (its
// output, or the values of its dynamic output): only an asset materializes.
func (o *Op) checkMaterialize(kind, what string) []string {
	if kind != "op" || !(isMaterializeResult(o.out) || isMaterializeResult(dynamicElem(o.out))) {
		return nil
	}
	return []string{fmt.Sprintf("%s: it returns %s, but only an asset (or a multi-asset's out) returns a weft.MaterializeResult: return a value, or make it an asset", what, o.out)}
}

// materialized is v as a [MaterializeResult], if it is one (a nil *MaterializeResult is
// one without metadata).
func materialized(v any) (MaterializeResult, bool) {
	switch x := v.(type) {
	case MaterializeResult:
		return x, true
	case *MaterializeResult:
		if x == nil {
			return MaterializeResult{}, true
		}
		return *x, true
	}
	return MaterializeResult{}, false
}

// materializeOutput is the output name of the step what, which returned m for it: value
// `null`, the metadata added for it, then m's sorted by key. A step that materializes no
// asset (an op's, a graph asset's op's) fails permanently.
func materializeOutput(what, name string, m MaterializeResult, c *Context) (types.StepOutput, *types.Failure) {
	if len(c.selectedKeys) == 0 {
		return types.StepOutput{}, &types.Failure{Message: fmt.Sprintf("%s returned a weft.MaterializeResult for its output `%s`, but only an asset (or a multi-asset's out) materializes: return a value, or make it an asset", what, name), Retryable: false}
	}
	metadata := metadataFor(c.metadata, name)
	for _, k := range sortedKeys(m.Metadata) {
		metadata = append(metadata, witTypes.Tuple2[string, types.MetadataValue]{F0: k, F1: metadataValue(m.Metadata[k])})
	}
	return types.StepOutput{Name: name, Value: types.Value{Codec: "json", Data: []byte("null")}, Metadata: metadata}, nil
}
