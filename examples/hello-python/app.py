"""The smallest Python code location: one op and a job that runs it.

Build it into a component (from the repository root):

    cargo run --release -p weft-build --example componentize -- \
        python examples/hello-python target/wasm/hello-python.wasm

(`weft build examples/hello-python` does the same), or `tests/guests/build-polyglot.sh`,
which builds the Go example too. Then `weft run target/wasm/hello-python.wasm --job hello_job`.
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
