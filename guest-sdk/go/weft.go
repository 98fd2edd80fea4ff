// Package weft is the Weft Go SDK: define the ops, jobs, assets, schedules and sensors of
// a code location in plain Go, and the package serves them as the exports of the
// location's WebAssembly component (the `code-location` world of weft:plugin).
//
// A code location is a main package that registers its definitions in init:
//
//	var hello = weft.NewOp0("hello", func(ctx *weft.Context) (string, error) {
//		ctx.Log.Info("saying hello")
//		return "hello from go", nil
//	}, weft.Description("Say hello."))
//
//	var helloJob = weft.NewJob("hello_job", func(j *weft.Job) { j.Node(hello) })
//
//	func init() { weft.Register(weft.Definitions{Jobs: []*weft.Job{helloJob}}) }
//
//	func main() {}
//
// Values cross the boundary as JSON through encoding/json: an op's inputs are decoded
// into its function's parameter types and its result is encoded into its one output,
// `result`. Ops take typed functions ([NewOp0] ... [NewOp4], [NewOpFunc]); jobs wire
// them into a graph with [Job.Node] (aliases with [Node.Alias], fan-in with a []*Node;
// dynamic fan-out with an op returning [Dynamic], [Node.Map] and [Node.Collect]);
// assets ([NewAsset1] ...) name their upstream assets by input name; [NewAssetJob],
// [NewSchedule] and [NewSensor] complete the set; [NewSuccessHook] and [NewFailureHook]
// make hooks, run after a node's step, given to a job's nodes with [Hooks] or to one node
// with [Node.WithHooks]; [NewAssetCheck0] and [NewAssetCheck1] make asset checks, run after
// their asset (an [*Asset] or a multi-asset's, [MultiAsset.Asset]) is materialized;
// [NewMultiAsset0] ... [NewMultiAsset4] make multi-assets, one function materializing
// several assets ([AssetOut]), some of them when it [CanSubset];
// [NewGraphAsset0] ... [NewGraphAsset4] make graph assets, an asset computed by a graph
// of ops, each a step of its own.
// Mistakes in wiring are definition errors that name the object, reported by `weft check`
// when the location loads.
//
// An error returned by an op fails its step retryably unless marked with [Permanent]; a
// panic fails it retryably with the panic's message and where it happened (its stack
// goes to the step's stderr, in the compute logs).
//
// An op's step can run a container as a Kubernetes Job and wait for it with
// [ExecuteK8sJob] (Dagster's execute_k8s_job), when the location is granted `k8s_jobs`.
//
// An op calls HTTP and HTTPS APIs with net/http once the location imports the SDK's http
// package (package wefthttp) for its side effect, which makes http.DefaultTransport go
// through the host; only hosts the location is granted (`hosts`, `--grant-host`) answer.
//
// Build a location with standard Go (1.25 or later) for wasip1 as a reactor, then
// componentize the core module against the repository's wit/; from the repository root:
//
//	weft build DIR -o OUT.wasm
//
// See README.md for a five-minute quick start.
package weft

//go:generate ./generate.sh

import "sort"

// Definitions is everything a code location defines (Dagster's Definitions). The ops and
// hooks of jobs and graph assets need not be listed.
type Definitions struct {
	// Assets lists the assets, graph assets ([NewGraphAsset1]) included.
	Assets    []*Asset
	Jobs      []*Job
	AssetJobs []*AssetJob
	Schedules []*Schedule
	Sensors   []*Sensor
	// Ops lists ops that no job or graph asset invokes (they are defined all the same).
	Ops []*Op
	// Hooks lists hooks that no job uses; the hooks jobs and nodes are given need not be
	// listed.
	Hooks []*Hook
	// AssetChecks lists the asset checks (their assets must be in Assets, or their
	// multi-assets in MultiAssets).
	AssetChecks []*AssetCheck
	// MultiAssets lists the multi-assets; each of their assets is an asset of the
	// location, as those in Assets are.
	MultiAssets []*MultiAsset
}

var (
	registered *Definitions
	registers  int
	built      *registry
)

// Register sets the location's definitions. Call it once, from init.
func Register(defs Definitions) {
	registered = &defs
	registers++
	built = nil
}

// Check builds defs as the location would and returns every definition error, one per
// line, or nil: use it in a native test (go test) of a location.
func Check(defs Definitions) error {
	r := build(&defs)
	if len(r.errs) == 0 {
		return nil
	}
	return r.err()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
