// Ops (Dagster's @op): NewOp0 ... NewOp4 and NewOpFunc, their inputs and outputs, and
// how a step's call reaches the function.

package weft

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// Op is an op (Dagster's @op): the smallest unit of work, a Go function whose inputs
// and result cross the boundary as JSON (encoding/json). Make one with [NewOp0] ...
// [NewOp4] (typed, checked by the compiler) or [NewOpFunc] (any number of inputs,
// checked when the location's definitions are built).
//
// An op has one output, `result`, unless [Outs] declares several (the function then
// returns [Results]). An op returning [Dynamic] has a dynamic output, one value per
// mapping key, that a job maps other ops over ([Node.Map]). The function's error fails the step: retryably,
// unless it is marked with [Permanent]. A panic fails the step retryably too, with the
// panic's message and where it happened.
type Op struct {
	name   string
	params []param
	out    reflect.Type
	s      settings
	run    runFunc
	errs   []string
}

// param is one named input of an op and the Go type it is decoded into.
type param struct {
	name string
	typ  reflect.Type
}

// runFunc decodes the step's inputs (JSON, one per param, in order) and calls the
// author's function.
type runFunc func(ctx *Context, args []json.RawMessage) (any, error)

// Name is the op's name.
func (o *Op) Name() string { return o.name }

func newOp(kind, name string, params []param, out reflect.Type, run runFunc, opts []Option, allowed []string) *Op {
	what := fmt.Sprintf("%s `%s`", kind, name)
	s, errs := apply(what, allowed, opts)
	op := &Op{name: name, params: params, out: out, s: s, run: run, errs: errs}
	if !isIdentifier(name) {
		op.errs = append(op.errs, fmt.Sprintf("%s: the name must be letters, digits and _ ([A-Za-z0-9_]+)", what))
	}
	if run == nil {
		op.errs = append(op.errs, fmt.Sprintf("%s: its function is nil", what))
	}
	op.errs = append(op.errs, op.checkOuts(what)...)
	op.errs = append(op.errs, op.checkDynamic(kind, what)...)
	op.errs = append(op.errs, op.checkMaterialize(kind, what)...)
	if s.configErr != "" {
		op.errs = append(op.errs, fmt.Sprintf("%s: %s", what, s.configErr))
	}
	seen := map[string]bool{}
	for _, p := range params {
		if !isIdentifier(p.name) {
			op.errs = append(op.errs, fmt.Sprintf("%s: input name %q must be letters, digits and _", what, p.name))
		}
		if seen[p.name] {
			op.errs = append(op.errs, fmt.Sprintf("%s: two inputs are named `%s`", what, p.name))
		}
		seen[p.name] = true
	}
	return op
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// decodeError is an input that does not decode into its parameter's type.
type decodeError struct{ message string }

func (e *decodeError) Error() string { return e.message }

// decodeArg decodes one input into v.
func decodeArg(name string, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return Permanent(&decodeError{fmt.Sprintf("cannot decode input `%s` as %s: %v", name, reflect.TypeOf(v).Elem(), err)})
	}
	return nil
}

func spec0[Out any](fn func(*Context) (Out, error)) ([]param, reflect.Type, runFunc) {
	if fn == nil {
		return nil, typeOf[Out](), nil
	}
	return nil, typeOf[Out](), func(ctx *Context, _ []json.RawMessage) (any, error) {
		return fn(ctx)
	}
}

func spec1[A, Out any](a string, fn func(*Context, A) (Out, error)) ([]param, reflect.Type, runFunc) {
	params := []param{{a, typeOf[A]()}}
	if fn == nil {
		return params, typeOf[Out](), nil
	}
	return params, typeOf[Out](), func(ctx *Context, args []json.RawMessage) (any, error) {
		var x A
		if err := decodeArg(a, args[0], &x); err != nil {
			return nil, err
		}
		return fn(ctx, x)
	}
}

func spec2[A, B, Out any](a, b string, fn func(*Context, A, B) (Out, error)) ([]param, reflect.Type, runFunc) {
	params := []param{{a, typeOf[A]()}, {b, typeOf[B]()}}
	if fn == nil {
		return params, typeOf[Out](), nil
	}
	return params, typeOf[Out](), func(ctx *Context, args []json.RawMessage) (any, error) {
		var x A
		var y B
		if err := decodeArg(a, args[0], &x); err != nil {
			return nil, err
		}
		if err := decodeArg(b, args[1], &y); err != nil {
			return nil, err
		}
		return fn(ctx, x, y)
	}
}

func spec3[A, B, C, Out any](a, b, c string, fn func(*Context, A, B, C) (Out, error)) ([]param, reflect.Type, runFunc) {
	params := []param{{a, typeOf[A]()}, {b, typeOf[B]()}, {c, typeOf[C]()}}
	if fn == nil {
		return params, typeOf[Out](), nil
	}
	return params, typeOf[Out](), func(ctx *Context, args []json.RawMessage) (any, error) {
		var x A
		var y B
		var z C
		if err := decodeArg(a, args[0], &x); err != nil {
			return nil, err
		}
		if err := decodeArg(b, args[1], &y); err != nil {
			return nil, err
		}
		if err := decodeArg(c, args[2], &z); err != nil {
			return nil, err
		}
		return fn(ctx, x, y, z)
	}
}

