//go:build !wasm

// The tests run natively: on wasm the SDK calls the host's imports, which only a
// component host provides.

package weft

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

var (
	gen   = NewOp0("gen", func(*Context) ([]int, error) { return []int{1, 2, 3}, nil })
	sumOp = NewOp1("sum", "numbers", func(_ *Context, xs []int) (int, error) {
		t := 0
		for _, x := range xs {
			t += x
		}
		return t, nil
	})
	addOne = NewOp1("add_one", "x", func(_ *Context, x int) (int, error) { return x + 1, nil })
	pair   = NewOp2("pair", "a", "b", func(_ *Context, a int, b float64) (string, error) {
		return fmt.Sprint(a, b), nil
	})
)

func single(data string) types.InputArg {
	return types.MakeInputArgSingle(types.Value{Codec: "json", Data: []byte(data)})
}

func stepCtx(step, op string) *Context {
	return newContext(types.StepContext{RunId: "r", Job: "j", StepKey: step, Target: types.MakeStepTargetOp(op), Attempt: 1})
}

func mustCheck(t *testing.T, defs Definitions) *registry {
	t.Helper()
	if err := Check(defs); err != nil {
		t.Fatalf("definitions: %v", err)
	}
	return build(&defs)
}

func wantErrors(t *testing.T, defs Definitions, want ...string) {
	t.Helper()
	err := Check(defs)
	if err == nil {
		t.Fatalf("no definition error, want %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("errors %q do not contain %q", err, w)
		}
	}
}

func TestJobGraphWithAliasesAndFanIn(t *testing.T) {
	wide := NewJob("wide", func(j *Job) {
		start := j.Node(gen)
		n := j.Node(sumOp, start)
		var adds []*Node
		for i := range 3 {
			adds = append(adds, j.Node(addOne, n).Alias(fmt.Sprintf("add_%d", i)))
		}
		j.Node(sumOp, adds).Alias("total")
	}, Tag("domain", "numbers"), Description("wide"))
	r := mustCheck(t, Definitions{Jobs: []*Job{wide}})
	defs := r.definitions()
	if got := len(defs.Ops); got != 3 {
		t.Fatalf("%d ops, want 3 (gen, sum, add_one)", got)
	}
	job := defs.Jobs[0]
	if job.Tags[0].F0 != "domain" || job.Description.Some() != "wide" {
		t.Errorf("job tags/description: %+v", job)
	}
	total := job.Nodes[len(job.Nodes)-1]
	if total.Name != "total" || total.Op != "sum" || !total.Inputs[0].FanIn || len(total.Inputs[0].Sources) != 3 || total.Inputs[0].Sources[2].Node != "add_2" {
		t.Errorf("fan-in node: %+v", total)
	}
	if job.Nodes[2].Inputs[0].Sources[0].Node != "sum" || job.Nodes[2].Inputs[0].FanIn {
		t.Errorf("single input: %+v", job.Nodes[2])
	}
}

func TestWiringErrorsNameTheJobAndNode(t *testing.T) {
	bad := NewJob("bad", func(j *Job) {
		g := j.Node(gen)
		j.Node(addOne, g)                  // []int into int
		j.Node(sumOp)                      // missing input
		j.Node(addOne, []*Node{g})         // fan-in into int
		j.Node(pair, j.Node(addOne, g), g) // second input: []int into float64
		j.Node(gen)                        // a second `gen`
		j.Node(addOne, "gen")              // not a node
	})
	wantErrors(t, Definitions{Jobs: []*Job{bad}},
		"job `bad`: node `add_one`: input `x` is int but node `gen` returns []int",
		"job `bad`: node `sum`: op `sum` takes 1 input(s) (numbers), 0 given",
		"input `x` fans in 1 nodes, so op `add_one` must take a slice there, not int",
		"node `pair`: input `b` is float64 but node `gen` returns []int",
		"job `bad`: two nodes are named `gen`: give one an Alias",
		"want a *weft.Node, a weft.Out, a slice of either or a weft.Collected, got string",
	)
}

