// Command conformance-go is the conformance code location in Go. conformance-rust and
// conformance-python define the same objects with the same names and behaviour;
// tests/e2e/conformance_errors.rs runs all three and compares what a user sees:
//
//   - explode_job: explode panics with "kaboom";
//   - flaky_job: flaky fails (retryably) on attempts 1 and 2, then returns "ok";
//   - chatty_job: chatty logs "chatty says hi" (info), prints "to stdout", returns 1;
//   - config_job: configured returns its config's factor times 7;
//   - resource_job: resourceful returns the resource greeting (set in weft.yaml);
//   - external_job: external runs a Kubernetes Job (busybox:1.36, sh -c) that prints
//     "job says $GREETING" (GREETING=hello) and exits with its config's code, then returns "done";
//   - k8s_op_job: echo_hello, an op made by weft.K8sJobOp (Dagster's k8s_job_op.configured,
//     described "Echoes hello in a Kubernetes Job"), runs busybox:1.36 printing
//     "hello from k8s_job_op"; after_echo takes the Job's name (job) and returns whether it
//     starts with "weft-job-";
//   - instance_job: instance returns "<$WEFT_INSTANCE_VAR> <a random number>" (the variable
//     granted, the number drawn from the language's own generator: math/rand here);
//   - nap_job: nap sleeps its config's ms milliseconds (a blocking WASI call), returns ms;
//   - flood_job: flood logs lines lines ("line <i>") each with a field payload of
//     field_bytes bytes, returns lines;
//   - huge_job: huge returns a string of its config's mb MiB;
//   - fetch_job: fetch sends its config's method (GET by default) to its config's url with
//     http.DefaultClient (its JSON body, as application/json, when the config has one) and
//     returns {"status": <status code>, "body": <the response's body as JSON, or as a
//     string when it is not JSON>}; an error fails it with the error's text (a request to
//     a host the location is not granted fails naming the grant); with times (1 unless
//     given) it sends the request that many times in a row and answers the last (the
//     benchmark's requests after a step's first);
//   - parity_job: evens_odds has two outputs, even (the even numbers of 1..upto) and the
//     optional odd (the odd ones, left out when its config's odd is false); its config
//     schema gives upto 4 and odd true by default. Each output has the int metadata count
//     (= upto); even also the float ratio 0.5 and the url doc. total_even and total_odd
//     (the op total) sum each;
//   - graph_job: one (1) into the graph twice (add_one twice: the nodes twice.add_one and
//     twice.add_one_2), then into twice again under the alias again;
//   - fanout_job: fan_out has one dynamic output, result: the ints 1..n (its config's n, 3 by
//     default), i under the mapping key k<i>; square (retry policy: 1 retry, 1 ms) is mapped
//     over it (the steps square[k1], square[k2], square[k3]): it logs "square <mapping key>"
//     (info), fails retryably with "square k2: first attempt fails" on attempt 1 of k2, fails
//     not retryably with "square <mapping key> fails on purpose" when the tag square_fails
//     is its mapping key and the run is not a re-execution (no tag weft/parent_run_id), and
//     returns x * x otherwise; add_one is mapped over square (add_one[k1], ...); total
//     collects add_one's values (its input values): 2 + 5 + 10 = 17;
//   - hooks_job: fine returns 1; broken fails (not retryably) with "broken on purpose". The
//     job's hooks: announce (success: logs "announce: <step key> of <job> succeeded") and
//     alarm (failure: logs "alarm: <op> failed" with the field saw_failure, yes when the
//     failure names "broken on purpose"); broken alone also has grumpy (failure), which
//     fails with "grumpy hook fails";
//   - the asset scored (asset job scored_job) returns its config's score (1.0 by
//     default), with the metadata score (a float, the same) and rows (the int 3);
//   - the asset scored_twice depends on scored (its input scored) and returns scored * 2;
//   - the asset checks of scored: scored_is_positive (blocking) passes when scored > 0, with
//     the metadata score (the score, a float); scored_is_small (not blocking) passes when
//     scored < 10, with severity warn; the asset job checked_job selects scored+ (scored,
//     scored_twice, and the checks of scored);
//   - the multi-asset split_scores (can subset) takes scored (its input scored) and has the
//     outs low and high (the assets low and high, group split): low = scored - 1 and
//     high = scored + 1, each with the text metadata side ("low", "high"); it returns only
//     those the run selected; the asset spread (group split) depends on low and high (its
//     inputs low and high) and returns high - low; the asset jobs split_job (selection
//     "scored,low,high,spread") and low_job (selection "low");
//   - the graph asset boosted (group default) depends on scored (its input scored) and is
//     add_half(double_score(scored)): the ops double_score (input x, a float) returns 2x
//     and add_half (input x, a float) returns x + 0.5, the nodes boosted.double_score (its
//     input x fed by scored) and boosted.add_half, whose result is the asset's value; the
//     asset job boosted_job (selection "scored,boosted");
//   - cursor_sensor: run key "key-<cursor>" (no cursor: "0"), new cursor <cursor> + 1;
//   - explode_alert: a run-failure sensor on explode_job asking for chatty_job with the tags
//     failed_run, failed_status (FAILURE) and saw_kaboom (yes when the error names kaboom).
//
// Build: weft build tests/guests/conformance-go -o conformance-go.wasm
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	weft "example.invalid/weft/guest-sdk/go"
	_ "example.invalid/weft/guest-sdk/go/http" // http.DefaultTransport over wasi:http
)

