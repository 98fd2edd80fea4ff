//go:build !wasm

// Tests of MaterializeResult: an asset and a multi-asset's out returning one (value null,
// the result's metadata after the context's), and an op refused for returning one.

package weft

import (
	"strings"
	"testing"

	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// metadataKeys are the keys of an output's metadata, in order.
func metadataKeys(out types.StepOutput) string {
	keys := make([]string, len(out.Metadata))
	for i, m := range out.Metadata {
		keys[i] = m.F0
	}
	return strings.Join(keys, ",")
}

func TestExecuteAssetReturningMaterializeResult(t *testing.T) {
	spreadSource := NewAsset0("spread", func(*Context) (float64, error) { return 2.5, nil })
	audit := NewAsset1("audit", "spread", func(ctx *Context, spread float64) (MaterializeResult, error) {
		ctx.AddOutputMetadata("rows", 3)
		return MaterializeResult{Metadata: map[string]any{
			"spread": spread, "report": Path("/reports/audit.csv"), "ok": true, "by": "audit",
		}}, nil
	}, KeyPrefix("wh"))
	bare := NewAsset0("bare", func(*Context) (*MaterializeResult, error) { return nil, nil })
	Register(Definitions{Assets: []*Asset{spreadSource, audit, bare}})
	defer func() { registered, built, registers = nil, nil, 0 }()

	res := execute(types.StepContext{StepKey: "wh/audit", Target: types.MakeStepTargetAsset([]string{"wh", "audit"})},
		[]types.StepInput{{Name: "spread", Arg: single("2.5")}})
	if res.IsErr() {
		t.Fatal(res.Err())
	}
	out := res.Ok()
	if len(out) != 1 || out[0].Name != "result" || out[0].Value.Codec != "json" || string(out[0].Value.Data) != "null" {
		t.Fatalf("audit: %+v", out)
	}
	// The context's first, then the result's sorted by key.
	if keys := metadataKeys(out[0]); keys != "rows,by,ok,report,spread" {
		t.Fatalf("audit's metadata keys: %s", keys)
	}
	m := out[0].Metadata
	if m[0].F1.Int() != 3 || m[1].F1.Text() != "audit" || !m[2].F1.Bool() || m[3].F1.Path() != "/reports/audit.csv" || m[4].F1.Float() != 2.5 {
		t.Errorf("audit's metadata: %+v", m)
	}

	// A nil *MaterializeResult is one without metadata.
	out = execute(types.StepContext{StepKey: "bare", Target: types.MakeStepTargetAsset([]string{"bare"})}, nil).Ok()
	if len(out) != 1 || string(out[0].Value.Data) != "null" || len(out[0].Metadata) != 0 {
		t.Errorf("bare: %+v", out)
	}
}

func TestExecuteMultiAssetWithMaterializeResult(t *testing.T) {
	mixed := NewMultiAsset0("mixed", []AssetOut{{Output: "stored"}, {Output: "written", Key: "files/written"}},
		func(ctx *Context) (Results, error) {
			ctx.AddOutputMetadata("run", "r1")
			ctx.AddMetadataTo("written", "path", Path("/data/written.parquet"))
			return Results{
				"stored":  []int{1, 2},
				"written": MaterializeResult{Metadata: map[string]any{"rows": 2, "format": "parquet"}},
			}, nil
		})
	Register(Definitions{MultiAssets: []*MultiAsset{mixed}})
	defer func() { registered, built, registers = nil, nil, 0 }()

	res := execute(multiCtx("mixed", "stored", "files/written"), nil)
	if res.IsErr() {
		t.Fatal(res.Err())
	}
	out := res.Ok()
	if len(out) != 2 || out[0].Name != "stored" || string(out[0].Value.Data) != "[1,2]" || out[1].Name != "written" || string(out[1].Value.Data) != "null" {
		t.Fatalf("mixed: %+v", out)
	}
	if keys := metadataKeys(out[0]); keys != "run" {
		t.Errorf("stored's metadata keys: %s", keys)
	}
	if keys := metadataKeys(out[1]); keys != "run,path,format,rows" {
		t.Fatalf("written's metadata keys: %s", keys)
	}
	if m := out[1].Metadata; m[0].F1.Text() != "r1" || m[1].F1.Path() != "/data/written.parquet" || m[2].F1.Text() != "parquet" || m[3].F1.Int() != 2 {
		t.Errorf("written's metadata: %+v", m)
	}
}

func TestOpRefusesMaterializeResult(t *testing.T) {
	// A function whose type returns one is a definition error naming the op.
	wantErrors(t, Definitions{Ops: []*Op{
		NewOp0("typed", func(*Context) (MaterializeResult, error) { return MaterializeResult{}, nil }),
		NewOpFunc("by_func", nil, func(*Context) (*MaterializeResult, error) { return nil, nil }),
		NewOp0("fanned", func(*Context) (Dynamic[MaterializeResult], error) { return nil, nil }),
	}},
		"op `typed`: it returns weft.MaterializeResult, but only an asset (or a multi-asset's out) returns a weft.MaterializeResult",
		"op `by_func`: it returns *weft.MaterializeResult, but only an asset",
		"op `fanned`: it returns weft.Dynamic[",
	)

	// One returned at run time (through any, or Results) fails the step permanently.
	untyped := NewOp0("untyped", func(*Context) (any, error) { return MaterializeResult{}, nil })
	several := NewOp0("several", func(*Context) (Results, error) {
		return Results{"a": 1, "b": MaterializeResult{Metadata: map[string]any{"x": 1}}}, nil
	}, Outs("a", "b"))
	Register(Definitions{Ops: []*Op{untyped, several}})
	defer func() { registered, built, registers = nil, nil, 0 }()
	for _, c := range []struct{ op, message string }{
		{"untyped", "op `untyped` returned a weft.MaterializeResult for its output `result`, but only an asset (or a multi-asset's out) materializes"},
		{"several", "op `several` returned a weft.MaterializeResult for its output `b`, but only an asset"},
	} {
		res := execute(types.StepContext{StepKey: c.op, Target: types.MakeStepTargetOp(c.op)}, nil)
		if !res.IsErr() || !strings.HasPrefix(res.Err().Message, c.message) || res.Err().Retryable {
			t.Errorf("%s: got %+v, want %q, not retryable", c.op, res, c.message)
		}
	}
}