func TestOptionErrorsAndBadNames(t *testing.T) {
	op := NewOp0("Bad-Name", func(*Context) (int, error) { return 0, nil }, Group("numbers"))
	wantErrors(t, Definitions{Ops: []*Op{op}},
		"op `Bad-Name`: the name must be letters, digits and _",
		"op `Bad-Name`: option weft.Group does not apply here",
	)
	fn := NewOpFunc("reflected", []string{"a", "b"}, func(*Context, int) (int, error) { return 0, nil })
	wantErrors(t, Definitions{Ops: []*Op{fn}}, "op `reflected`: want a function func(*weft.Context, <2 inputs>) (T, error)")
	other := NewOp0("gen", func(*Context) (int, error) { return 0, nil })
	wantErrors(t, Definitions{Ops: []*Op{gen, other}}, "two different ops are named `gen`")
}

func TestNewOpFuncRuns(t *testing.T) {
	op := NewOpFunc("three", []string{"a", "b", "c"}, func(_ *Context, a, b int, c []int) (int, error) {
		return a + b + len(c), nil
	})
	mustCheck(t, Definitions{Ops: []*Op{op}})
	out, f := runStep(op, "op `three`", stepCtx("three", "three"), []types.StepInput{
		{Name: "a", Arg: single("1")}, {Name: "b", Arg: single("2")}, {Name: "c", Arg: single("[7,8]")},
	})
	if f != nil || string(out[0].Value.Data) != "5" {
		t.Fatalf("got %v %+v", out, f)
	}
}

func TestRunStepDecodesFanInAndEncodesTheResult(t *testing.T) {
	fan := types.MakeInputArgFanIn([]types.Value{{Codec: "json", Data: []byte("2")}, {Codec: "json", Data: []byte("5")}})
	out, f := runStep(sumOp, "op `sum`", stepCtx("total", "sum"), []types.StepInput{{Name: "numbers", Arg: fan}})
	if f != nil {
		t.Fatal(f.Message)
	}
	if out[0].Name != "result" || out[0].Value.Codec != "json" || string(out[0].Value.Data) != "7" {
		t.Errorf("output: %+v", out[0])
	}
}

func TestFailures(t *testing.T) {
	retryable := NewOp0("flaky", func(*Context) (int, error) { return 0, errors.New("disk full") })
	permanent := NewOp0("strict", func(*Context) (int, error) { return 0, fmt.Errorf("wrapped: %w", Permanentf("bad row %d", 3)) })
	panics := NewOp0("boom", func(*Context) (int, error) { panic("kaboom") })
	for _, c := range []struct {
		op        *Op
		inputs    []types.StepInput
		message   string
		retryable bool
	}{
		{retryable, nil, "disk full", true},
		{permanent, nil, "wrapped: bad row 3", false},
		{panics, nil, "panicked: kaboom (at ", true},
		{addOne, []types.StepInput{{Name: "x", Arg: single(`"seven"`)}}, "op `add_one`: cannot decode input `x` as int", false},
		{addOne, nil, "op `add_one`: the host gave no value for input `x`", false},
	} {
		_, f := runStep(c.op, "op `"+c.op.name+"`", stepCtx(c.op.name, c.op.name), c.inputs)
		if f == nil || !strings.Contains(f.Message, c.message) || f.Retryable != c.retryable {
			t.Errorf("%s: got %+v, want %q retryable=%v", c.op.name, f, c.message, c.retryable)
		}
	}
	_, f := runStep(panics, "op `boom`", stepCtx("boom", "boom"), nil)
	if !strings.Contains(f.Message, "weft_test.go:") {
		t.Errorf("the panic's site is not the test file: %s", f.Message)
	}
}

