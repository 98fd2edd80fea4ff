"""Dagster's side of the compat suite: runs each location's COMPAT_RUNS with Dagster itself
(``execute_in_process``) and prints what a user sees, in the shape compare.py reads.

    python dagster_side.py LOCATION.py...   (a Python with ``pip install dagster``)

For each run: whether the config was refused; the run's status; each step's status and
output values; each step's events of the kinds Weft also has, in order (a hook's as
``TYPE:hook``); each materialization's asset key and metadata (Dagster's own ``dagster/``
keys left out); and each step's asset check evaluations (asset, check, passed, severity,
metadata). A check's step has no output here: Dagster's check op yields one to carry the
result, Weft's check step has none. An output Dagster stores no value for (an asset's
``MaterializeResult``: its ``NoValueSentinel``) is ``None``, as Weft's JSON ``null`` (COMPAT.md,
"Differences"). A dynamic output's values are each ``output[mapping key]`` (``result[n1]``), the
steps mapped over it ``op[mapping key]``, as Dagster keys them. ``unstarted``: the steps of the
run's plan Dagster never
started because a step upstream of them failed (Dagster emits nothing for them, Weft
STEP_SKIPPED; COMPAT.md, "Differences").
"""

import importlib.util
import json
import os
import re
import sys

import dagster as dg
from dagster._core.definitions.dependency import NodeHandle
from dagster._core.definitions.utils import NoValueSentinel
from dagster._core.execution.api import create_execution_plan
from dagster._core.execution.plan.state import KnownExecutionState

