"""Dagster's side of the compat suite: runs each location's COMPAT_RUNS with Dagster itself
(``execute_in_process``) and prints what a user sees, in the shape compare.py reads.

    python dagster_side.py LOCATION.py...   (a Python with ``pip install dagster``)

For each run: whether the config was refused; the run's status; each step's status and
output values; each step's events of the kinds Weft also has, in order; and each
materialization's asset key and metadata (Dagster's own ``dagster/`` keys left out).
"""

import importlib.util
import json
import os
import sys

import dagster as dg

# The event types both sides have; Dagster's others (STEP_INPUT, HANDLED_OUTPUT,
# LOADED_INPUT, RESOURCE_INIT_*...) have no Weft counterpart.
KINDS = {"STEP_START", "STEP_OUTPUT", "ASSET_MATERIALIZATION", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED", "STEP_UP_FOR_RETRY"}


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


def run_one(defs, job, config):
    try:
        result = job_def(defs, job).execute_in_process(run_config=config or {}, raise_on_error=False)
    except dg.DagsterInvalidConfigError as error:
        return {"refused": True, "error": str(error)}
    steps, events, materializations = {}, {}, []
    for e in result.all_events:
        kind = e.event_type_value
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
            name = e.event_specific_data.step_output_handle.output_name
            node = step.replace("__", "/")
            try:
                st["outputs"][name] = result.output_for_node(step, name)
            except Exception:  # noqa: BLE001 - an asset's value is read through its key
                st["outputs"][name] = result.asset_value(dg.AssetKey(node.split("/")))
            st.setdefault("output_metadata", {})[name] = metadata(e.event_specific_data.metadata)
        elif kind == "ASSET_MATERIALIZATION":
            m = e.event_specific_data.materialization
            md = metadata(m.metadata)
            # Dagster's filesystem I/O manager adds where it stored the value; Weft's I/O
            # managers add nothing (COMPAT.md, "Differences").
            if md.get("path", {}).get("value", "").find(os.sep + "storage" + os.sep) >= 0:
                del md["path"]
            materializations.append({"asset_key": "/".join(m.asset_key.path), "metadata": md})
    return {
        "refused": False,
        "status": "SUCCESS" if result.success else "FAILURE",
        "steps": steps,
        "events": events,
        "materializations": sorted(materializations, key=lambda m: m["asset_key"]),
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
