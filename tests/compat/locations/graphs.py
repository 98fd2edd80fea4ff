"""Graphs: ops composed in a graph, a graph in a graph, a graph called twice (the second
under an alias), a graph with two outputs, config for an op in a graph, and a graph made a
job with to_job."""
import dagster as dg


@dg.op
def seed():
    return 1


@dg.op
def add_one(x):
    return x + 1


@dg.op
def double(x):
    return x * 2


@dg.op(config_schema={"factor": dg.Field(int, default_value=1)})
def times(context, x):
    return x * context.op_config["factor"]


@dg.graph
def scaled(x):
    return times(x)


@dg.graph
def twice(x):
    return add_one(add_one(x))


@dg.graph
def outer(x):
    return double(twice(x))


@dg.graph(out={"low": dg.GraphOut(), "high": dg.GraphOut()})
def spread(x):
    return {"low": add_one(x), "high": double(double(x))}


@dg.job
def graphs_job():
    one = outer(seed())
    twice.alias("again")(one)
    low, high = spread(one)
    add_one(low)
    scaled(double(high))


@dg.graph
def plain():
    double(add_one(seed()))


defs = dg.Definitions(jobs=[graphs_job, plain.to_job(name="plain_job")])

COMPAT_RUNS = [
    ("graphs_job", None),
    # Config for an op in a graph, nested as Dagster nests it.
    ("graphs_job", {"ops": {"scaled": {"ops": {"times": {"config": {"factor": 3}}}}}}),
    ("plain_job", None),
]
