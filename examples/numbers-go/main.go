// Command numbers-go is the numbers code location in Go: Dagster's seed example in Weft,
// object for object (see examples/numbers for Rust and shared/peers/dagster/defs.py):
// ops and the job process_numbers, six assets and the asset job process_numbers_asset,
// the fan-out/fan-in wide_job, two schedules, a sensor and a run-status sensor.
//
// Build it into a component and run it, from the repository root:
//
//	weft build examples/numbers-go -o numbers-go.wasm
//	weft run numbers-go.wasm --job process_numbers
package main

import (
	"fmt"
	"os"
	"time"

	weft "example.invalid/weft/guest-sdk/go"
)

// --- ops and a job -----------------------------------------------------------------

var generateNumbers = weft.NewOp0("generate_numbers", func(*weft.Context) ([]int, error) {
	return oneToTen(), nil
}, weft.Description("Generate a list of numbers from 1 to 10"))

var filterEvenNumbers = weft.NewOp1("filter_even_numbers", "numbers", func(_ *weft.Context, numbers []int) ([]int, error) {
	return filter(numbers, even), nil
}, weft.Description("Filter even numbers from the list"))

var filterOddNumbers = weft.NewOp1("filter_odd_numbers", "numbers", func(_ *weft.Context, numbers []int) ([]int, error) {
	return filter(numbers, odd), nil
}, weft.Description("Filter odd numbers from the list"))

var sumEvenNumbers = weft.NewOp1("sum_even_numbers", "numbers", func(_ *weft.Context, numbers []int) (int, error) {
	return sum(numbers), nil
}, weft.Description("Calculate the sum of the given list of even numbers"))

var sumOddNumbers = weft.NewOp1("sum_odd_numbers", "numbers", func(_ *weft.Context, numbers []int) (int, error) {
	return sum(numbers), nil
}, weft.Description("Calculate the sum of the given list of odd numbers"))

var sumTwoSums = weft.NewOp2("sum_two_sums", "first_number", "second_number", func(_ *weft.Context, first, second int) (int, error) {
	return first + second, nil
}, weft.Description("Sum the two numbers"))

var processNumbers = weft.NewJob("process_numbers", func(j *weft.Job) {
	numbers := j.Node(generateNumbers)
	evenNumbers := j.Node(filterEvenNumbers, numbers)
	oddNumbers := j.Node(filterOddNumbers, numbers)
	evenSum := j.Node(sumEvenNumbers, evenNumbers)
	oddSum := j.Node(sumOddNumbers, oddNumbers)
	j.Node(sumTwoSums, evenSum, oddSum)
}, weft.Description("Process numbers"), weft.Tag("domain", "numbers"))

// --- assets and an asset job ---------------------------------------------------------

// numbersAsset puts an asset in the numbers group, computed by Go.
func numbersAsset(description string) []weft.Option {
	return []weft.Option{weft.Group("numbers"), weft.Description(description), weft.Kinds("go")}
}

var generatedNumbers = weft.NewAsset0("generated_numbers", func(*weft.Context) ([]int, error) {
	return oneToTen(), nil
}, numbersAsset("Generated a list of numbers from 1 to 10")...)

var filteredEvenNumbers = weft.NewAsset1("filtered_even_numbers", "generated_numbers", func(_ *weft.Context, generated []int) ([]int, error) {
	return filter(generated, even), nil
}, numbersAsset("Filtered even numbers from the list")...)

var filteredOddNumbers = weft.NewAsset1("filtered_odd_numbers", "generated_numbers", func(_ *weft.Context, generated []int) ([]int, error) {
	return filter(generated, odd), nil
}, numbersAsset("Filtered odd numbers from the list")...)

var summedEvenNumbers = weft.NewAsset1("summed_even_numbers", "filtered_even_numbers", func(_ *weft.Context, evens []int) (int, error) {
	return sum(evens), nil
}, numbersAsset("Summed the even numbers")...)

