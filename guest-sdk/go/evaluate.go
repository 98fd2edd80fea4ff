// sensors.evaluate and schedules.evaluate: a sensor's or schedule's function called, its
// run requests encoded.

package weft

import (
	"fmt"
	"os"
	"runtime/debug"
	"time"

	witTypes "example.invalid/weft/guest-sdk/go/internal/witrt/types"
	types "example.invalid/weft/guest-sdk/go/wit/imports/weft_plugin_types"
)

// --- sensors.evaluate and schedules.evaluate -------------------------------------------

func evaluateSensor(name string, ctx types.SensorContext) (result witTypes.Result[types.SensorResult, types.Failure]) {
	r := theRegistry()
	var sensor *Sensor
	for _, s := range r.defs.Sensors {
		if s != nil && s.name == name {
			sensor = s
		}
	}
	if sensor == nil {
		return witTypes.Err[types.SensorResult](permanent(fmt.Sprintf("this location has no sensor `%s`", name)))
	}
	c := &SensorContext{Cursor: ctx.Cursor.SomeOr(""), HasCursor: ctx.Cursor.IsSome(), Log: Log}
	if ctx.LastEvaluationMs.IsSome() {
		c.LastEvaluation = time.UnixMilli(int64(ctx.LastEvaluationMs.Some())).UTC()
	}
	if ctx.Run.IsSome() {
		c.run = endedRun(ctx.Run.Some())
	}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "sensor `%s` panicked: %v\n\n%s", name, p, debug.Stack())
			result = witTypes.Err[types.SensorResult](types.Failure{Message: panicMessage(p), Retryable: true})
		}
	}()
	res, err := sensor.evaluate(c)
	if err != nil {
		return witTypes.Err[types.SensorResult](types.Failure{Message: err.Error(), Retryable: !IsPermanent(err)})
	}
	requests, err := runRequests(res.RunRequests)
	if err != nil {
		return witTypes.Err[types.SensorResult](permanent(fmt.Sprintf("sensor `%s`: %v", name, err)))
	}
	out := types.SensorResult{RunRequests: requests, SkipReason: witTypes.None[string](), Cursor: witTypes.None[string]()}
	if len(requests) == 0 && res.SkipReason != "" {
		out.SkipReason = witTypes.Some(res.SkipReason)
	}
	if res.cursor != nil {
		out.Cursor = witTypes.Some(*res.cursor)
	}
	return witTypes.Ok[types.SensorResult, types.Failure](out)
}

func evaluateSchedule(name string, ctx types.ScheduleContext) (result witTypes.Result[types.ScheduleResult, types.Failure]) {
	r := theRegistry()
	var schedule *Schedule
	for _, s := range r.defs.Schedules {
		if s != nil && s.name == name {
			schedule = s
		}
	}
	if schedule == nil {
		return witTypes.Err[types.ScheduleResult](permanent(fmt.Sprintf("this location has no schedule `%s`", name)))
	}
	if schedule.s.evaluate == nil {
		return witTypes.Ok[types.ScheduleResult, types.Failure](types.MakeScheduleResultRunRequests([]types.RunRequest{{Tags: tags(nil)}}))
	}
	c := &ScheduleContext{ScheduledTime: time.UnixMilli(int64(ctx.ScheduledTimeMs)).UTC(), Log: Log}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "schedule `%s` panicked: %v\n\n%s", name, p, debug.Stack())
			result = witTypes.Err[types.ScheduleResult](types.Failure{Message: panicMessage(p), Retryable: true})
		}
	}()
	res, err := schedule.s.evaluate(c)
	if err != nil {
		return witTypes.Err[types.ScheduleResult](types.Failure{Message: err.Error(), Retryable: !IsPermanent(err)})
	}
	if len(res.RunRequests) == 0 && res.SkipReason != "" {
		return witTypes.Ok[types.ScheduleResult, types.Failure](types.MakeScheduleResultSkip(res.SkipReason))
	}
	requests, err := runRequests(res.RunRequests)
	if err != nil {
		return witTypes.Err[types.ScheduleResult](permanent(fmt.Sprintf("schedule `%s`: %v", name, err)))
	}
	return witTypes.Ok[types.ScheduleResult, types.Failure](types.MakeScheduleResultRunRequests(requests))
}

func runRequests(requests []RunRequest) ([]types.RunRequest, error) {
	out := []types.RunRequest{}
	for _, req := range requests {
		w := types.RunRequest{RunKey: optional(req.RunKey), Job: witTypes.None[string](), Config: witTypes.None[string]()}
		if req.Job != nil {
			w.Job = witTypes.Some(req.Job.JobName())
		}
		config, ok, err := req.config()
		if err != nil {
			return nil, err
		}
		if ok {
			w.Config = witTypes.Some(config)
		}
		var t [][2]string
		for _, k := range sortedKeys(req.Tags) {
			t = append(t, [2]string{k, req.Tags[k]})
		}
		w.Tags = tags(t)
		out = append(out, w)
	}
	return out, nil
}
