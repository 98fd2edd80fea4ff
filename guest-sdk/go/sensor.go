// Sensors and schedules (Dagster's @sensor, @run_status_sensor, ScheduleDefinition):
// NewSensor, NewRunStatusSensor, NewSchedule, and what an evaluation returns (RunRequest,
// SensorResult, Skip).

package weft

import (
	"encoding/json"
	"fmt"
	"time"
)

// RunRequest asks for a run (Dagster's RunRequest), from a sensor or a schedule.
type RunRequest struct {
	// RunKey de-duplicates: the host launches at most one run per sensor and run key.
	RunKey string
	// Job is the job to run; the sensor's or schedule's job when nil.
	Job JobRef
	// Config is the run config: a value encoded as JSON, or JSON text as a
	// json.RawMessage, e.g. map[string]any{"ops": map[string]any{"scale": ...}}.
	Config any
	Tags   map[string]string
}

// SensorResult is what a sensor evaluation returns: run requests, or a skip reason, and
// optionally a new cursor. Make one with [RunRequests] or [Skip].
type SensorResult struct {
	RunRequests []RunRequest
	// SkipReason says why no run was requested (Dagster's SkipReason).
	SkipReason string
	cursor     *string
}

// RunRequests is a result asking for these runs.
func RunRequests(requests ...RunRequest) SensorResult {
	return SensorResult{RunRequests: requests}
}

// Skip is a result asking for no run, for this reason.
func Skip(reason string) SensorResult {
	return SensorResult{SkipReason: reason}
}

// WithCursor returns r with a new cursor, which the next evaluation receives.
func (r SensorResult) WithCursor(cursor string) SensorResult {
	r.cursor = &cursor
	return r
}

// SensorContext is what the daemon tells a sensor evaluation.
type SensorContext struct {
	// Cursor is the cursor the previous evaluation returned ("" if none; see HasCursor).
	Cursor    string
	HasCursor bool
	// LastEvaluation is when the previous evaluation happened (zero if never).
	LastEvaluation time.Time
	// Log writes to the tick's log.
	Log *Logger
	// run is the run that ended, for a run-status sensor.
	run *EndedRun
}

// Resource is the resource name set for the location, if any (see [Context.Resource]).
func (c *SensorContext) Resource(name string) (Resource, bool) { return getResource(name) }

// Sensor is a sensor (Dagster's @sensor): a function the daemon calls every minimum
// interval, which asks for runs or says why not.
type Sensor struct {
	name     string
	s        settings
	evaluate func(*SensorContext) (SensorResult, error)
	// runStatus is the status a run-status sensor reacts to (0 for a plain sensor).
	runStatus RunStatus
	errs      []string
}

// RunStatus is how a run ended (the ends of Dagster's DagsterRunStatus).
type RunStatus uint8

const (
	RunSuccess RunStatus = iota + 1
	RunFailure
	RunCanceled
)

func (s RunStatus) String() string {
	switch s {
	case RunSuccess:
		return "SUCCESS"
	case RunFailure:
		return "FAILURE"
	case RunCanceled:
		return "CANCELED"
	}
	return fmt.Sprintf("RunStatus(%d)", uint8(s))
}

// EndedRun is a run that ended, as a run-status sensor sees it (Dagster's
// context.dagster_run).
type EndedRun struct {
	RunID string
	// Job is the job (or asset job) that ran.
	Job string
	// Location is the code location it belongs to.
	Location string
	Status   RunStatus
	Tags     map[string]string
	// Error says why it failed, for a failed run.
	Error string
	Ended time.Time
}

// RunStatusSensorContext is what the daemon tells a run-status sensor: the run that
// ended (Dagster's RunStatusSensorContext).
type RunStatusSensorContext struct {
	Run EndedRun
	// Log writes to the tick's log.
	Log *Logger
}

// Resource is the resource name set for the location, if any (see [Context.Resource]).
func (c *RunStatusSensorContext) Resource(name string) (Resource, bool) { return getResource(name) }

