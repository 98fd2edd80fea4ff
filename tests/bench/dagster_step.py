"""Dagster's side of the step cold-start comparison: N fresh `dagster api execute_step` processes.

    python3 dagster_step.py [N] [DEFS]      (needs `pip install dagster`; prints one JSON object)

What a step pod of Dagster's k8s_job_executor does after its container starts, timed from the
outside beside Weft's `weft step RUN generate_numbers`. Set-up, untimed, in this process:

* a persistent DAGSTER_HOME (a temporary directory, the default SQLite instance; telemetry off);
* the reference code location DEFS (default `../shared/peers/dagster/defs.py` from the
  repository root) as a python-file code pointer to its `defs` attribute;
* per timed iteration, a fresh run of `process_numbers` created as a launcher does
  (`create_run_for_job` with the execution plan and the job's code origin) and marked
  started (RUN_START), as the run worker does before it launches step pods; then the
  `ExecuteStepArgs` the step-delegating executor builds for step `generate_numbers` (origin,
  run id, instance ref, deferred retries, known state, `should_verify_step=True` as the k8s
  executor sets it), serialized with `serialize_value`.

A new run each iteration because a step cannot run twice in one run: with step verification
on, a first attempt of a step that already has stats in the run is refused (the process logs
an engine event and exits 0 without running the op). Timed: `dagster api execute_step JSON`,
from process start to exit; each must exit 0 and leave STEP_SUCCESS for generate_numbers in
the run's event log. The k8s executor hands the same args zlib-compressed in an environment
variable (DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS); the positional form differs only by that.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10
DEFS = os.path.abspath(
    sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "../../../shared/peers/dagster/defs.py")
)
STEP = "generate_numbers"
JOB = "process_numbers"

# The instance's home must exist before dagster reads it.
home = tempfile.mkdtemp(prefix="weft-bench-dagster-step-")
os.environ["DAGSTER_HOME"] = home
with open(os.path.join(home, "dagster.yaml"), "w") as f:
    f.write("telemetry:\n  enabled: false\n")

import dagster  # noqa: E402
from dagster import DagsterInstance  # noqa: E402
from dagster._core.definitions.reconstruct import ReconstructableRepository  # noqa: E402
from dagster._core.events import DagsterEvent, DagsterEventType  # noqa: E402
from dagster._core.execution.api import create_execution_plan  # noqa: E402
from dagster._core.execution.plan.state import KnownExecutionState  # noqa: E402
from dagster._core.execution.retries import RetryMode  # noqa: E402
from dagster._grpc.types import ExecuteStepArgs  # noqa: E402
from dagster._serdes import serialize_value  # noqa: E402


def timed(cmd, **kw):
    """Wall time in ms of one process; fails unless it exits 0."""
    t0 = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    elapsed = (time.perf_counter() - t0) * 1e3
    if done.returncode != 0:
        sys.exit(f"{cmd[:3]} exited {done.returncode}: {done.stderr.decode(errors='replace')}")
    return elapsed


def new_run(instance, recon_job):
    """A run of the job as a launcher creates it, then started as by the run worker."""
    plan = create_execution_plan(recon_job)
    run = instance.create_run_for_job(
        job_def=recon_job.get_definition(),
        execution_plan=plan,
        job_code_origin=recon_job.get_python_origin(),
    )
    instance.report_dagster_event(
        DagsterEvent(event_type_value=DagsterEventType.RUN_START.value, job_name=JOB), run.run_id
    )
    return run


def step_args(instance, recon_job, run_id):
    """The args the step-delegating executor hands a step pod, serialized."""
    return serialize_value(
        ExecuteStepArgs(
            job_origin=recon_job.get_python_origin(),
            run_id=run_id,
            step_keys_to_execute=[STEP],
            instance_ref=instance.get_ref(),
            retry_mode=RetryMode.ENABLED.for_inner_plan(),
            known_state=KnownExecutionState(),
            should_verify_step=True,
            print_serialized_events=False,
        )
    )


def succeeded(instance, run_id):
    return any(
        e.dagster_event is not None and e.dagster_event.step_key == STEP
        for e in instance.all_logs(run_id, of_type=DagsterEventType.STEP_SUCCESS)
    )


def main():
    # The `dagster` script of this interpreter (not a version manager's shim on PATH).
    script = os.path.join(os.path.dirname(sys.executable), "dagster")
    entry = [script] if os.access(script, os.X_OK) else [sys.executable, "-m", "dagster"]
    repo = ReconstructableRepository.for_file(DEFS, "defs", working_directory=os.path.dirname(DEFS))
    recon_job = repo.get_reconstructable_job(JOB)
    times = []
    try:
        with DagsterInstance.get() as instance:
            # One untimed warm-up (page cache, .pyc files), then N timed.
            for i in range(N + 1):
                run = new_run(instance, recon_job)
                args = step_args(instance, recon_job, run.run_id)
                t = timed([*entry, "api", "execute_step", args], cwd=home)
                if not succeeded(instance, run.run_id):
                    sys.exit(f"run {run.run_id}: no STEP_SUCCESS for {STEP}")
                if i > 0:
                    times.append(t)
        python = [timed([sys.executable, "-c", "pass"]) for _ in range(N)]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(
        json.dumps(
            {
                "dagster_version": dagster.__version__,
                "runs": N,
                "execute_step_ms": round(statistics.median(times), 3),
                "python_startup_ms": round(statistics.median(python), 3),
            }
        )
    )


main()
