"""The smallest Python code location: one op and a job that runs it.

Build it into a component and run it (from the repository root):

    weft build examples/hello-python -o hello-python.wasm
    weft run hello-python.wasm --job hello_job
"""

from weft import Definitions, job, op


@op
def hello() -> str:
    """Say hello."""
    return "hello from python"


@job
def hello_job():
    """Run `hello`."""
    hello()


defs = Definitions(jobs=[hello_job])