var explode = weft.NewOp0("explode", func(*weft.Context) (int, error) {
	panic("kaboom")
})

var flaky = weft.NewOp0("flaky", func(ctx *weft.Context) (string, error) {
	if ctx.Attempt < 3 {
		return "", fmt.Errorf("flaky: attempt %d fails", ctx.Attempt)
	}
	return "ok", nil
}, weft.Retry(weft.RetryPolicy{MaxRetries: 3, Delay: time.Millisecond}))

var chatty = weft.NewOp0("chatty", func(ctx *weft.Context) (int, error) {
	ctx.Log.Info("chatty says hi")
	fmt.Println("to stdout")
	return 1, nil
})

var configured = weft.NewOp0("configured", func(ctx *weft.Context) (int, error) {
	var config struct {
		Factor int `json:"factor"`
	}
	if err := ctx.Config(&config); err != nil {
		return 0, err
	}
	return config.Factor * 7, nil
}, weft.ConfigSchema(`{"type":"object","properties":{"factor":{"type":"integer"}},"required":["factor"]}`))

var resourceful = weft.NewOp0("resourceful", func(ctx *weft.Context) (string, error) {
	greeting, ok := ctx.Resource("greeting")
	if !ok {
		return "", weft.Permanentf("no resource `greeting`: set it in weft.yaml")
	}
	return greeting.Text(), nil
})

var external = weft.NewOp0("external", func(ctx *weft.Context) (string, error) {
	var config struct {
		Code int `json:"code"`
	}
	if err := ctx.Config(&config); err != nil {
		return "", err
	}
	_, err := weft.ExecuteK8sJob(ctx, weft.K8sJob{
		Image:   "busybox:1.36",
		Command: []string{"sh", "-c"},
		Args:    []string{fmt.Sprintf("echo job says $GREETING; exit %d", config.Code)},
		Env:     map[string]string{"GREETING": "hello"},
	})
	if err != nil {
		return "", err
	}
	return "done", nil
}, weft.ConfigSchema(`{"type":"object","properties":{"code":{"type":"integer"}},"required":["code"]}`))

var instance = weft.NewOp0("instance", func(*weft.Context) (string, error) {
	return fmt.Sprintf("%s %d", os.Getenv("WEFT_INSTANCE_VAR"), rand.Uint64()), nil
})

var nap = weft.NewOp0("nap", func(ctx *weft.Context) (int, error) {
	var config struct {
		Ms int `json:"ms"`
	}
	if err := ctx.Config(&config); err != nil {
		return 0, err
	}
	time.Sleep(time.Duration(config.Ms) * time.Millisecond)
	return config.Ms, nil
}, weft.ConfigSchema(`{"type":"object","properties":{"ms":{"type":"integer"}},"required":["ms"]}`))

var flood = weft.NewOp0("flood", func(ctx *weft.Context) (int, error) {
	var config struct {
		Lines      int `json:"lines"`
		FieldBytes int `json:"field_bytes"`
	}
	if err := ctx.Config(&config); err != nil {
		return 0, err
	}
	payload := strings.Repeat("x", config.FieldBytes)
	for i := 0; i < config.Lines; i++ {
		ctx.Log.Info(fmt.Sprintf("line %d", i), "payload", payload)
	}
	return config.Lines, nil
}, weft.ConfigSchema(`{"type":"object","properties":{"lines":{"type":"integer"},"field_bytes":{"type":"integer"}},"required":["lines","field_bytes"]}`))

