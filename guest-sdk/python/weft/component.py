"""The component's exports: serve a module's ``Definitions`` to the Weft host.

``weft build`` (or ``build_python`` in weft-build) componentizes a small generated module
that calls :func:`load` with the author's module name and re-exports the six classes
below, one per interface the ``code-location`` world exports, which componentize-py looks
up by name::

    from weft.component import Checks, Definitions, Hooks, Ops, Schedules, Sensors, load
    load("defs")

So the author's ``defs.py`` stays plain Dagster-style code.
"""

from __future__ import annotations

import importlib
import json
import linecache
import os
import sys
from typing import Any, Callable, Dict, List, Optional

from . import definitions as _definitions
from ._host import Err, wit
from ._wit_defs import tags, to_wit
from .asset_key import AssetKey
from .check import AssetCheckExecutionContext, result_to_wit
from .context import OpExecutionContext, ScheduleEvaluationContext, SensorEvaluationContext
from .errors import Failure, describe
from .graph_asset import GraphAssetDefinition
from .hook import HookContext
from .metadata import to_wit as _metadata_value
from .op import ComputeFn, Out
from .outputs import multi_produced, produced
from .run_request import RunRequest
from .sensor import DagsterRun, DagsterRunStatus

_loaded: Optional[_definitions.Definitions] = None
_load_error: Optional[str] = None


def load(module_name: str) -> _definitions.Definitions:
    """Imports ``module_name`` and serves its ``Definitions``: the attribute ``defs``, or
    else the only ``Definitions`` among its names, or else the last one made."""
    global _loaded
    module = importlib.import_module(module_name)
    found = getattr(module, "defs", None)
    if not isinstance(found, _definitions.Definitions):
        candidates = [v for v in vars(module).values() if isinstance(v, _definitions.Definitions)]
        found = candidates[0] if len(candidates) == 1 else _definitions.Definitions.latest
    if found is None:
        raise RuntimeError(f"module `{module_name}` makes no Definitions(...): add `defs = Definitions(...)`")
    _loaded = found
    _keep_sources(module)
    return found


def _keep_sources(module: Any) -> None:
    """Caches the source of the author's files while they are readable (at build time,
    before componentize-py snapshots the interpreter), so tracebacks show their lines."""
    path = getattr(module, "__file__", None)
    if not path:
        return
    root = os.path.dirname(os.path.abspath(path))
    if os.path.basename(path) == "__init__.py":
        root = os.path.dirname(root)
    for other in list(sys.modules.values()):
        filename = getattr(other, "__file__", None)
        if not filename or not filename.endswith(".py") or not filename.startswith(root + os.sep):
            continue
        lines = linecache.getlines(filename)
        if lines:  # mtime None: linecache.checkcache keeps the entry without a file to stat
            linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)


def _registered() -> _definitions.Definitions:
    found = _loaded if _loaded is not None else _definitions.Definitions.latest
    if found is None:
        raise Err(wit.Failure(message="the code location made no Definitions(...)", retryable=False))
    return found


def _fail(message: str, retryable: bool) -> Err:
    return Err(wit.Failure(message=message, retryable=retryable))


def _from_exception(error: BaseException) -> Err:
    if isinstance(error, Failure):
        return _fail(error.description, error.allow_retries)
    return _fail(describe(error), True)


# --- definitions ------------------------------------------------------------------------


class Definitions:
    """The ``definitions`` export."""

    def get(self) -> Any:
        defs = _registered()
        try:
            return to_wit(defs)
        except Exception as error:  # noqa: BLE001 - a bad definition rejects the location
            raise _fail(f"cannot build the definitions: {describe(error)}", False)


# --- steps --------------------------------------------------------------------------------


def _decode(value: Any, what: str, input_name: str) -> Any:
    if value.codec != "json":
        raise Failure(f"{what}: input `{input_name}` has codec `{value.codec}`, not json", allow_retries=False)
    try:
        return json.loads(bytes(value.data).decode("utf-8"))
    except ValueError as error:
        raise Failure(f"{what}: input `{input_name}` is not JSON: {error}", allow_retries=False)


_RESULT = {"result": Out()}


class _Target:
    """What a step runs: its compute function and name, the outputs it produces and how
    (``produce``: the function's result to ``(output, value, metadata)``), and what its
    context says of the assets it materializes."""

    def __init__(self, compute: ComputeFn, name: str, produce: Callable[[Any, str], Any], **context: Any) -> None:
        self.compute = compute
        self.name = name
        self.produce = produce
        self.context = context