# The event types both sides have; Dagster's others (STEP_INPUT, HANDLED_OUTPUT,
# LOADED_INPUT, RESOURCE_INIT_*...) have no Weft counterpart.
KINDS = {"STEP_START", "STEP_OUTPUT", "ASSET_MATERIALIZATION", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED", "STEP_UP_FOR_RETRY"}
# Hook events, recorded as `TYPE:hook`: Dagster names the hook only in the message, and
# HOOK_ERRORED's names none (it is the node's hook that no other event of its stretch names).
HOOKS = {"HOOK_COMPLETED", "HOOK_ERRORED", "HOOK_SKIPPED"}
# An asset check's evaluation, in its step's events and in `checks`.
CHECK = "ASSET_CHECK_EVALUATION"


def name_errored_hooks(kinds, hooks):
    """`kinds` with each `HOOK_ERRORED:?` named: the one hook of `hooks` that the other
    hook events of its stretch (the hooks run after one attempt) do not name."""
    out, stretch = [], []
    for kind in kinds + [None]:
        if kind is not None and kind.split(":")[0] in HOOKS:
            stretch.append(kind)
            continue
        left = sorted(set(hooks) - {k.split(":", 1)[1] for k in stretch})
        out.extend(f"HOOK_ERRORED:{left.pop(0)}" if k == "HOOK_ERRORED:?" and left else k for k in stretch)
        stretch = []
        if kind is not None:
            out.append(kind)
    return out


def metadata_value(v):
    """A Dagster MetadataValue as {type, value}, Weft's shape."""
    kinds = [
        (dg.IntMetadataValue, "int", lambda x: x.value),
        (dg.FloatMetadataValue, "float", lambda x: x.value),
        (dg.BoolMetadataValue, "bool", lambda x: x.value),
        (dg.TextMetadataValue, "text", lambda x: x.text),
        (dg.UrlMetadataValue, "url", lambda x: x.url),
        (dg.PathMetadataValue, "path", lambda x: x.path),
        (dg.MarkdownMetadataValue, "markdown", lambda x: x.md_str),
        (dg.JsonMetadataValue, "json", lambda x: x.data),
        (
            dg.TableSchemaMetadataValue,
            "table_schema",
            lambda x: [
                {k: v for k, v in {"name": c.name, "type": c.type, "description": c.description}.items() if v is not None}
                for c in x.schema.columns
            ],
        ),
    ]
    for cls, name, value in kinds:
        if isinstance(v, cls):
            return {"type": name, "value": value(v)}
    return {"type": type(v).__name__, "value": str(v)}


def metadata(md):
    return {k: metadata_value(v) for k, v in (md or {}).items() if not k.startswith("dagster/")}


def job_def(defs, name):
    resolve = getattr(defs, "resolve_job_def", None) or defs.get_job_def
    return resolve(name)


def unstarted_after_failure(job_definition, config, steps, dynamic_mappings):
    """The steps of the run's plan that have no events because a step upstream of them
    (a failed step, or one of these) failed: what Dagster does not start, and says nothing of.
    The plan's mapped steps are those of the mapping keys the run's dynamic outputs produced
    (``dynamic_mappings``: step -> output -> keys); a mapped step whose keys are unknown
    (``op[?]``: its dynamic output's step never ran) is left out."""
    failed = {key for key, step in steps.items() if step.get("status") == "FAILURE"}
    if not failed:
        return []
    known = KnownExecutionState(dynamic_mappings=dynamic_mappings)
    plan = create_execution_plan(job_definition, run_config=config or {}, known_state=known)
    # The plan's steps, each mapped one resolved (`op[k]` for each known key; not `op[?]`).
    planned = {s.key: s for s in plan.step_dict.values() if hasattr(s, "get_execution_dependency_keys")}
    unstarted, grew = set(), True
    while grew:
        grew = False
        for key, step in planned.items():
            if key in steps or key in unstarted:
                continue
            if step.get_execution_dependency_keys() & (failed | unstarted):
                unstarted.add(key)
                grew = True
    return sorted(unstarted)


def run_one(defs, job, config):
    job_definition = job_def(defs, job)
    try:
        result = job_definition.execute_in_process(run_config=config or {}, raise_on_error=False)
    except dg.DagsterInvalidConfigError as error:
        return {"refused": True, "error": str(error)}
    steps, events, materializations, checks = {}, {}, [], {}
    # step -> dynamic output -> the mapping keys it produced, in order.
    dynamic_mappings = {}
    # The steps of checks, whose STEP_OUTPUT is Dagster's vehicle of the check's result.
    check_steps = {e.step_key for e in result.all_events if e.event_type_value == CHECK}
    for e in result.all_events:
        kind = e.event_type_value
        if kind == CHECK and e.step_key is not None:
            evaluation = e.event_specific_data
            events.setdefault(e.step_key, []).append(kind)
            checks.setdefault(e.step_key, []).append({
                "asset_key": "/".join(evaluation.asset_key.path),
                "check": evaluation.check_name,
                "passed": evaluation.passed,
                "severity": evaluation.severity.value,
                "metadata": metadata(evaluation.metadata),
            })
            continue
        if kind == "STEP_OUTPUT" and e.step_key in check_steps:
            continue
        if kind in HOOKS and e.step_key is not None:
            hook = re.search(r'hook "([^"]+)"', e.message or "")
            events.setdefault(e.step_key, []).append(f"{kind}:{hook.group(1) if hook else '?'}")
            continue
        # A later attempt's start (Weft's STEP_START with its attempt number).
        if kind == "STEP_RESTARTED":
            kind = "STEP_START"
        if kind not in KINDS or e.step_key is None:
            continue
        step = e.step_key
        events.setdefault(step, []).append(kind)
        st = steps.setdefault(step, {"outputs": {}})
        if kind == "STEP_SUCCESS":
            st["status"] = "SUCCESS"
        elif kind == "STEP_FAILURE":
            st["status"] = "FAILURE"
        elif kind == "STEP_SKIPPED":
            st["status"] = "SKIPPED"
        elif kind == "STEP_OUTPUT":
            handle = e.event_specific_data.step_output_handle
            name, key = handle.output_name, handle.mapping_key
            # A mapped step `op[k]`: Dagster keeps the node's values by mapping key.
            node_name, _, mapped = step.partition("[")
            node = step.replace("__", "/")
            try:
                value = result.output_for_node(node_name, name)
                if mapped:
                    value = value[mapped[:-1]]
            except Exception:  # noqa: BLE001 - an asset's value is read through its key
                value = result.asset_value(dg.AssetKey(node.split("/")))
            # A dynamic output: one value (and STEP_OUTPUT) per mapping key, named `output[key]`.
            if key is not None:
                value = value[key]
                dynamic_mappings.setdefault(step, {}).setdefault(name, []).append(key)
                name = f"{name}[{key}]"
            # A MaterializeResult's output: no value stored; Weft's is JSON null.
            st["outputs"][name] = None if value is NoValueSentinel else value
            st.setdefault("output_metadata", {})[name] = metadata(e.event_specific_data.metadata)
        elif kind == "ASSET_MATERIALIZATION":
            m = e.event_specific_data.materialization
            md = metadata(m.metadata)
            # Dagster's filesystem I/O manager adds where it stored the value; Weft's I/O
            # managers add nothing (COMPAT.md, "Differences").
            if md.get("path", {}).get("value", "").find(os.sep + "storage" + os.sep) >= 0:
                del md["path"]
            materializations.append({"asset_key": "/".join(m.asset_key.path), "metadata": md})
    for step, kinds in events.items():
        # A mapped step `op[k]` has its node's hooks.
        hooks = job_definition.get_all_hooks_for_handle(NodeHandle.from_string(step.partition("[")[0])) or []
        events[step] = name_errored_hooks(kinds, [h.name for h in hooks])
    return {
        "refused": False,
        "status": "SUCCESS" if result.success else "FAILURE",
        "steps": steps,
        "events": events,
        "materializations": sorted(materializations, key=lambda m: m["asset_key"]),
        "checks": checks,
        "unstarted": unstarted_after_failure(job_definition, config, steps, dynamic_mappings),
    }


def main(paths):
    out = {"dagster_version": dg.__version__, "locations": {}}
    for path in paths:
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(f"compat_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out["locations"][name] = [run_one(module.defs, job, config) for job, config in module.COMPAT_RUNS]
    json.dump(out, sys.stdout, default=str)


if __name__ == "__main__":
    main(sys.argv[1:])
