"""The reference code location, in Dagster, for side-by-side comparison.

Ops, job, assets, asset job, schedules and sensor as the Dagster seed documents
define them, plus `wide_job` (one op fanning out to 100 and back in) to measure
per-step overhead, and a run-status sensor. Weft's `examples/numbers` must define the same objects with
the same names and results (process_numbers -> 55).

Run with Dagster itself, e.g.:
    pip install dagster
    DAGSTER_HOME=$(mktemp -d) dagster job execute -f defs.py -j process_numbers
"""
import os

import weft as dg
from weft import AssetSelection, Definitions, ScheduleDefinition, asset, define_asset_job, job, op


# --- ops and a job ---------------------------------------------------------
@op(description="Generate a list of numbers from 1 to 10")
def generate_numbers():
    return list(range(1, 11))


@op(description="Filter even numbers from the list")
def filter_even_numbers(numbers):
    return [num for num in numbers if num % 2 == 0]


@op(description="Filter odd numbers from the list")
def filter_odd_numbers(numbers):
    return [num for num in numbers if num % 2 != 0]


@op(description="Calculate the sum of the given list of even numbers")
def sum_even_numbers(numbers):
    return sum(numbers)


@op(description="Calculate the sum of the given list of odd numbers")
def sum_odd_numbers(numbers):
    return sum(numbers)


@op(description="Sum the two numbers")
def sum_two_sums(first_number, second_number):
    return first_number + second_number


@job(description="Process numbers", tags={"domain": "numbers"})
def process_numbers():
    numbers = generate_numbers()
    even_numbers = filter_even_numbers(numbers)
    odd_numbers = filter_odd_numbers(numbers)
    even_sum = sum_even_numbers(even_numbers)
    odd_sum = sum_odd_numbers(odd_numbers)
    sum_two_sums(even_sum, odd_sum)


# --- assets and an asset job -------------------------------------------------
@asset(group_name="numbers", description="Generated a list of numbers from 1 to 10", kinds=["python"])
def generated_numbers():
    return list(range(1, 11))


@asset(group_name="numbers", description="Filtered even numbers from the list", kinds=["python"])
def filtered_even_numbers(generated_numbers):
    return [num for num in generated_numbers if num % 2 == 0]


@asset(group_name="numbers", description="Filtered odd numbers from the list", kinds=["python"])
def filtered_odd_numbers(generated_numbers):
    return [num for num in generated_numbers if num % 2 != 0]


@asset(group_name="numbers", description="Summed the even numbers", kinds=["python"])
def summed_even_numbers(filtered_even_numbers):
    return sum(filtered_even_numbers)


@asset(group_name="numbers", description="Summed the odd numbers", kinds=["python"])
def summed_odd_numbers(filtered_odd_numbers):
    return sum(filtered_odd_numbers)


@asset(group_name="numbers", description="Summed the two sums", kinds=["python"])
def summed_two_sums(summed_even_numbers, summed_odd_numbers):
    return summed_even_numbers + summed_odd_numbers


process_numbers_asset = define_asset_job(
    name="process_numbers_asset", selection=AssetSelection.groups("numbers")
)


# --- a wide job: per-step overhead -------------------------------------------
@op
def seed_number():
    return 1


@op
def add_one(x):
    return x + 1


@op
def total(values):
    return sum(values)


@job
def wide_job():
    start = seed_number()
    total([add_one.alias(f"add_{i}")(start) for i in range(100)])


# --- schedules and sensors -----------------------------------------------------
process_numbers_every_minute = ScheduleDefinition(job=process_numbers, cron_schedule="* * * * *")
process_numbers_asset_every_minute = ScheduleDefinition(
    job=process_numbers_asset, cron_schedule="* * * * *"
)


@dg.sensor(job=process_numbers, minimum_interval_seconds=5)
def check_file_sensor():
    if os.path.exists("/check"):
        yield dg.RunRequest(run_key="check_file_exists")
    else:
        yield dg.SkipReason("check file not exists")


# A run-status sensor: once for each successful run of process_numbers, it asks for a run
# of the asset job, keyed by the run that succeeded.
@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[process_numbers],
    request_job=process_numbers_asset,
    description="Materializes the assets after each successful process_numbers run",
)
def materialize_after_process_numbers(context):
    return dg.RunRequest(tags={"upstream_run_id": context.dagster_run.run_id})


defs = Definitions(
    assets=[
        generated_numbers,
        filtered_even_numbers,
        filtered_odd_numbers,
        summed_even_numbers,
        summed_odd_numbers,
        summed_two_sums,
    ],
    jobs=[process_numbers, process_numbers_asset, wide_job],
    schedules=[process_numbers_every_minute, process_numbers_asset_every_minute],
    sensors=[check_file_sensor, materialize_after_process_numbers],
)