// NewRunStatusSensor makes a run-status sensor (Dagster's @run_status_sensor): the daemon
// calls evaluate once for each run of a watched job that ended with status, oldest first.
// It watches every job of its location unless [MonitoredJobs] names some; with
// [MonitorAllCodeLocations], runs of every location. Its run requests launch [ForJob]'s
// job (Dagster's request_job) under the ended run's id as run key, unless they say
// otherwise.
//
//	var onFailure = weft.NewRunStatusSensor("on_failure", weft.RunFailure,
//		func(ctx *weft.RunStatusSensorContext) (weft.SensorResult, error) {
//			ctx.Log.Warn(ctx.Run.Job + " failed: " + ctx.Run.Error)
//			return weft.Skip("reported"), nil
//		},
//		weft.MonitoredJobs(processNumbers))
func NewRunStatusSensor(name string, status RunStatus, evaluate func(ctx *RunStatusSensorContext) (SensorResult, error), opts ...Option) *Sensor {
	what := fmt.Sprintf("run-status sensor `%s`", name)
	var wrapped func(*SensorContext) (SensorResult, error)
	if evaluate != nil {
		wrapped = func(c *SensorContext) (SensorResult, error) {
			if c.run == nil {
				return SensorResult{}, Permanent(fmt.Errorf("%s was evaluated without the run that ended", what))
			}
			return evaluate(&RunStatusSensorContext{Run: *c.run, Log: c.Log})
		}
	}
	s := newSensor(what, name, wrapped, runStatusSensorOptions, opts)
	s.runStatus = status
	if status < RunSuccess || status > RunCanceled {
		s.errs = append(s.errs, fmt.Sprintf("%s: the status is weft.RunSuccess, weft.RunFailure or weft.RunCanceled", what))
	}
	return s
}

// NewRunFailureSensor is [NewRunStatusSensor] for failed runs (Dagster's
// @run_failure_sensor).
func NewRunFailureSensor(name string, evaluate func(ctx *RunStatusSensorContext) (SensorResult, error), opts ...Option) *Sensor {
	return NewRunStatusSensor(name, RunFailure, evaluate, opts...)
}

// NewSensor makes the sensor name:
//
//	var checkFile = weft.NewSensor("check_file_sensor",
//		func(ctx *weft.SensorContext) (weft.SensorResult, error) {
//			if _, err := os.Stat("/check"); err == nil {
//				return weft.RunRequests(weft.RunRequest{RunKey: "check_file_exists"}), nil
//			}
//			return weft.Skip("check file not exists"), nil
//		},
//		weft.ForJob(processNumbers), weft.MinimumInterval(5*time.Second))
func NewSensor(name string, evaluate func(ctx *SensorContext) (SensorResult, error), opts ...Option) *Sensor {
	return newSensor(fmt.Sprintf("sensor `%s`", name), name, evaluate, sensorOptions, opts)
}

func newSensor(what, name string, evaluate func(*SensorContext) (SensorResult, error), allowed []string, opts []Option) *Sensor {
	s, errs := apply(what, allowed, opts)
	if !isIdentifier(name) {
		errs = append(errs, what+": the name must be letters, digits and _ ([A-Za-z0-9_]+)")
	}
	if evaluate == nil {
		errs = append(errs, what+": its function is nil")
	}
	if s.interval == 0 {
		s.interval = 30 * time.Second
	}
	if s.interval < time.Second {
		errs = append(errs, what+": the minimum interval is at least one second")
	}
	return &Sensor{name: name, s: s, evaluate: evaluate, errs: errs}
}

// ScheduleContext is what the daemon tells a schedule evaluation.
type ScheduleContext struct {
	// ScheduledTime is the tick's scheduled time.
	ScheduledTime time.Time
	// Log writes to the tick's log.
	Log *Logger
}

// ScheduleResult is what a schedule evaluation returns for one tick: run requests, or,
// with none and a SkipReason, a skip.
type ScheduleResult struct {
	RunRequests []RunRequest
	SkipReason  string
}

// Schedule is a schedule (Dagster's ScheduleDefinition): runs a job on a cron schedule.
type Schedule struct {
	name string
	job  JobRef
	cron string
	s    settings
	errs []string
}

// NewSchedule makes the schedule name, launching job on the five-field cron (in UTC
// unless [Timezone] says otherwise). With [Evaluate] its function decides each tick.
func NewSchedule(name string, job JobRef, cron string, opts ...Option) *Schedule {
	what := fmt.Sprintf("schedule `%s`", name)
	s, errs := apply(what, scheduleOptions, opts)
	if !isIdentifier(name) {
		errs = append(errs, what+": the name must be letters, digits and _ ([A-Za-z0-9_]+)")
	}
	if job == nil {
		errs = append(errs, what+": its job is nil")
	}
	return &Schedule{name: name, job: job, cron: cron, s: s, errs: errs}
}

// config encodes a run request's config as JSON text.
func (r RunRequest) config() (string, bool, error) {
	switch c := r.Config.(type) {
	case nil:
		return "", false, nil
	case json.RawMessage:
		if !json.Valid(c) {
			return "", false, fmt.Errorf("run request config is not valid JSON")
		}
		return string(c), true, nil
	default:
		data, err := json.Marshal(c)
		if err != nil {
			return "", false, fmt.Errorf("cannot encode run request config as JSON: %w", err)
		}
		return string(data), true, nil
	}
}
