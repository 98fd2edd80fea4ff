"""The smallest Python code location: one op and a job that runs it (`weft init --lang
python DIR` starts a project with this file, as its `defs.py`).

Build it into a component and run it (DIR: examples/hello-python, or the one weft init
wrote):

    weft build DIR -o hello-python.wasm
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