var huge = weft.NewOp0("huge", func(ctx *weft.Context) (string, error) {
	var config struct {
		Mb int `json:"mb"`
	}
	if err := ctx.Config(&config); err != nil {
		return "", err
	}
	return strings.Repeat("x", config.Mb<<20), nil
}, weft.ConfigSchema(`{"type":"object","properties":{"mb":{"type":"integer"}},"required":["mb"]}`))

var fetch = weft.NewOp0("fetch", func(ctx *weft.Context) (map[string]any, error) {
	var config struct {
		URL    string          `json:"url"`
		Method string          `json:"method"`
		Body   json.RawMessage `json:"body"`
		Times  int             `json:"times"`
	}
	if err := ctx.Config(&config); err != nil {
		return nil, err
	}
	var answer map[string]any
	for i := 0; i < max(config.Times, 1); i++ {
		var err error
		if answer, err = send(config.Method, config.URL, config.Body); err != nil {
			return nil, err
		}
	}
	return answer, nil
}, weft.ConfigSchema(`{"type":"object","properties":{"url":{"type":"string"},"method":{"type":"string"},"times":{"type":"integer","minimum":1}},"required":["url"]}`))

// send is one request of fetch, answered as {"status": ..., "body": ...}.
func send(method, url string, jsonBody json.RawMessage) (map[string]any, error) {
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if len(jsonBody) > 0 && string(jsonBody) != "null" {
		body = bytes.NewReader(jsonBody)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var parsed any
	if err := json.Unmarshal(data, &parsed); err != nil {
		parsed = string(data)
	}
	return map[string]any{"status": resp.StatusCode, "body": parsed}, nil
}

var evensOdds = weft.NewOp0("evens_odds", func(ctx *weft.Context) (weft.Results, error) {
	var config struct {
		Upto int  `json:"upto"`
		Odd  bool `json:"odd"`
	}
	if err := ctx.Config(&config); err != nil {
		return nil, err
	}
	even, odd := []int{}, []int{}
	for n := 1; n <= config.Upto; n++ {
		if n%2 == 0 {
			even = append(even, n)
		} else {
			odd = append(odd, n)
		}
	}
	ctx.AddOutputMetadata("count", config.Upto)
	ctx.AddMetadataTo("even", "ratio", 0.5)
	ctx.AddMetadataTo("even", "doc", weft.URL("https://docs.dagster.io"))
	out := weft.Results{"even": even}
	if config.Odd {
		out["odd"] = odd
	}
	return out, nil
}, weft.ConfigSchema(`{"type":"object","properties":{"upto":{"type":"integer","default":4},"odd":{"type":"boolean","default":true}},"additionalProperties":false}`), weft.Outs("even", "odd"), weft.Optional("odd"))

var total = weft.NewOp1("total", "values", func(_ *weft.Context, values []int) (int, error) {
	sum := 0
	for _, v := range values {
		sum += v
	}
	return sum, nil
})

var parityJob = weft.NewJob("parity_job", func(j *weft.Job) {
	split := j.Node(evensOdds)
	j.Node(total, split.Out("even")).Alias("total_even")
	j.Node(total, split.Out("odd")).Alias("total_odd")
})

var one = weft.NewOp0("one", func(*weft.Context) (int, error) { return 1, nil })

var addOne = weft.NewOp1("add_one", "x", func(_ *weft.Context, x int) (int, error) { return x + 1, nil })

var twice = weft.NewGraph("twice", func(j *weft.Job, in ...any) any {
	return j.Node(addOne, j.Node(addOne, in[0])).Alias("add_one_2")
})

var graphJob = weft.NewJob("graph_job", func(j *weft.Job) {
	two := twice.Call(j, j.Node(one))
	twice.Alias("again").Call(j, two)
})

var fanOut = weft.NewOp0("fan_out", func(ctx *weft.Context) (weft.Dynamic[int], error) {
	config := struct {
		N int `json:"n"`
	}{N: 3}
	if ctx.HasConfig() {
		if err := ctx.Config(&config); err != nil {
			return nil, err
		}
	}
	var out weft.Dynamic[int]
	for i := 1; i <= config.N; i++ {
		out.Add(fmt.Sprintf("k%d", i), i)
	}
	return out, nil
}, weft.ConfigSchema(`{"type":"object","properties":{"n":{"type":"integer","default":3}},"additionalProperties":false}`))

var square = weft.NewOp1("square", "x", func(ctx *weft.Context, x int) (int, error) {
	key := ctx.MappingKey
	ctx.Log.Info("square " + key)
	if key == "k2" && ctx.Attempt == 1 {
		return 0, errors.New("square k2: first attempt fails")
	}
	_, rerun := ctx.Tags["weft/parent_run_id"]
	if fails, ok := ctx.Tags["square_fails"]; ok && fails == key && !rerun {
		return 0, weft.Permanentf("square %s fails on purpose", key)
	}
	return x * x, nil
}, weft.Retry(weft.RetryPolicy{MaxRetries: 1, Delay: time.Millisecond}))

var fanoutJob = weft.NewJob("fanout_job", func(j *weft.Job) {
	j.Node(total, j.Node(fanOut).Map(square).Map(addOne).Collect())
})

var fine = weft.NewOp0("fine", func(*weft.Context) (int, error) { return 1, nil })

var broken = weft.NewOp0("broken", func(*weft.Context) (int, error) {
	return 0, weft.Permanentf("broken on purpose")
})

var announce = weft.NewSuccessHook("announce", func(ctx *weft.HookContext) error {
	ctx.Log.Info(fmt.Sprintf("announce: %s of %s succeeded", ctx.StepKey, ctx.Job))
	return nil
})

var alarm = weft.NewFailureHook("alarm", func(ctx *weft.HookContext) error {
	saw := "no"
	if strings.Contains(ctx.Failure, "broken on purpose") {
		saw = "yes"
	}
	ctx.Log.Info(fmt.Sprintf("alarm: %s failed", ctx.Op), "saw_failure", saw)
	return nil
})

var grumpy = weft.NewFailureHook("grumpy", func(*weft.HookContext) error {
	return errors.New("grumpy hook fails")
})

var hooksJob = weft.NewJob("hooks_job", func(j *weft.Job) {
	j.Node(fine)
	j.Node(broken).WithHooks(grumpy)
}, weft.Hooks(announce, alarm))

type scoreConfig struct {
	Score float64 `json:"score" default:"1.0"`
}

var scored = weft.NewAsset0("scored", func(ctx *weft.Context) (float64, error) {
	var config scoreConfig
	if err := ctx.Config(&config); err != nil {
		return 0, err
	}
	ctx.AddOutputMetadata("score", config.Score)
	ctx.AddOutputMetadata("rows", 3)
	return config.Score, nil
}, weft.ConfigOf[scoreConfig]())

var scoredJob = weft.NewAssetJob("scored_job", weft.Keys("scored"))

var scoredTwice = weft.NewAsset1("scored_twice", "scored", func(_ *weft.Context, scored float64) (float64, error) {
	return scored * 2, nil
})

var scoredIsPositive = weft.NewAssetCheck1("scored_is_positive", scored, func(_ *weft.Context, scored float64) (weft.CheckResult, error) {
	return weft.CheckResult{Passed: scored > 0, Metadata: map[string]any{"score": scored}}, nil
}, weft.Blocking())

var scoredIsSmall = weft.NewAssetCheck1("scored_is_small", scored, func(_ *weft.Context, scored float64) (weft.CheckResult, error) {
	return weft.CheckResult{Passed: scored < 10, Severity: weft.SeverityWarn}, nil
})

var checkedJob = weft.NewAssetJob("checked_job", "scored+")

var splitScores = weft.NewMultiAsset1("split_scores", []weft.AssetOut{
	{Output: "low", Key: "low", Group: "split"},
	{Output: "high", Key: "high", Group: "split"},
}, "scored", func(ctx *weft.Context, scored float64) (weft.Results, error) {
	out := weft.Results{}
	if ctx.IsSelected("low") {
		ctx.AddMetadataTo("low", "side", "low")
		out["low"] = scored - 1
	}
	if ctx.IsSelected("high") {
		ctx.AddMetadataTo("high", "side", "high")
		out["high"] = scored + 1
	}
	return out, nil
}, weft.CanSubset())

var spread = weft.NewAsset2("spread", "low", "high", func(_ *weft.Context, low, high float64) (float64, error) {
	return high - low, nil
}, weft.Group("split"))

var splitJob = weft.NewAssetJob("split_job", "scored,low,high,spread")

var lowJob = weft.NewAssetJob("low_job", "low")

var doubleScore = weft.NewOp1("double_score", "x", func(_ *weft.Context, x float64) (float64, error) {
	return 2 * x, nil
})

var addHalf = weft.NewOp1("add_half", "x", func(_ *weft.Context, x float64) (float64, error) {
	return x + 0.5, nil
})

var boosted = weft.NewGraphAsset1("boosted", "scored", func(j *weft.Job, scored any) any {
	return j.Node(addHalf, j.Node(doubleScore, scored))
})

var boostedJob = weft.NewAssetJob("boosted_job", "scored,boosted")

var explodeJob = weft.NewJob("explode_job", func(j *weft.Job) { j.Node(explode) })

var flakyJob = weft.NewJob("flaky_job", func(j *weft.Job) { j.Node(flaky) })

var chattyJob = weft.NewJob("chatty_job", func(j *weft.Job) { j.Node(chatty) })

var configJob = weft.NewJob("config_job", func(j *weft.Job) { j.Node(configured) })

var resourceJob = weft.NewJob("resource_job", func(j *weft.Job) { j.Node(resourceful) })

var externalJob = weft.NewJob("external_job", func(j *weft.Job) { j.Node(external) })

var echoHello = weft.K8sJobOp("echo_hello", weft.K8sJob{
	Image:   "busybox:1.36",
	Command: []string{"sh", "-c"},
	Args:    []string{"echo hello from k8s_job_op"},
}, weft.Description("Echoes hello in a Kubernetes Job"))

var afterEcho = weft.NewOp1("after_echo", "job", func(_ *weft.Context, job string) (bool, error) {
	return strings.HasPrefix(job, "weft-job-"), nil
})

var k8sOpJob = weft.NewJob("k8s_op_job", func(j *weft.Job) {
	j.Node(afterEcho, j.Node(echoHello))
})

var instanceJob = weft.NewJob("instance_job", func(j *weft.Job) { j.Node(instance) })

var napJob = weft.NewJob("nap_job", func(j *weft.Job) { j.Node(nap) })

var floodJob = weft.NewJob("flood_job", func(j *weft.Job) { j.Node(flood) })

var hugeJob = weft.NewJob("huge_job", func(j *weft.Job) { j.Node(huge) })

var fetchJob = weft.NewJob("fetch_job", func(j *weft.Job) { j.Node(fetch) })

var cursorSensor = weft.NewSensor("cursor_sensor", func(ctx *weft.SensorContext) (weft.SensorResult, error) {
	cursor := "0"
	if ctx.HasCursor {
		cursor = ctx.Cursor
	}
	n, err := strconv.Atoi(cursor)
	if err != nil {
		return weft.SensorResult{}, fmt.Errorf("cursor %q is not a number: %w", cursor, err)
	}
	return weft.RunRequests(weft.RunRequest{RunKey: "key-" + cursor}).WithCursor(strconv.Itoa(n + 1)), nil
}, weft.ForJob(chattyJob), weft.MinimumInterval(30*time.Second))

var explodeAlert = weft.NewRunFailureSensor("explode_alert", func(ctx *weft.RunStatusSensorContext) (weft.SensorResult, error) {
	kaboom := "no"
	if strings.Contains(ctx.Run.Error, "kaboom") {
		kaboom = "yes"
	}
	return weft.RunRequests(weft.RunRequest{Tags: map[string]string{
		"failed_run":    ctx.Run.RunID,
		"failed_status": ctx.Run.Status.String(),
		"saw_kaboom":    kaboom,
	}}), nil
}, weft.MonitoredJobs(explodeJob), weft.ForJob(chattyJob))

func init() {
	weft.Register(weft.Definitions{
		Jobs:        []*weft.Job{explodeJob, flakyJob, chattyJob, configJob, resourceJob, externalJob, k8sOpJob, instanceJob, napJob, floodJob, hugeJob, fetchJob, parityJob, graphJob, hooksJob, fanoutJob},
		Sensors:     []*weft.Sensor{cursorSensor, explodeAlert},
		Assets:      []*weft.Asset{scored, scoredTwice, spread, boosted},
		AssetJobs:   []*weft.AssetJob{scoredJob, checkedJob, splitJob, lowJob, boostedJob},
		AssetChecks: []*weft.AssetCheck{scoredIsPositive, scoredIsSmall},
		MultiAssets: []*weft.MultiAsset{splitScores},
	})
}

func main() {}