func TestConfigLogAndResources(t *testing.T) {
	var lines []string
	testLog = func(level Level, msg string, fields [][2]string) {
		lines = append(lines, formatLine(level, msg, fields))
	}
	defer func() { testLog = nil }()
	testResources["bucket"] = Resource{Codec: "json", Data: []byte(`"my-bucket"`)}
	defer delete(testResources, "bucket")

	type cfg struct{ Factor int }
	op := NewOp0("scale", func(ctx *Context) (string, error) {
		var c cfg
		if err := ctx.Config(&c); err != nil {
			return "", err
		}
		ctx.Log.Info("scaling", "factor", c.Factor, "lonely")
		r, _ := ctx.Resource("bucket")
		ctx.AddOutputMetadata("rows", "3")
		return fmt.Sprint(c.Factor*2, r.Text()), nil
	})
	ctx := newContext(types.StepContext{StepKey: "scale", Target: types.MakeStepTargetOp("scale"), Config: witTypes.Some(`{"Factor": 4}`)})
	out, f := runStep(op, "op `scale`", ctx, nil)
	if f != nil || string(out[0].Value.Data) != `"8my-bucket"` || out[0].Metadata[0].F0 != "rows" {
		t.Fatalf("got %+v %+v", out, f)
	}
	if len(lines) != 1 || lines[0] != "INFO scaling factor=4 !BADKEY=lonely" {
		t.Errorf("log lines: %q", lines)
	}
	_, f = runStep(op, "op `scale`", stepCtx("scale", "scale"), nil)
	if f == nil || f.Retryable || !strings.Contains(f.Message, "needs config (weft.cfg) but the run gave none: set ops.scale.config") {
		t.Errorf("missing config: %+v", f)
	}
}

func numbersAssets() []*Asset {
	opts := []Option{Group("numbers"), Kinds("go")}
	a := NewAsset0("generated", func(*Context) ([]int, error) { return []int{1, 2}, nil }, opts...)
	b := NewAsset1("doubled", "generated", func(_ *Context, xs []int) ([]int, error) { return xs, nil }, append(opts, KeyPrefix("wh"))...)
	c := NewAsset2("joined", "doubled", "upstream", func(_ *Context, xs []int, y int) (int, error) { return len(xs) + y, nil },
		InputKey("upstream", "other/location/thing"), Deps("generated"))
	return []*Asset{a, b, c}
}

func TestAssetDeps(t *testing.T) {
	r := mustCheck(t, Definitions{Assets: numbersAssets(), AssetJobs: []*AssetJob{NewAssetJob("all", Groups("numbers", "x"))}})
	defs := r.definitions()
	b, c := defs.Assets[1], defs.Assets[2]
	if strings.Join(b.Key, "/") != "wh/doubled" || b.Group != "numbers" || b.Deps[0].Input.Some() != "generated" {
		t.Errorf("asset b: %+v", b)
	}
	if c.Group != "default" || len(c.Deps) != 3 || strings.Join(c.Deps[0].Key, "/") != "wh/doubled" ||
		strings.Join(c.Deps[1].Key, "/") != "other/location/thing" || c.Deps[2].Input.IsSome() {
		t.Errorf("asset c: %+v", c)
	}
	if defs.AssetJobs[0].Selection != "group:numbers,group:x" {
		t.Errorf("selection: %s", defs.AssetJobs[0].Selection)
	}
	orphan := NewAsset1("orphan", "nothing", func(_ *Context, x int) (int, error) { return x, nil }, InputKey("typo", "a/b"))
	wantErrors(t, Definitions{Assets: []*Asset{orphan}},
		"asset `orphan`: input `nothing` names no asset of this location",
		"asset `orphan`: weft.InputKey names `typo`, which is not one of its inputs (nothing)")
}

