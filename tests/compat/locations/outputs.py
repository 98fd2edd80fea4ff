"""Several outputs: an optional one left out (its readers are skipped), tuples, yields."""
import dagster as dg


@dg.op
def numbers():
    return [1, 2, 3, 4, 5]


@dg.op(out={"even": dg.Out(), "big": dg.Out(is_required=False)})
def split(context, numbers):
    even = [n for n in numbers if n % 2 == 0]
    yield dg.Output(even, output_name="even", metadata={"count": len(even)})
    big = [n for n in numbers if n > 10]
    if big:
        yield dg.Output(big, output_name="big")


@dg.op(out={"low": dg.Out(), "high": dg.Out()})
def halves(numbers):
    middle = len(numbers) // 2
    return numbers[:middle], numbers[middle:]


@dg.op
def total(values):
    return sum(values)


@dg.op
def count(values):
    return len(values)


@dg.job
def outputs_job():
    n = numbers()
    even, big = split(n)
    total.alias("total_even")(even)
    count.alias("count_big")(big)
    low, high = halves(n)
    total.alias("total_low")(low)
    total.alias("total_high")(high)


defs = dg.Definitions(jobs=[outputs_job])

# (job, run config) pairs the compat runner runs on both sides.
COMPAT_RUNS = [("outputs_job", None)]
