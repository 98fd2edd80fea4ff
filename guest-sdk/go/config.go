// Config as a Go struct: [ConfigOf] derives the JSON Schema the host checks run config
// against (and fills defaults from) before a run is created.

package weft

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// ConfigOf sets the op's (or asset's) config schema to the JSON Schema of T, a struct:
// one property per exported field, named by its `json` tag; a field is required unless
// its tag says `omitempty` or it has a `default` tag, whose value (JSON) the host fills
// in; a `description` tag describes it. Unknown keys are refused. Read the config with
// [Context.Config].
//
//	type Scale struct {
//		Factor int `json:"factor"`
//		Offset int `json:"offset" default:"0" description:"added after scaling"`
//	}
//	var scale = weft.NewOp1("scale", "x", scaleFn, weft.ConfigOf[Scale]())
func ConfigOf[T any]() Option {
	schema, err := schemaOf(reflect.TypeFor[T]())
	text := ""
	if err == nil {
		data, _ := json.Marshal(schema)
		text = string(data)
	}
	return Option{"ConfigSchema", func(s *settings) {
		s.configSchema = text
		if err != nil {
			s.configErr = fmt.Sprintf("weft.ConfigOf[%s]: %v", reflect.TypeFor[T](), err)
		}
	}}
}

// schemaOf is t as JSON Schema.
func schemaOf(t reflect.Type) (map[string]any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == rawMessageType || t.Kind() == reflect.Interface:
		return map[string]any{}, nil
	case isInt(t):
		return map[string]any{"type": "integer"}, nil
	case isFloat(t):
		return map[string]any{"type": "number"}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Slice, reflect.Array:
		items, err := schemaOf(t.Elem())
		return map[string]any{"type": "array", "items": items}, err
	case reflect.Map:
		values, err := schemaOf(t.Elem())
		return map[string]any{"type": "object", "additionalProperties": values}, err
	case reflect.Struct:
		return structSchema(t)
	}
	return nil, fmt.Errorf("a %s cannot be config", t)
}

func structSchema(t reflect.Type) (map[string]any, error) {
	properties := map[string]any{}
	required := []string{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		schema, err := schemaOf(f.Type)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		if d, ok := f.Tag.Lookup("default"); ok {
			var v any
			if err := json.Unmarshal([]byte(d), &v); err != nil {
				return nil, fmt.Errorf("field %s: its default %q is not JSON", f.Name, d)
			}
			schema["default"] = v
		} else if !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
		if d := f.Tag.Get("description"); d != "" {
			schema["description"] = d
		}
		properties[name] = schema
	}
	out := map[string]any{"type": "object", "properties": properties, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	return out, nil
}