func spec4[A, B, C, D, Out any](a, b, c, d string, fn func(*Context, A, B, C, D) (Out, error)) ([]param, reflect.Type, runFunc) {
	params := []param{{a, typeOf[A]()}, {b, typeOf[B]()}, {c, typeOf[C]()}, {d, typeOf[D]()}}
	if fn == nil {
		return params, typeOf[Out](), nil
	}
	return params, typeOf[Out](), func(ctx *Context, args []json.RawMessage) (any, error) {
		var w A
		var x B
		var y C
		var z D
		if err := decodeArg(a, args[0], &w); err != nil {
			return nil, err
		}
		if err := decodeArg(b, args[1], &x); err != nil {
			return nil, err
		}
		if err := decodeArg(c, args[2], &y); err != nil {
			return nil, err
		}
		if err := decodeArg(d, args[3], &z); err != nil {
			return nil, err
		}
		return fn(ctx, w, x, y, z)
	}
}

var (
	contextType = reflect.TypeFor[*Context]()
	errorType   = reflect.TypeFor[error]()
)

// specFunc checks a function given as `any` (see [NewOpFunc]) against its input names.
func specFunc(what string, inputs []string, fn any) ([]param, reflect.Type, runFunc, []string) {
	v := reflect.ValueOf(fn)
	want := fmt.Sprintf("func(*weft.Context, <%d inputs>) (T, error)", len(inputs))
	if !v.IsValid() || v.Kind() != reflect.Func || v.IsNil() {
		return nil, nil, nil, []string{fmt.Sprintf("%s: want a function %s, got %T", what, want, fn)}
	}
	t := v.Type()
	if t.IsVariadic() || t.NumIn() != len(inputs)+1 || t.In(0) != contextType || t.NumOut() != 2 || t.Out(1) != errorType {
		return nil, nil, nil, []string{fmt.Sprintf("%s: want a function %s for its inputs %v, got %s", what, want, inputs, t)}
	}
	params := make([]param, len(inputs))
	for i, name := range inputs {
		params[i] = param{name, t.In(i + 1)}
	}
	run := func(ctx *Context, args []json.RawMessage) (any, error) {
		in := make([]reflect.Value, len(args)+1)
		in[0] = reflect.ValueOf(ctx)
		for i, raw := range args {
			ptr := reflect.New(params[i].typ)
			if err := decodeArg(params[i].name, raw, ptr.Interface()); err != nil {
				return nil, err
			}
			in[i+1] = ptr.Elem()
		}
		out := v.Call(in)
		err, _ := out[1].Interface().(error)
		return out[0].Interface(), err
	}
	return params, t.Out(0), run, nil
}

// NewOp0 makes an op with no inputs.
//
//	var generateNumbers = weft.NewOp0("generate_numbers",
//		func(ctx *weft.Context) ([]int, error) { return []int{1, 2, 3}, nil },
//		weft.Description("Generate a list of numbers"))
func NewOp0[Out any](name string, fn func(ctx *Context) (Out, error), opts ...Option) *Op {
	p, o, r := spec0(fn)
	return newOp("op", name, p, o, r, opts, opOptions)
}

// NewOp1 makes an op with one input named a.
func NewOp1[A, Out any](name, a string, fn func(ctx *Context, a A) (Out, error), opts ...Option) *Op {
	p, o, r := spec1(a, fn)
	return newOp("op", name, p, o, r, opts, opOptions)
}

// NewOp2 makes an op with two inputs named a and b.
func NewOp2[A, B, Out any](name, a, b string, fn func(ctx *Context, a A, b B) (Out, error), opts ...Option) *Op {
	p, o, r := spec2(a, b, fn)
	return newOp("op", name, p, o, r, opts, opOptions)
}

// NewOp3 makes an op with three inputs.
func NewOp3[A, B, C, Out any](name, a, b, c string, fn func(ctx *Context, a A, b B, c C) (Out, error), opts ...Option) *Op {
	p, o, r := spec3(a, b, c, fn)
	return newOp("op", name, p, o, r, opts, opOptions)
}

// NewOp4 makes an op with four inputs.
func NewOp4[A, B, C, D, Out any](name, a, b, c, d string, fn func(ctx *Context, a A, b B, c C, d D) (Out, error), opts ...Option) *Op {
	p, o, r := spec4(a, b, c, d, fn)
	return newOp("op", name, p, o, r, opts, opOptions)
}

// NewOpFunc makes an op with any number of inputs from fn, a
// `func(*weft.Context, T1, ..., Tn) (Out, error)` whose parameters after the context are
// the inputs named in order. A function of another shape is reported (naming the op) when
// the definitions are built.
func NewOpFunc(name string, inputs []string, fn any, opts ...Option) *Op {
	p, o, r, errs := specFunc(fmt.Sprintf("op `%s`", name), inputs, fn)
	if errs != nil {
		r = func(*Context, []json.RawMessage) (any, error) { return nil, Permanentf("%s", errs[0]) }
	}
	op := newOp("op", name, p, o, r, opts, opOptions)
	op.errs = append(errs, op.errs...)
	return op
}

// isIdentifier reports whether s is a name as Dagster's are: [A-Za-z0-9_]+.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return true
}