def _multi_target(target: Any, defs: _definitions.Definitions) -> _Target:
    multi = defs.get_multi_asset(target.name)
    if multi is None:
        raise _fail(f"this location has no multi-asset `{target.name}`", False)
    outputs = multi.outputs_by_key
    selected = []
    for key in target.selected:
        if AssetKey(list(key)) not in outputs:
            raise _fail(f"multi-asset `{multi.name}` does not materialize asset `{'/'.join(key)}`", False)
        selected.append(outputs[AssetKey(list(key))])
    keys = {m.output: m.key.path for m in multi.assets}
    return _Target(
        multi.compute,
        multi.name,
        lambda result, what: multi_produced(result, multi, selected, what),
        asset_key=multi.keys[0].path if len(multi.assets) == 1 else None,
        selected_output_names=selected,
        keys_by_output=keys,
        multi_asset=multi.name,
    )


def _target(ctx: Any, defs: _definitions.Definitions) -> _Target:
    """What the step ``ctx`` describes runs: an op (one of a job's, or of a graph asset's
    graph: ``boosted.double_score`` runs the op ``double_score``), an asset or a
    multi-asset."""
    if isinstance(ctx.target, wit.StepTarget_Op):
        op = defs.get_op(ctx.target.value)
        if op is None:
            raise _fail(f"this location has no op `{ctx.target.value}`", False)
        # An op of a graph asset's graph knows the asset, as Dagster's context does.
        graph_asset = defs.graph_asset_of_step(ctx.step_key, op.name, ctx.job)
        return _Target(op.compute, op.name, lambda result, what: produced(result, op.outs, what),
                       selected_output_names=list(op.outs),
                       asset_key=graph_asset.key.path if graph_asset is not None else None)
    if isinstance(ctx.target, wit.StepTarget_Check):
        check = ctx.target.value
        raise _fail(
            f"step `{ctx.step_key}` evaluates check `{check.name}` of asset `{'/'.join(check.asset)}`: "
            "checks.evaluate runs it, not ops.execute",
            False,
        )
    if isinstance(ctx.target, wit.StepTarget_MultiAsset):
        return _multi_target(ctx.target.value, defs)
    key = list(ctx.target.value)
    asset = defs.get_asset(key)
    if asset is None:
        raise _fail(f"this location has no asset `{'/'.join(key)}`", False)
    if isinstance(asset, GraphAssetDefinition):
        raise _fail(
            f"{asset.what} is computed by the ops of its graph, each a step of its own "
            f"(`{asset.graph_name}.<op>`, step-target.op): run those, not the asset",
            False,
        )
    return _Target(asset.compute, "/".join(key), lambda result, what: produced(result, _RESULT, what, key),
                   asset_key=key)


def _input_values(inputs: List[Any], what: str) -> Dict[str, Any]:
    """The step's inputs by name, decoded (a fan-in as the list of its values)."""
    values: Dict[str, Any] = {}
    for step_input in inputs:
        arg = step_input.arg
        if isinstance(arg, wit.InputArg_FanIn):
            values[step_input.name] = [_decode(v, what, step_input.name) for v in arg.value]
        else:
            values[step_input.name] = _decode(arg.value, what, step_input.name)
    return values


def _step_context(cls: Any, ctx: Any, defs: Any, **facts: Any) -> Any:
    """The context (``cls``: an op's or a check's) of the step ``ctx`` describes, with
    ``facts`` of the assets it materializes (``asset_key``...)."""
    return cls(
        run_id=ctx.run_id,
        job_name=ctx.job,
        step_key=ctx.step_key,
        attempt=ctx.attempt,
        partition_key=ctx.partition,
        tags=dict(ctx.tags),
        config=ctx.config,
        resources=defs.resources,
        mapping_key=ctx.mapping_key,
        **facts,
    )


class Ops:
    """The ``ops`` export: runs the op, asset or multi-asset a step targets."""

    def execute(self, ctx: Any, inputs: List[Any]) -> List[Any]:
        defs = _registered()
        target = _target(ctx, defs)
        context = _step_context(OpExecutionContext, ctx, defs, **target.context)
        compute = target.compute
        what = compute.what if ctx.step_key == target.name else f"{compute.what} (step `{ctx.step_key}`)"
        try:
            values = _input_values(inputs, what)
            step_outputs = []
            for output_name, value, metadata, mapping_key in target.produce(compute.call(context, values), what):
                try:
                    data = json.dumps(value).encode("utf-8")
                except (TypeError, ValueError) as error:
                    raise Failure(f"{what} returned a value that is not JSON: {error}", allow_retries=False)
                entries = context.metadata_for(output_name, mapping_key) + list(metadata.items())
                step_outputs.append(
                    wit.StepOutput(
                        name=output_name,
                        value=wit.Value(codec="json", data=data),
                        metadata=[(str(k), _metadata_value(wit, v)) for k, v in entries],
                        mapping_key=mapping_key,
                    )
                )
        except Err:
            raise
        except BaseException as error:  # noqa: BLE001 - any exception fails the step (Dagster too)
            raise _from_exception(error)
        return step_outputs