var summedOddNumbers = weft.NewAsset1("summed_odd_numbers", "filtered_odd_numbers", func(_ *weft.Context, odds []int) (int, error) {
	return sum(odds), nil
}, numbersAsset("Summed the odd numbers")...)

var summedTwoSums = weft.NewAsset2("summed_two_sums", "summed_even_numbers", "summed_odd_numbers", func(_ *weft.Context, evens, odds int) (int, error) {
	return evens + odds, nil
}, numbersAsset("Summed the two sums")...)

var processNumbersAsset = weft.NewAssetJob("process_numbers_asset", weft.Groups("numbers"))

// --- a wide job: per-step overhead ------------------------------------------------------

var seedNumber = weft.NewOp0("seed_number", func(*weft.Context) (int, error) { return 1, nil })

var addOne = weft.NewOp1("add_one", "x", func(_ *weft.Context, x int) (int, error) { return x + 1, nil })

var total = weft.NewOp1("total", "values", func(_ *weft.Context, values []int) (int, error) {
	return sum(values), nil
})

var wideJob = weft.NewJob("wide_job", func(j *weft.Job) {
	start := j.Node(seedNumber)
	values := make([]*weft.Node, 100)
	for i := range values {
		values[i] = j.Node(addOne, start).Alias(fmt.Sprintf("add_%d", i))
	}
	j.Node(total, values)
})

// --- schedules and sensors ----------------------------------------------------------------

var processNumbersEveryMinute = weft.NewSchedule("process_numbers_every_minute", processNumbers, "* * * * *")

var processNumbersAssetEveryMinute = weft.NewSchedule("process_numbers_asset_every_minute", processNumbersAsset, "* * * * *")

var checkFileSensor = weft.NewSensor("check_file_sensor", func(*weft.SensorContext) (weft.SensorResult, error) {
	if _, err := os.Stat("/check"); err == nil {
		return weft.RunRequests(weft.RunRequest{RunKey: "check_file_exists"}), nil
	}
	return weft.Skip("check file not exists"), nil
}, weft.ForJob(processNumbers), weft.MinimumInterval(5*time.Second))

// materializeAfterProcessNumbers is a run-status sensor: once for each successful run of
// process_numbers, it asks for a run of the asset job, keyed by the run that succeeded.
var materializeAfterProcessNumbers = weft.NewRunStatusSensor("materialize_after_process_numbers", weft.RunSuccess,
	func(ctx *weft.RunStatusSensorContext) (weft.SensorResult, error) {
		return weft.RunRequests(weft.RunRequest{Tags: map[string]string{"upstream_run_id": ctx.Run.RunID}}), nil
	},
	weft.MonitoredJobs(processNumbers), weft.ForJob(processNumbersAsset),
	weft.Description("Materializes the assets after each successful process_numbers run"))

func init() {
	weft.Register(weft.Definitions{
		Assets: []*weft.Asset{
			generatedNumbers,
			filteredEvenNumbers,
			filteredOddNumbers,
			summedEvenNumbers,
			summedOddNumbers,
			summedTwoSums,
		},
		Jobs:      []*weft.Job{processNumbers, wideJob},
		AssetJobs: []*weft.AssetJob{processNumbersAsset},
		Schedules: []*weft.Schedule{processNumbersEveryMinute, processNumbersAssetEveryMinute},
		Sensors:   []*weft.Sensor{checkFileSensor, materializeAfterProcessNumbers},
	})
}

func main() {}

// --- helpers -----------------------------------------------------------------------------

func oneToTen() []int {
	numbers := make([]int, 10)
	for i := range numbers {
		numbers[i] = i + 1
	}
	return numbers
}

func even(n int) bool { return n%2 == 0 }
func odd(n int) bool  { return n%2 != 0 }

func filter(numbers []int, keep func(int) bool) []int {
	out := []int{}
	for _, n := range numbers {
		if keep(n) {
			out = append(out, n)
		}
	}
	return out
}

func sum(numbers []int) int {
	total := 0
	for _, n := range numbers {
		total += n
	}
	return total
}