func TestSensorsAndSchedules(t *testing.T) {
	job := NewJob("j", func(j *Job) { j.Node(gen) })
	sensor := NewSensor("s", func(ctx *SensorContext) (SensorResult, error) {
		if ctx.Cursor == "stop" {
			return Skip("stopped"), nil
		}
		return RunRequests(RunRequest{RunKey: ctx.Cursor + "1", Config: map[string]int{"a": 1}, Tags: map[string]string{"k": "v"}}).WithCursor(ctx.Cursor + "1"), nil
	}, ForJob(job), MinimumInterval(5*time.Second))
	sched := NewSchedule("every_minute", job, "* * * * *", Timezone("Europe/Paris"))
	decides := NewSchedule("decides", job, "0 * * * *", Evaluate(func(ctx *ScheduleContext) (ScheduleResult, error) {
		return ScheduleResult{SkipReason: "holiday " + ctx.ScheduledTime.Format("2006")}, nil
	}))
	Register(Definitions{Jobs: []*Job{job}, Sensors: []*Sensor{sensor}, Schedules: []*Schedule{sched, decides}})
	defer func() { registered, built, registers = nil, nil, 0 }()

	defs := getDefinitions()
	if defs.IsErr() {
		t.Fatal(defs.Err().Message)
	}
	d := defs.Ok()
	if d.Sensors[0].MinimumIntervalSeconds != 5 || d.Sensors[0].Job.Some() != "j" || d.Schedules[0].Timezone.Some() != "Europe/Paris" || d.Schedules[0].Evaluates || !d.Schedules[1].Evaluates {
		t.Errorf("definitions: %+v %+v", d.Sensors, d.Schedules)
	}
	res := evaluateSensor("s", types.SensorContext{Cursor: witTypes.Some("a")})
	got := res.Ok()
	if got.Cursor.Some() != "a1" || got.RunRequests[0].RunKey.Some() != "a1" || got.RunRequests[0].Config.Some() != `{"a":1}` || got.RunRequests[0].Tags[0].F1 != "v" {
		t.Errorf("sensor: %+v", got)
	}
	if skip := evaluateSensor("s", types.SensorContext{Cursor: witTypes.Some("stop")}).Ok(); skip.SkipReason.Some() != "stopped" || skip.Cursor.IsSome() {
		t.Errorf("skip: %+v", skip)
	}
	if evaluateSensor("nope", types.SensorContext{}).Err().Message != "this location has no sensor `nope`" {
		t.Error("unknown sensor")
	}
	if r := evaluateSchedule("every_minute", types.ScheduleContext{}).Ok(); r.Tag() != types.ScheduleResult_RunRequests || len(r.RunRequests()) != 1 {
		t.Errorf("plain schedule: %+v", r)
	}
	if r := evaluateSchedule("decides", types.ScheduleContext{ScheduledTimeMs: 1_700_000_000_000}).Ok(); r.Skip() != "holiday 2023" {
		t.Errorf("evaluated schedule: %+v", r)
	}
	out := execute(types.StepContext{StepKey: "gen", Target: types.MakeStepTargetOp("gen")}, nil)
	if string(out.Ok()[0].Value.Data) != "[1,2,3]" {
		t.Errorf("execute: %+v", out)
	}
	if msg := execute(types.StepContext{Target: types.MakeStepTargetOp("zzz")}, nil).Err().Message; msg != "this location has no op `zzz` (its ops: gen)" {
		t.Errorf("unknown op: %s", msg)
	}
}

