// Options: the properties of an op, asset (graph asset), multi-asset, asset check, job, asset job,
// schedule, sensor or hook given to its constructor (weft.Description, weft.Retry,
// weft.Blocking, weft.CanSubset, ...), and which of them each constructor takes.

package weft

import (
	"fmt"
	"strings"
	"time"
)

// Backoff says how the delay between two attempts of a failed step grows.
type Backoff uint8

const (
	// Constant waits the same delay before every retry.
	Constant Backoff = iota
	// Exponential doubles the delay after every retry.
	Exponential
)

// RetryPolicy is an op's or asset's retry policy (Dagster's RetryPolicy): a step that
// fails retryably is tried again up to MaxRetries more times.
type RetryPolicy struct {
	MaxRetries uint32
	// Delay before the first retry (rounded down to milliseconds).
	Delay   time.Duration
	Backoff Backoff
}

// DefaultStatus says whether a schedule or sensor runs as soon as its location loads.
type DefaultStatus uint8

const (
	// Stopped: started by hand (Dagster's default).
	Stopped DefaultStatus = iota
	// Running: started when the location loads.
	Running
)

// Option sets a property of an op, asset, multi-asset, asset check, job, asset job,
// schedule, sensor or hook. Each constructor accepts the options that apply to what it
// makes and reports any other one as a definition error naming the object.
type Option struct {
	name string
	set  func(*settings)
}

// settings collects the options given to one constructor.
type settings struct {
	description   string
	tags          [][2]string
	retry         *RetryPolicy
	configSchema  string
	configErr     string
	group         string
	keyPrefix     []string
	kinds         []string
	inputKeys     map[string][]string
	deps          [][]string
	timezone      string
	defaultStatus DefaultStatus
	job           JobRef
	interval      time.Duration
	monitored     []JobRef
	allLocations  bool
	evaluate      func(*ScheduleContext) (ScheduleResult, error)
	outs          []string
	optional      []string
	dynamic       []string
	hooks         []*Hook
	blocking      bool
	canSubset     bool
	applied       []string
}

// apply runs opts and returns a definition error for each option that `what` (e.g.
// "op `add_one`") does not take.
func apply(what string, allowed []string, opts []Option) (settings, []string) {
	var s settings
	var errs []string
	for _, opt := range opts {
		if opt.set == nil {
			errs = append(errs, fmt.Sprintf("%s: a zero weft.Option was given", what))
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == opt.name
		}
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: option weft.%s does not apply here (it takes %s)", what, opt.name, strings.Join(prefixed(allowed), ", ")))
			continue
		}
		opt.set(&s)
	}
	return s, errs
}

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "weft." + n
	}
	return out
}

var (
	opOptions       = []string{"Description", "Tag", "Tags", "Retry", "ConfigSchema", "Outs", "Optional", "DynamicOuts"}
	assetOptions    = []string{"Description", "Tag", "Tags", "Retry", "ConfigSchema", "Group", "KeyPrefix", "Kinds", "InputKey", "Deps"}
	jobOptions      = []string{"Description", "Tag", "Tags", "Hooks"}
	assetJobOptions = []string{"Description", "Tag", "Tags"}
	hookOptions     = []string{"Description"}
	checkOptions    = []string{"Description", "Blocking"}
	scheduleOptions = []string{"Description", "Tag", "Tags", "Timezone", "DefaultRunning", "Evaluate"}
	sensorOptions   = []string{"Description", "DefaultRunning", "ForJob", "MinimumInterval"}
	// runStatusSensorOptions are a sensor's and what it watches.
	runStatusSensorOptions = append([]string{"MonitoredJobs", "MonitorAllCodeLocations"}, sensorOptions...)
	// multiAssetOptions apply to every asset of the multi-asset (its [AssetOut]s give each
	// one's group and description).
	multiAssetOptions = []string{"Tag", "Tags", "Retry", "ConfigSchema", "Group", "Kinds", "InputKey", "Deps", "CanSubset"}
	// graphAssetOptions are an asset's but retries and config, which are its ops'.
	graphAssetOptions = []string{"Description", "Tag", "Tags", "Group", "KeyPrefix", "Kinds", "InputKey", "Deps"}
)

// Description describes the object (shown in the UI and by `weft check`).
func Description(text string) Option {
	return Option{"Description", func(s *settings) { s.description = text }}
}

