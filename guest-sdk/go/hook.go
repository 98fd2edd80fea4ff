// Hooks (Dagster's @success_hook and @failure_hook): functions the host calls after the
// step of a node that names them ends, given to every node of a job ([Hooks]) or to one
// node ([Node.WithHooks]); and hooks.run, the export that calls them.

package weft

import (
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// Hook is a hook (Dagster's @success_hook / @failure_hook), made by [NewSuccessHook] or
// [NewFailureHook]: a function the host calls after a step of a node that has it ends,
// a success hook after a step that succeeded, a failure hook after one that failed for
// good (not after an attempt that will be retried). A hook that fails (returns an error
// or panics) is reported as the run's event and fails nothing: the step's outcome stands.
type Hook struct {
	name      string
	onFailure bool
	s         settings
	run       func(*HookContext) error
	errs      []string
}

// HookContext is what the host tells a hook (Dagster's HookContext): the step that ended
// and, for a failure hook, why it failed.
type HookContext struct {
	RunID string
	// Job is the job being run.
	Job string
	// StepKey is the step that ended: its node's name (e.g. add_7, or graph.add_one).
	StepKey string
	// Op is the op the node invokes.
	Op string
	// Failure is why the step failed (Dagster's op_exception); "" unless it failed.
	Failure string
	// Log writes to the run's events, as an op's log does.
	Log *Logger
}

// NewSuccessHook makes a hook that runs after a step that succeeded:
//
//	var announce = weft.NewSuccessHook("announce", func(ctx *weft.HookContext) error {
//		ctx.Log.Info("done", "step", ctx.StepKey)
//		return nil
//	}, weft.Description("Say a step is done"))
func NewSuccessHook(name string, fn func(ctx *HookContext) error, opts ...Option) *Hook {
	return newHook("success hook", name, false, fn, opts)
}

// NewFailureHook makes a hook that runs after a step that failed for good; its context's
// Failure says why.
func NewFailureHook(name string, fn func(ctx *HookContext) error, opts ...Option) *Hook {
	return newHook("failure hook", name, true, fn, opts)
}

func newHook(kind, name string, onFailure bool, fn func(*HookContext) error, opts []Option) *Hook {
	what := fmt.Sprintf("%s `%s`", kind, name)
	s, errs := apply(what, hookOptions, opts)
	h := &Hook{name: name, onFailure: onFailure, s: s, run: fn, errs: errs}
	if !isIdentifier(name) {
		h.errs = append(h.errs, what+": the name must be letters, digits and _ ([A-Za-z0-9_]+)")
	}
	if fn == nil {
		h.errs = append(h.errs, what+": its function is nil")
	}
	return h
}

// Name is the hook's name.
func (h *Hook) Name() string { return h.name }

// Hooks gives these hooks to every node of a job (Dagster's @job(hooks={...})), the nodes
// of the graphs it calls included. The hooks need not be listed in [Definitions].
func Hooks(hooks ...*Hook) Option {
	return Option{"Hooks", func(s *settings) { s.hooks = append(s.hooks, hooks...) }}
}

// WithHooks gives this node these hooks besides its job's (Dagster's
// op.with_hooks({...})): j.Node(load).WithHooks(alarm).
func (n *Node) WithHooks(hooks ...*Hook) *Node {
	for _, h := range hooks {
		if h == nil {
			n.job.errorf(n, "WithHooks was given a nil *weft.Hook")
			continue
		}
		n.hooks = append(n.hooks, h)
	}
	return n
}

// nilHooks reports a nil hook given to a job by [Hooks].
func nilHooks(what string, hooks []*Hook) []string {
	for _, h := range hooks {
		if h == nil {
			return []string{what + ": weft.Hooks was given a nil *weft.Hook"}
		}
	}
	return nil
}

// hookNames is the names of a node's hooks, its own and its job's: each once, sorted by
// name (as every SDK lists them).
func hookNames(own, job []*Hook) []string {
	names := []string{}
	seen := map[string]bool{}
	for _, h := range append(append([]*Hook(nil), own...), job...) {
		if h != nil && !seen[h.name] {
			seen[h.name] = true
			names = append(names, h.name)
		}
	}
	sort.Strings(names)
	return names
}

// addHook registers h (once), reporting another hook of the same name.
func (r *registry) addHook(h *Hook) {
	if h == nil {
		return // reported where it was given
	}
	if known, ok := r.hookByName[h.name]; ok {
		if known != h {
			r.errs = append(r.errs, fmt.Sprintf("two different hooks are named `%s`", h.name))
		}
		return
	}
	r.hookByName[h.name] = h
	r.hooks = append(r.hooks, h)
	r.errs = append(r.errs, h.errs...)
}

// hookDef is h as the contract says it.
func hookDef(h *Hook) types.HookDef {
	on := types.HookTrigger_Success
	if h.onFailure {
		on = types.HookTrigger_Failure
	}
	return types.HookDef{Name: h.name, Description: optional(h.s.description), On: on}
}

// --- hooks.run -------------------------------------------------------------------------

// runHook calls the hook name. Its error, or a panic, is the call's failure, never
// retryable: the host reports it and the step's outcome stands.
func runHook(name string, ctx types.HookContext) (result witTypes.Result[witTypes.Unit, types.Failure]) {
	r := theRegistry()
	if len(r.errs) > 0 {
		return witTypes.Err[witTypes.Unit](permanent("the location's definitions are invalid:\n" + strings.Join(r.errs, "\n")))
	}
	h := r.hookByName[name]
	if h == nil {
		return witTypes.Err[witTypes.Unit](permanent(`no hook named "` + name + `" in this code location`))
	}
	c := &HookContext{
		RunID:   ctx.RunId,
		Job:     ctx.Job,
		StepKey: ctx.StepKey,
		Op:      ctx.Op,
		Failure: ctx.Failure.SomeOr(""),
		Log:     Log,
	}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "hook `%s` panicked: %v\n\n%s", name, p, debug.Stack())
			result = witTypes.Err[witTypes.Unit](permanent(panicMessage(p)))
		}
	}()
	if err := h.run(c); err != nil {
		return witTypes.Err[witTypes.Unit](permanent(err.Error()))
	}
	return witTypes.Ok[witTypes.Unit, types.Failure](witTypes.Unit{})
}