# --- asset checks ---------------------------------------------------------------------------


class Checks:
    """The ``checks`` export: evaluates the asset check a step targets."""

    def evaluate(self, ctx: Any, inputs: List[Any]) -> Any:
        defs = _registered()
        if not isinstance(ctx.target, wit.StepTarget_Check):
            raise _fail(f"step `{ctx.step_key}` is not an asset check: ops.execute runs it, not checks.evaluate", False)
        key, name = list(ctx.target.value.asset), ctx.target.value.name
        check = defs.get_asset_check(key, name)
        if check is None:
            raise _fail(f"this location has no check `{name}` of asset `{'/'.join(key)}`", False)
        context = _step_context(AssetCheckExecutionContext, ctx, defs, asset_key=key)
        try:
            values = _input_values(inputs, check.compute.what)
            return result_to_wit(wit, check, check.compute.call(context, values))
        except Err:
            raise
        except BaseException as error:  # noqa: BLE001 - any exception fails the step, as an op's
            raise _from_exception(error)


# --- sensors and schedules ------------------------------------------------------------------


def _request(request: RunRequest) -> Any:
    return wit.RunRequest(
        run_key=request.run_key,
        job=request.job_name,
        config=json.dumps(request.run_config) if request.run_config is not None else None,
        tags=tags(request.tags),
    )


def _ended_run(run: Any) -> Optional[DagsterRun]:
    if run is None:
        return None
    return DagsterRun(
        run_id=run.run_id,
        job_name=run.job,
        location_name=run.location,
        status=DagsterRunStatus[run.status.name],
        tags=dict(run.tags),
        failure_message=run.error,
        end_time_ms=run.ended_ms,
    )


class Sensors:
    """The ``sensors`` export."""

    def evaluate(self, name: str, ctx: Any) -> Any:
        defs = _registered()
        try:
            sensor = defs.get_sensor_def(name)
        except KeyError:
            raise _fail(f"this location has no sensor `{name}`", False)
        context = SensorEvaluationContext(
            cursor=ctx.cursor,
            last_evaluation_ms=ctx.last_evaluation_ms,
            sensor_name=name,
            resources=defs.resources,
            dagster_run=_ended_run(getattr(ctx, "run", None)),
        )
        try:
            result = sensor.evaluate(context)
            return wit.SensorResult(
                run_requests=[_request(r) for r in result.run_requests],
                skip_reason=result.skip_reason,
                cursor=result.cursor,
            )
        except BaseException as error:  # noqa: BLE001 - the tick fails, the host goes on
            raise _from_exception(error)


class Schedules:
    """The ``schedules`` export."""

    def evaluate(self, name: str, ctx: Any) -> Any:
        defs = _registered()
        try:
            schedule = defs.get_schedule_def(name)
        except KeyError:
            raise _fail(f"this location has no schedule `{name}`", False)
        context = ScheduleEvaluationContext(scheduled_time_ms=ctx.scheduled_time_ms, resources=defs.resources)
        try:
            result = schedule.evaluate(context)
            if not result.run_requests:
                return wit.ScheduleResult_Skip(result.skip_reason or "")
            return wit.ScheduleResult_RunRequests([_request(r) for r in result.run_requests])
        except BaseException as error:  # noqa: BLE001 - the tick fails, the host goes on
            raise _from_exception(error)


# --- hooks ----------------------------------------------------------------------------------


class Hooks:
    """The ``hooks`` export: runs a hook after a step of a node that names it."""

    def run(self, name: str, ctx: Any) -> None:
        defs = _registered()
        hook = defs.get_hook(name)
        if hook is None:
            raise _fail(f'no hook named "{name}" in this code location', False)
        context = HookContext(
            run_id=ctx.run_id,
            job_name=ctx.job,
            step_key=ctx.step_key,
            op_name=ctx.op,
            op_exception=None if ctx.failure is None else Failure(ctx.failure, allow_retries=False),
            resources=defs.resources,
            hook_def=hook,
        )
        try:
            hook.decorated_fn(context)
        except BaseException as error:  # noqa: BLE001 - the host reports it; the step's outcome stands
            # As an op reports it, but a hook is never retried.
            raise _fail(error.description if isinstance(error, Failure) else describe(error), False)
