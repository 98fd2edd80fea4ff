"""The compat suite: each Dagster-API location in tests/compat/locations/ run by Dagster
itself and by Weft, and what a user sees compared: whether the run config is refused, the
run's status, each step's status and output values, each step's events (of the kinds both
have, a hook's with its name) in order, each output's and materialization's metadata, and
each step's asset check evaluations (asset, check, passed, severity, metadata). A step
Dagster never started because a step upstream of it failed, which Weft reports only
skipped, is the same on both sides: Dagster emits nothing for it (COMPAT.md). An output
Dagster stores no value for (an asset's ``MaterializeResult``) is ``None`` there
(dagster_side.py), as Weft's JSON ``null``: the same.

    python3 tests/compat/compare.py --weft target/release/weft --dagster-python PYTHON

PYTHON is an interpreter with ``pip install dagster`` (tests/all.sh makes one). Weft builds
each location with only its imports changed (``dagster`` → ``weft``). A difference fails
the suite unless DOCUMENTED lists it, with the reason guest-sdk/python/COMPAT.md gives.
"""

import argparse
import ast
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
KINDS = {"STEP_START", "STEP_OUTPUT", "ASSET_MATERIALIZATION", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED", "STEP_UP_FOR_RETRY"}

HOOKS = {"HOOK_COMPLETED", "HOOK_ERRORED", "HOOK_SKIPPED"}

# An asset check's evaluation, in its step's events and in `checks`.
CHECK = "ASSET_CHECK_EVALUATION"

ENDS = {"STEP_SUCCESS": "SUCCESS", "STEP_FAILURE": "FAILURE", "STEP_SKIPPED": "SKIPPED"}

# (location, run index, what) -> why the two sides may differ there (see COMPAT.md).
DOCUMENTED = {}


def weft_source(path):
    """The location with only its imports changed."""
    with open(path) as f:
        text = f.read()
    text = re.sub(r"^import dagster as (\w+)$", r"import weft as \1", text, flags=re.M)
    text = re.sub(r"^from dagster import ", "from weft import ", text, flags=re.M)
    return text


def weft(binary, home, *args):
    return subprocess.run([binary, *args], cwd=ROOT, env={**os.environ, "WEFT_HOME": home}, capture_output=True, text=True)


def weft_runs(binary, home, path):
    """Builds the location and runs its COMPAT_RUNS with Weft."""
    name = os.path.splitext(os.path.basename(path))[0]
    project = os.path.join(home, "projects", name)
    os.makedirs(project)
    with open(os.path.join(project, "defs.py"), "w") as f:
        f.write(weft_source(path))
    wasm = os.path.join(home, f"{name}.wasm")
    built = weft(binary, home, "build", project, "-o", wasm)
    if built.returncode != 0:
        raise SystemExit(f"{name}: weft build failed:\n{built.stderr}")
    results = []
    for job, config in compat_runs(path):
        args = ["run", wasm, "--job", job, "--json"]
        if config is not None:
            args += ["--config", json.dumps(config)]
        ran = weft(binary, home, *args)
        if ran.returncode != 0 and "run config does not match" in ran.stderr:
            results.append({"refused": True, "error": ran.stderr.strip()})
            continue
        try:
            run = json.loads(ran.stdout)
        except ValueError:
            raise SystemExit(f"{name}: weft run {job} printed no run:\n{ran.stdout}\n{ran.stderr}")
        shown = weft(binary, home, "runs", "show", run["run_id"], "--json")
        events = json.loads(shown.stdout)["events"]
        results.append(summary(run, events))
    return results


def compat_runs(path):
    """The location's COMPAT_RUNS, read as a literal (nothing of the location runs here)."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "COMPAT_RUNS" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{path} has no COMPAT_RUNS = [(job, run config), ...]")


def summary(run, events):
    steps, per_step, materializations, checks = {}, {}, [], {}
    for e in events:
        kind, step = e["type"], e.get("step_key")
        if kind in HOOKS and step is not None:
            per_step.setdefault(step, []).append(f"{kind}:{e['hook']}")
            continue
        if kind == CHECK and step is not None:
            per_step.setdefault(step, []).append(kind)
            checks.setdefault(step, []).append({
                "asset_key": "/".join(e["asset_key"]),
                "check": e["check"],
                "passed": e["passed"],
                "severity": e["severity"],
                "metadata": e.get("metadata", {}),
            })
            continue
        if kind not in KINDS or step is None:
            continue
        per_step.setdefault(step, []).append(kind)
        st = steps.setdefault(step, {"outputs": {}})
        if kind in ENDS:
            st["status"] = ENDS[kind]
        elif kind == "STEP_OUTPUT":
            # A dynamic output's value is named by its key, `result[k1]`, on both sides.
            name = e["output"] if e.get("mapping_key") is None else f"{e['output']}[{e['mapping_key']}]"
            value = run["steps"].get(step, {}).get("outputs", {}).get(name)
            st["outputs"][name] = value
            st.setdefault("output_metadata", {})[name] = e.get("metadata", {})
        elif kind == "ASSET_MATERIALIZATION":
            materializations.append({"asset_key": "/".join(e["asset_key"]), "metadata": e.get("metadata", {})})
    return {
        "refused": False,
        "status": run["status"],
        "steps": steps,
        "events": per_step,
        "materializations": sorted(materializations, key=lambda m: m["asset_key"]),
        "checks": checks,
    }


def skipped_after_failure(dagster, weft_side, step):
    """Whether `step` is one Dagster never started because a step upstream of it failed (a
    failed op or asset, a blocking asset check that failed: dagster_side.py's `unstarted`)
    and Weft reports only skipped: Dagster emits nothing for it, Weft STEP_SKIPPED
    (COMPAT.md, "Differences")."""
    if step not in dagster.get("unstarted", []):
        return False
    skipped = weft_side["steps"].get(step) == {"outputs": {}, "status": "SKIPPED"}
    return skipped and weft_side["events"].get(step) == ["STEP_SKIPPED"]


def hooks_in_any_order(events):
    """A step's events with each stretch of hook events sorted: Dagster calls a node's hooks
    in no set order (a frozenset's), Weft by name."""
    out, stretch = [], []
    for kind in (events or []) + [None]:
        if kind is not None and kind.split(":")[0] in HOOKS:
            stretch.append(kind)
            continue
        out.extend(sorted(stretch))
        stretch = []
        if kind is not None:
            out.append(kind)
    return out


def differences(dagster, weft_side):
    """What differs between the two sides of one run, as lines."""
    out = []
    if dagster["refused"] != weft_side["refused"]:
        return [f"config refused: dagster {dagster['refused']}, weft {weft_side['refused']}"]
    if dagster["refused"]:
        return []
    for key in ("status", "materializations"):
        if dagster[key] != weft_side[key]:
            out.append(f"{key}: dagster {json.dumps(dagster[key])}\n        weft    {json.dumps(weft_side[key])}")
    for step in sorted(set(dagster["steps"]) | set(weft_side["steps"])):
        if skipped_after_failure(dagster, weft_side, step):
            continue
        d, w = dagster["steps"].get(step), weft_side["steps"].get(step)
        if d != w:
            out.append(f"step {step}: dagster {json.dumps(d)}\n        weft    {json.dumps(w)}")
        de = hooks_in_any_order(dagster["events"].get(step))
        we = hooks_in_any_order(weft_side["events"].get(step))
        if de != we:
            out.append(f"step {step} events: dagster {de}, weft {we}")
    for step in sorted(set(dagster["checks"]) | set(weft_side["checks"])):
        d, w = dagster["checks"].get(step), weft_side["checks"].get(step)
        if d != w:
            out.append(f"step {step} checks: dagster {json.dumps(d)}\n        weft    {json.dumps(w)}")
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--weft", default=os.path.join(ROOT, "target", "release", "weft"))
    parser.add_argument("--dagster-python", required=True)
    parser.add_argument("locations", nargs="*")
    opts = parser.parse_args()
    paths = opts.locations or sorted(glob.glob(os.path.join(HERE, "locations", "*.py")))
    dagster = subprocess.run(
        [opts.dagster_python, os.path.join(HERE, "dagster_side.py"), *paths], capture_output=True, text=True
    )
    if dagster.returncode != 0:
        raise SystemExit(f"Dagster's side failed:\n{dagster.stderr[-4000:]}")
    theirs = json.loads(dagster.stdout)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="weft-compat-") as home:
        for path in paths:
            name = os.path.splitext(os.path.basename(path))[0]
            ours = weft_runs(opts.weft, home, path)
            for i, (d, w) in enumerate(zip(theirs["locations"][name], ours)):
                diffs = [x for x in differences(d, w) if (name, i, x.split(":")[0]) not in DOCUMENTED]
                verdict = "same" if not diffs else "DIFFERENT"
                print(f"{name} run {i}: {verdict}{' (refused by both)' if d['refused'] and not diffs else ''}")
                for line in diffs:
                    print(f"    {line}")
                failed += bool(diffs)
    print(f"compat: {len(paths)} locations against Dagster {theirs['dagster_version']}: {'all the same' if not failed else f'{failed} runs differ'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