// Tag adds one tag (`domain=numbers`): to an op's or asset's steps, a job's runs, a
// schedule's runs.
func Tag(key, value string) Option {
	return Option{"Tag", func(s *settings) { s.tags = append(s.tags, [2]string{key, value}) }}
}

// Tags adds several tags, in key order.
func Tags(tags map[string]string) Option {
	return Option{"Tags", func(s *settings) {
		for _, k := range sortedKeys(tags) {
			s.tags = append(s.tags, [2]string{k, tags[k]})
		}
	}}
}

// Retry sets the retry policy of an op's or asset's steps.
func Retry(policy RetryPolicy) Option {
	return Option{"Retry", func(s *settings) { p := policy; s.retry = &p }}
}

// ConfigSchema declares the JSON Schema of an op's config: the host checks run config
// against it before a run is created, naming the path of every error, and fills in the
// defaults it gives. [ConfigOf] derives it from a struct.
func ConfigSchema(schema string) Option {
	return Option{"ConfigSchema", func(s *settings) { s.configSchema = schema }}
}

// Group puts an asset in a group (Dagster's group_name); `default` otherwise.
func Group(name string) Option {
	return Option{"Group", func(s *settings) { s.group = name }}
}

// KeyPrefix prefixes an asset's key: KeyPrefix("warehouse") makes `orders` the key
// `warehouse/orders`.
func KeyPrefix(parts ...string) Option {
	return Option{"KeyPrefix", func(s *settings) { s.keyPrefix = append(s.keyPrefix, parts...) }}
}

// Kinds says what computes or stores an asset (Dagster's kinds), e.g. "go", "s3".
func Kinds(kinds ...string) Option {
	return Option{"Kinds", func(s *settings) { s.kinds = append(s.kinds, kinds...) }}
}

// InputKey feeds the asset input `input` from the asset `key` (`a/b`), which may belong
// to another code location. Without it an input is fed from the asset of this location
// with the same prefix and the input's name, or else the only one with that name.
func InputKey(input, key string) Option {
	return Option{"InputKey", func(s *settings) {
		if s.inputKeys == nil {
			s.inputKeys = map[string][]string{}
		}
		s.inputKeys[input] = splitKey(key)
	}}
}

// Deps adds ordering-only upstream assets by key (`a/b`), as Dagster's deps=[...]: they
// are materialized first but their values are not passed in.
func Deps(keys ...string) Option {
	return Option{"Deps", func(s *settings) {
		for _, k := range keys {
			s.deps = append(s.deps, splitKey(k))
		}
	}}
}

// Timezone sets the IANA time zone a schedule's cron is read in (UTC otherwise).
func Timezone(name string) Option {
	return Option{"Timezone", func(s *settings) { s.timezone = name }}
}

// DefaultRunning starts a schedule or sensor as soon as its location loads.
func DefaultRunning() Option {
	return Option{"DefaultRunning", func(s *settings) { s.defaultStatus = Running }}
}

// Evaluate makes a schedule decide each tick (run config, tags, or a skip) instead of
// launching its job with no config.
func Evaluate(fn func(ctx *ScheduleContext) (ScheduleResult, error)) Option {
	return Option{"Evaluate", func(s *settings) { s.evaluate = fn }}
}

// ForJob names the job a sensor's run requests launch unless a request names another.
func ForJob(job JobRef) Option {
	return Option{"ForJob", func(s *settings) { s.job = job }}
}

// MonitoredJobs names the jobs a run-status sensor watches (every job of its location
// when not given). A job of another location is [JobNamed], with [MonitorAllCodeLocations].
func MonitoredJobs(jobs ...JobRef) Option {
	return Option{"MonitoredJobs", func(s *settings) { s.monitored = append(s.monitored, jobs...) }}
}

// MonitorAllCodeLocations makes a run-status sensor watch runs of every code location,
// not only its own.
func MonitorAllCodeLocations() Option {
	return Option{"MonitorAllCodeLocations", func(s *settings) { s.allLocations = true }}
}

// MinimumInterval sets how often the daemon evaluates a sensor (whole seconds; 30 s
// when not given, as in Dagster).
func MinimumInterval(d time.Duration) Option {
	return Option{"MinimumInterval", func(s *settings) { s.interval = d }}
}

func splitKey(key string) []string {
	return strings.Split(strings.TrimPrefix(key, "key:"), "/")
}
