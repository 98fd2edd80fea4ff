// Typed metadata (Dagster's MetadataValue): values an op attaches to its outputs with
// [Context.AddOutputMetadata], shown beside them; ints and floats are plotted over an
// asset's materializations.

package weft

import (
	"encoding/json"
	"fmt"
	"math"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// MetadataValue is a value of a kind Go's types do not say: a link, a path, Markdown,
// JSON or a table schema. Strings, bools, ints and floats need no wrapping.
type MetadataValue struct {
	kind  string
	text  string
	table []TableColumn
}

// TableColumn is one column of a table schema (Dagster's TableColumn).
type TableColumn struct {
	Name, Type, Description string
}

// URL is a link.
func URL(u string) MetadataValue { return MetadataValue{kind: "url", text: u} }

// Path is a filesystem or object-store path.
func Path(p string) MetadataValue { return MetadataValue{kind: "path", text: p} }

// Markdown is Markdown text.
func Markdown(md string) MetadataValue { return MetadataValue{kind: "markdown", text: md} }

// JSON is any value as JSON (`null` if it does not encode).
func JSON(v any) MetadataValue {
	data, err := json.Marshal(v)
	if err != nil {
		data = []byte("null")
	}
	return MetadataValue{kind: "json", text: string(data)}
}

// TableSchema is a table's columns.
func TableSchema(columns ...TableColumn) MetadataValue {
	return MetadataValue{kind: "table_schema", table: columns}
}

// metadataValue is v as the contract's metadata-value, typed by its Go type.
func metadataValue(v any) types.MetadataValue {
	switch x := v.(type) {
	case MetadataValue:
		switch x.kind {
		case "url":
			return types.MakeMetadataValueUrl(x.text)
		case "path":
			return types.MakeMetadataValuePath(x.text)
		case "markdown":
			return types.MakeMetadataValueMarkdown(x.text)
		case "json":
			return types.MakeMetadataValueJson(x.text)
		case "table_schema":
			columns := make([]types.TableColumn, len(x.table))
			for i, c := range x.table {
				columns[i] = types.TableColumn{Name: c.Name, Type: c.Type, Description: optional(c.Description)}
			}
			return types.MakeMetadataValueTableSchema(columns)
		}
	case string:
		return types.MakeMetadataValueText(x)
	case bool:
		return types.MakeMetadataValueBool(x)
	case int:
		return types.MakeMetadataValueInt(int64(x))
	case int8:
		return types.MakeMetadataValueInt(int64(x))
	case int16:
		return types.MakeMetadataValueInt(int64(x))
	case int32:
		return types.MakeMetadataValueInt(int64(x))
	case int64:
		return types.MakeMetadataValueInt(x)
	case uint8:
		return types.MakeMetadataValueInt(int64(x))
	case uint16:
		return types.MakeMetadataValueInt(int64(x))
	case uint32:
		return types.MakeMetadataValueInt(int64(x))
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return types.MakeMetadataValueInt(int64(x))
		}
	case uint64:
		if x <= math.MaxInt64 {
			return types.MakeMetadataValueInt(int64(x))
		}
	case float32:
		return types.MakeMetadataValueFloat(float64(x))
	case float64:
		return types.MakeMetadataValueFloat(x)
	}
	return types.MakeMetadataValueText(fmt.Sprint(v))
}

// metadataEntry is one value added during a step, for one output or ("") every output.
type metadataEntry struct {
	output, key string
	value       any
}

// metadataFor is what was added for output, in order.
func metadataFor(entries []metadataEntry, output string) []witTypes.Tuple2[string, types.MetadataValue] {
	out := []witTypes.Tuple2[string, types.MetadataValue]{}
	for _, e := range entries {
		if e.output == "" || e.output == output {
			out = append(out, witTypes.Tuple2[string, types.MetadataValue]{F0: e.key, F1: metadataValue(e.value)})
		}
	}
	return out
}