func TestRunStatusSensors(t *testing.T) {
	job := NewJob("j", func(j *Job) { j.Node(gen) })
	onFailure := NewRunFailureSensor("on_failure", func(ctx *RunStatusSensorContext) (SensorResult, error) {
		return RunRequests(RunRequest{Tags: map[string]string{"failed": ctx.Run.RunID, "why": ctx.Run.Error, "team": ctx.Run.Tags["team"]}}), nil
	}, MonitoredJobs(job), ForJob(job))
	anywhere := NewRunStatusSensor("anywhere", RunSuccess, func(ctx *RunStatusSensorContext) (SensorResult, error) {
		return Skip(ctx.Run.Location + " " + ctx.Run.Status.String()), nil
	}, MonitorAllCodeLocations())
	wrong := NewRunStatusSensor("wrong", RunStatus(9), func(*RunStatusSensorContext) (SensorResult, error) { return Skip(""), nil }, Timezone("UTC"))
	if len(wrong.errs) != 2 || !strings.Contains(strings.Join(wrong.errs, "\n"), "Timezone") {
		t.Errorf("a bad status and an option sensors do not take: %v", wrong.errs)
	}
	Register(Definitions{Jobs: []*Job{job}, Sensors: []*Sensor{onFailure, anywhere}})
	defer func() { registered, built, registers = nil, nil, 0 }()

	d := getDefinitions().Ok()
	if k := d.Sensors[0].Kind; k.Tag() != types.SensorKind_RunStatus || k.RunStatus().Status != types.RunEnd_Failure || !reflect.DeepEqual(k.RunStatus().MonitoredJobs, []string{"j"}) || k.RunStatus().AllLocations {
		t.Errorf("on_failure: %+v", k)
	}
	if k := d.Sensors[1].Kind; k.Tag() != types.SensorKind_RunStatus || k.RunStatus().Status != types.RunEnd_Success || len(k.RunStatus().MonitoredJobs) != 0 || !k.RunStatus().AllLocations {
		t.Errorf("anywhere: %+v", k)
	}
	run := types.EndedRun{RunId: "r1", Job: "j", Location: "there", Status: types.RunEnd_Failure,
		Tags: []witTypes.Tuple2[string, string]{{F0: "team", F1: "data"}}, Error: witTypes.Some("boom"), EndedMs: 5}
	got := evaluateSensor("on_failure", types.SensorContext{Run: witTypes.Some(run)}).Ok()
	want := map[string]string{"failed": "r1", "why": "boom", "team": "data"}
	seen := map[string]string{}
	for _, tag := range got.RunRequests[0].Tags {
		seen[tag.F0] = tag.F1
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("tags: %v", seen)
	}
	if r := evaluateSensor("anywhere", types.SensorContext{Run: witTypes.Some(run)}).Ok(); r.SkipReason.Some() != "there FAILURE" {
		t.Errorf("anywhere: %+v", r)
	}
	if msg := evaluateSensor("on_failure", types.SensorContext{}).Err().Message; !strings.Contains(msg, "without the run that ended") {
		t.Errorf("no run: %s", msg)
	}
}

func TestNoDefinitionsRegistered(t *testing.T) {
	registered, built = nil, nil
	if msg := getDefinitions().Err().Message; !strings.Contains(msg, "registered no definitions") {
		t.Error(msg)
	}
	built = nil
}

func TestCompatible(t *testing.T) {
	type row struct{ A int }
	type other struct{ B string }
	for _, c := range []struct {
		from, to any
		ok       bool
	}{
		{0, int64(0), true}, {0, 0.0, true}, {0.0, 0, false}, {"", "", true}, {"", 0, false},
		{[]int{}, []float64{}, true}, {[]int{}, 0, false}, {row{}, other{}, true}, {row{}, map[string]int{}, true},
		{map[string]int{}, map[string]string{}, false}, {&row{}, row{}, true}, {0, (*any)(nil), true},
		{[]byte{}, "", true}, {"", []byte{}, false}, {true, false, true},
	} {
		from, to := typeOfValue(c.from), typeOfValue(c.to)
		if got := compatible(from, to); got != c.ok {
			t.Errorf("compatible(%s, %s) = %v, want %v", from, to, got, c.ok)
		}
	}
}

func typeOfValue(v any) reflect.Type {
	t := reflect.TypeOf(v)
	if p, ok := v.(*any); ok && p == nil {
		return t.Elem()
	}
	return t
}
