"""What every test module here shares: the componentize-py bindings of ``../../wit``,
generated once into a temporary directory and put on ``sys.path`` with the SDK and the
numbers example (tests/all.sh sets WEFT_REQUIRE_BINDINGS, so they never skip there)."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BINDINGS = tempfile.mkdtemp(prefix="weft-py-bindings-")
HAVE_BINDINGS = shutil.which("componentize-py") is not None and (
    subprocess.run(
        ["componentize-py", "-d", os.path.join(ROOT, "wit"), "-w", "code-location", "bindings", BINDINGS],
        capture_output=True,
    ).returncode
    == 0
)
if os.environ.get("WEFT_REQUIRE_BINDINGS") and not HAVE_BINDINGS:
    raise RuntimeError("componentize-py cannot generate the bindings of ../../wit (WEFT_REQUIRE_BINDINGS)")
sys.path[:0] = [BINDINGS, os.path.join(ROOT, "guest-sdk", "python"), os.path.join(ROOT, "examples", "numbers-python")]
atexit.register(shutil.rmtree, BINDINGS, ignore_errors=True)
