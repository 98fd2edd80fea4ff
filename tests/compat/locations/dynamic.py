"""Dynamic fan-out: an op with a DynamicOut yielding three values under mapping keys (one
with metadata), an op mapped over them (one step per key, `op[key]`, told its key), a
chained map, a map with an ordinary input beside the mapped one, a collect into a sum; a
second dynamic op whose optional DynamicOut yields nothing, so nothing mapped over it runs
and the step collecting it is skipped; and a mapped op failing for one key, not retryably
(the run fails, the other keys' steps succeed, what needs the failed key's value never
starts)."""
import dagster as dg


@dg.op(out=dg.DynamicOut())
def numbers():
    for i in range(1, 4):
        yield dg.DynamicOutput(i, mapping_key=f"n{i}", metadata={"label": "two"} if i == 2 else None)


@dg.op
def square(context, x):
    context.log.info(f"square {context.get_mapping_key()}")
    return x * x


@dg.op
def add_one(x):
    return x + 1


@dg.op
def offset():
    return 10


@dg.op
def add(x, y):
    return x + y


@dg.op
def total(values):
    return sum(values)


@dg.op(out=dg.DynamicOut(is_required=False))
def nothing():
    yield from []


@dg.job
def dynamic_job():
    squares = numbers().map(square)
    total(squares.map(add_one).collect())
    ten = offset()
    total.alias("total_offset")(squares.map(lambda s: add(s, ten)).collect())
    total.alias("total_nothing")(nothing().map(square.alias("square_nothing")).collect())


@dg.op
def refuse_two(x):
    if x == 2:
        raise dg.Failure("two is refused", allow_retries=False)
    return x


@dg.job
def failing_job():
    total(numbers().map(refuse_two).map(add_one).collect())


defs = dg.Definitions(jobs=[dynamic_job, failing_job])

# (job, run config) pairs the compat runner runs on both sides.
COMPAT_RUNS = [("dynamic_job", None), ("failing_job", None)]
