// The step's context: what the host tells an op's, asset's, multi-asset's or asset check's
// step about itself (which assets it materializes), its config, resources and output
// metadata, and the log.

package weft

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Context is what the host tells a step about itself (Dagster's op execution context),
// with its log, config, resources and output metadata.
type Context struct {
	RunID string
	// Job is the job (or asset job) being run.
	Job string
	// StepKey is the node's name (e.g. add_7; `square[k1]` for a step mapped over a
	// dynamic output), an asset's key joined with `/`, a multi-asset's name, or an asset
	// check's `<asset key parts joined by __>_<check name>`.
	StepKey string
	// MappingKey is the mapping key of a step mapped over a dynamic output (Dagster's
	// context.get_mapping_key()): `k1` in the step `square[k1]`; "" for any other step.
	MappingKey string
	// AssetKey is the key of the asset being materialized, or checked in an asset
	// check's step; nil for an op and a multi-asset (see [Context.SelectedAssetKeys]).
	AssetKey []string
	// Attempt is 1 for the first attempt, 2 for the first retry, ...
	Attempt   uint32
	Partition string
	// Tags are the run's tags merged with the op's or asset's.
	Tags map[string]string
	// Log writes levelled, structured lines to the run's events.
	Log *Logger

	config   *string
	metadata []metadataEntry
	// selectedKeys and selectedOutputs are the assets the step materializes and the
	// outputs it returns.
	selectedKeys    [][]string
	selectedOutputs []string
}

// SelectedAssetKeys are the keys of the assets the step materializes (Dagster's
// context.selected_asset_keys): for a multi-asset, those of its assets the run selected
// (all of them unless it is [CanSubset]), in the order of its outs; for an asset, its
// key; nil for an op and an asset check.
func (c *Context) SelectedAssetKeys() [][]string {
	var keys [][]string
	for _, k := range c.selectedKeys {
		keys = append(keys, append([]string(nil), k...))
	}
	return keys
}

// IsSelected reports whether the step materializes the asset key (`a/b`): in a
// multi-asset, whether to return the output of that asset.
func (c *Context) IsSelected(key string) bool {
	want := splitKey(key)
	for _, k := range c.selectedKeys {
		if equalKeys(k, want) {
			return true
		}
	}
	return false
}

// SelectedOutputs are the names of the outputs the step is to return (Dagster's
// context.selected_output_names): for a multi-asset, the outputs of its selected assets;
// for an op, all of its outputs; `result` for an asset.
func (c *Context) SelectedOutputs() []string {
	return append([]string(nil), c.selectedOutputs...)
}

// HasConfig reports whether the run gave the step config (`ops.<step-key>.config`).
func (c *Context) HasConfig() bool { return c.config != nil }

// Config decodes the step's config (run config `ops.<step-key>.config`; a mapped step
// gets its node's, `ops.<node>.config`) into v, a pointer. It fails permanently when the
// run gave no config (check [Context.HasConfig] for optional config) or the config does
// not decode into v.
func (c *Context) Config(v any) error {
	if c.config == nil {
		node := strings.TrimSuffix(c.StepKey, "["+c.MappingKey+"]")
		return Permanentf("step `%s` needs config (%s) but the run gave none: set ops.%s.config in the run config", c.StepKey, typeName(v), node)
	}
	if err := json.Unmarshal([]byte(*c.config), v); err != nil {
		return Permanentf("step `%s`: cannot decode its config as %s: %v", c.StepKey, typeName(v), err)
	}
	return nil
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return fmt.Sprint(t)
}

// Resource is the resource name set for the location in weft.yaml, if any.
func (c *Context) Resource(name string) (Resource, bool) { return getResource(name) }

// AddOutputMetadata adds a value shown beside the step's outputs (row counts, paths,
// links): a string, bool, int or float as it is, or a [MetadataValue] ([URL], [Path],
// [Markdown], [JSON], [TableSchema]). An op with several outputs, or a multi-asset, adds
// it to each; see [Context.AddMetadataTo].
func (c *Context) AddOutputMetadata(key string, value any) {
	c.metadata = append(c.metadata, metadataEntry{key: key, value: value})
}

// AddMetadataTo adds a value to the output named output only.
func (c *Context) AddMetadataTo(output, key string, value any) {
	c.metadata = append(c.metadata, metadataEntry{output: output, key: key, value: value})
}

// Resource is a resource's value as the host hands it over.
type Resource struct {
	// Codec says how Data is encoded: `json` for resources set as JSON or text.
	Codec string
	Data  []byte
}

// Decode decodes the resource from JSON into v.
func (r Resource) Decode(v any) error {
	if err := json.Unmarshal(r.Data, v); err != nil {
		return Permanentf("cannot decode resource as %s: %v", typeName(v), err)
	}
	return nil
}

// Text is the resource as text: a JSON string's content, or else the raw bytes.
func (r Resource) Text() string {
	var s string
	if json.Unmarshal(r.Data, &s) == nil {
		return s
	}
	return string(r.Data)
}

func getResource(name string) (Resource, bool) {
	codec, data, ok := hostResource(name)
	return Resource{Codec: codec, Data: data}, ok
}

// Level is a log line's level.
type Level uint8

// The levels of the host's log, lowest first.
const (
	LevelTrace Level = iota
	LevelDebug
	LevelInfo
	LevelWarning
	LevelError
)

// Logger writes to the host's log: lines become events of the run (or the tick), with
// their structured fields beside them. Arguments after the message are key/value pairs,
// as with log/slog: ctx.Log.Info("loaded", "rows", 42).
type Logger struct{}

// Log is the log outside a step (e.g. while building definitions).
var Log = &Logger{}

// Trace writes a trace line.
func (l *Logger) Trace(msg string, kv ...any) { l.Write(LevelTrace, msg, kv...) }

// Debug writes a debug line.
func (l *Logger) Debug(msg string, kv ...any) { l.Write(LevelDebug, msg, kv...) }

// Info writes an info line.
func (l *Logger) Info(msg string, kv ...any) { l.Write(LevelInfo, msg, kv...) }

// Warn writes a warning line.
func (l *Logger) Warn(msg string, kv ...any) { l.Write(LevelWarning, msg, kv...) }

// Error writes an error line.
func (l *Logger) Error(msg string, kv ...any) { l.Write(LevelError, msg, kv...) }

// Write writes a line at level.
func (l *Logger) Write(level Level, msg string, kv ...any) {
	hostLog(level, msg, fields(kv))
}

// fields pairs up key/value arguments; a lone last value gets the key `!BADKEY`.
func fields(kv []any) [][2]string {
	var out [][2]string
	for i := 0; i < len(kv); i += 2 {
		if i+1 == len(kv) {
			out = append(out, [2]string{"!BADKEY", fmt.Sprint(kv[i])})
			break
		}
		out = append(out, [2]string{fmt.Sprint(kv[i]), fmt.Sprint(kv[i+1])})
	}
	return out
}

// String is the level's name.
func (l Level) String() string {
	names := []string{"TRACE", "DEBUG", "INFO", "WARNING", "ERROR"}
	if int(l) < len(names) {
		return names[l]
	}
	return fmt.Sprintf("LEVEL(%d)", l)
}

func formatLine(level Level, msg string, fields [][2]string) string {
	var b strings.Builder
	b.WriteString(level.String())
	b.WriteString(" ")
	b.WriteString(msg)
	for _, f := range fields {
		fmt.Fprintf(&b, " %s=%s", f[0], f[1])
	}
	return b.String()
}
