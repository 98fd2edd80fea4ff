"""The smallest Python code location: one op and a job that runs it.

Build it into a component (from the repository root):

    componentize-py -d wit -w code-location componentize app \
        -p examples/hello-python -p guest-sdk/python -o hello-python.wasm

or `tests/guests/build-polyglot.sh`, which builds the Go example too.
"""

# Definitions, Ops, Sensors and Schedules are the component's exports: componentize-py
# finds them in this module by name.
from weft import Definitions, Ops, Schedules, Sensors, job, op  # noqa: F401


@op
def hello() -> str:
    """Say hello."""
    return "hello from python"


@job
def hello_job():
    """Run `hello`."""
    hello()


defs = Definitions(jobs=[hello_job])
