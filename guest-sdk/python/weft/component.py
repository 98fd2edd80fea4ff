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
import inspect
import json
import linecache
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

from . import definitions as _definitions
from ._args import string_tags
from ._host import Err, wit
from .asset import AssetsDefinition
from .check import AssetCheckExecutionContext, result_to_wit
from .context import OpExecutionContext, ScheduleEvaluationContext, SensorEvaluationContext
from .errors import Failure, describe
from .hook import SUCCESS, HookContext
from .job import JobDefinition
from .config import schema_text
from .metadata import to_wit as _metadata_value
from .op import ComputeFn, OpDefinition, Out, Output, RetryPolicy
from .run_request import DefaultStatus, RunRequest
from .sensor import DagsterRun, DagsterRunStatus, SensorDefinition

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


def _tags(tags: Any) -> List[Any]:
    return sorted(string_tags(tags).items())


def _retry(policy: Optional[RetryPolicy]) -> Any:
    if policy is None:
        return None
    return wit.RetryPolicy(
        max_retries=policy.max_retries,
        delay_ms=policy.delay_ms,
        backoff=wit.Backoff.EXPONENTIAL if policy.exponential else wit.Backoff.CONSTANT,
    )


def _op_def(op: OpDefinition) -> Any:
    single = list(op.outs) == ["result"]
    return wit.OpDef(
        name=op.name,
        description=op.description,
        inputs=[wit.InputDef(name=n, description=None, type_name=t) for n, t in op.compute.inputs],
        outputs=[
            wit.OutputDef(
                name=name,
                description=out.description,
                type_name=op.compute.output_type if single else _type_of(out),
                required=out.is_required,
            )
            for name, out in op.outs.items()
        ],
        config_schema=schema_text(op.config_schema),
        tags=_tags(op.tags),
        retry_policy=_retry(op.retry_policy),
    )


def _job_def(job: JobDefinition) -> Any:
    return wit.JobDef(
        name=job.name,
        description=job.description,
        tags=_tags(job.tags),
        nodes=[
            wit.NodeDef(
                name=node.name,
                op=node.op.name,
                inputs=[
                    wit.InputBinding(
                        input=input_name,
                        sources=[wit.OutputRef(node=s.node, output=s.output) for s in sources],
                        fan_in=fan_in,
                    )
                    for input_name, sources, fan_in in node.inputs
                ],
                tags=_tags(node.tags),
                hooks=job.node_hooks(node),
            )
            for node in job.nodes
        ],
    )


def _asset_def(asset: AssetsDefinition, defs: _definitions.Definitions) -> Any:
    deps = [
        wit.AssetDep(key=key.path, input=name)
        for name, key in zip(asset.compute.input_names, asset.input_keys(defs.asset_keys))
    ]
    deps += [wit.AssetDep(key=key.path, input=None) for key in asset.ordering_deps]
    return wit.AssetDef(
        key=asset.key.path,
        group=asset.group_name,
        description=asset.description,
        kinds=asset.kinds,
        deps=deps,
        tags=_tags(asset.tags),
        retry_policy=_retry(asset.retry_policy),
        config_schema=schema_text(asset.config_schema),
    )


def _status(status: DefaultStatus) -> Any:
    return wit.DefaultStatus.RUNNING if status == DefaultStatus.RUNNING else wit.DefaultStatus.STOPPED


class Definitions:
    """The ``definitions`` export."""

    def get(self) -> Any:
        defs = _registered()
        try:
            return wit.Definitions(
                ops=[_op_def(o) for o in defs.ops.values()],
                jobs=[_job_def(j) for j in defs.jobs],
                assets=[_asset_def(a, defs) for a in defs.assets],
                asset_jobs=[
                    wit.AssetJobDef(
                        name=j.name, description=j.description, selection=str(j.selection), tags=_tags(j.tags)
                    )
                    for j in defs.asset_jobs
                ],
                schedules=[
                    wit.ScheduleDef(
                        name=s.name,
                        job=s.job_name,
                        cron=s.cron_schedule,
                        timezone=s.execution_timezone,
                        description=s.description,
                        tags=_tags(s.tags),
                        default_status=_status(s.default_status),
                        evaluates=s.evaluates,
                    )
                    for s in defs.schedules
                ],
                sensors=[
                    wit.SensorDef(
                        name=s.name,
                        job=s.job_name,
                        minimum_interval_seconds=s.minimum_interval_seconds,
                        description=s.description,
                        default_status=_status(s.default_status),
                        kind=_sensor_kind(s),
                    )
                    for s in defs.sensors
                ],
                hooks=[
                    wit.HookDef(
                        name=h.name,
                        description=h.description,
                        on=wit.HookTrigger.SUCCESS if h.on == SUCCESS else wit.HookTrigger.FAILURE,
                    )
                    for h in sorted(defs.hooks.values(), key=lambda h: h.name)
                ],
                asset_checks=[
                    wit.AssetCheckDef(
                        name=c.name,
                        asset=c.asset_key.path,
                        description=c.description,
                        blocking=c.blocking,
                        input=c.input_name,
                    )
                    for c in defs.asset_checks
                ],
            )
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


def _type_of(out: Out) -> Optional[str]:
    t = out.dagster_type
    if t is None:
        return None
    return t if isinstance(t, str) else getattr(t, "__name__", str(t))


_RESULT = {"result": Out()}


def _target(ctx: Any, defs: _definitions.Definitions) -> "tuple[ComputeFn, Dict[str, Out], Optional[List[str]], str]":
    """The compute function a step runs, its outputs, its asset key if an asset, and its name."""
    if isinstance(ctx.target, wit.StepTarget_Op):
        op = defs.get_op(ctx.target.value)
        if op is None:
            raise _fail(f"this location has no op `{ctx.target.value}`", False)
        return op.compute, op.outs, None, op.name
    if isinstance(ctx.target, wit.StepTarget_Check):
        check = ctx.target.value
        raise _fail(
            f"step `{ctx.step_key}` evaluates check `{check.name}` of asset `{'/'.join(check.asset)}`: "
            "checks.evaluate runs it, not ops.execute",
            False,
        )
    key = list(ctx.target.value)
    asset = defs.get_asset(key)
    if asset is None:
        raise _fail(f"this location has no asset `{'/'.join(key)}`", False)
    return asset.compute, _RESULT, key, "/".join(key)


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


def _named(item: Any, name: str) -> Output:
    """An element of a returned tuple as the output at its position (an ``Output`` that
    names none takes that position's name)."""
    if not isinstance(item, Output):
        return Output(item, output_name=name)
    if item.output_name == "result":
        return Output(item.value, output_name=name, metadata=item.metadata)
    return item


def _produced(result: Any, outs: Dict[str, Out], what: str) -> List[Tuple[str, Any, Dict[str, Any]]]:
    """What a compute function returned or yielded, as ``(output, value, metadata)``, in
    the order produced: one value (or ``Output``) for one output; a tuple of them in
    declared order for several; or the ``Output``s a generator yields."""
    names = list(outs)
    if inspect.isgenerator(result):
        items = []
        for item in result:
            if not isinstance(item, Output):
                if names == ["result"] and not items:
                    item = Output(item)
                else:
                    raise Failure(f"{what} yielded {type(item).__name__}; yield Output(value, output_name=...)", allow_retries=False)
            items.append(item)
    elif names == ["result"]:
        items = [result if isinstance(result, Output) else Output(result)]
    elif isinstance(result, Output):
        items = [result]
    elif isinstance(result, tuple) and len(result) == len(names):
        items = [_named(r, n) for r, n in zip(result, names)]
    else:
        raise Failure(
            f"{what} has outputs {', '.join(names)}: return a tuple of {len(names)} values in that order, "
            "or yield Output(value, output_name=...) for each",
            allow_retries=False,
        )
    produced: List[Tuple[str, Any, Dict[str, Any]]] = []
    for item in items:
        if item.output_name not in outs:
            raise Failure(f"{what} produced output `{item.output_name}`, which it does not declare ({', '.join(names)})", allow_retries=False)
        if any(name == item.output_name for name, _, _ in produced):
            raise Failure(f"{what} produced output `{item.output_name}` twice", allow_retries=False)
        produced.append((item.output_name, item.value, item.metadata))
    return produced


def _step_context(cls: Any, ctx: Any, defs: Any, asset_key: Any) -> Any:
    """The context (``cls``: an op's or a check's) of the step ``ctx`` describes."""
    return cls(
        run_id=ctx.run_id,
        job_name=ctx.job,
        step_key=ctx.step_key,
        attempt=ctx.attempt,
        partition_key=ctx.partition,
        tags=dict(ctx.tags),
        config=ctx.config,
        asset_key=asset_key,
        resources=defs.resources,
    )


class Ops:
    """The ``ops`` export: runs the op or asset a step targets."""

    def execute(self, ctx: Any, inputs: List[Any]) -> List[Any]:
        defs = _registered()
        compute, outs, asset_key, name = _target(ctx, defs)
        context = _step_context(OpExecutionContext, ctx, defs, asset_key)
        what = compute.what if ctx.step_key == name else f"{compute.what} (step `{ctx.step_key}`)"
        try:
            values = _input_values(inputs, what)
            produced = _produced(compute.call(context, values), outs, what)
            step_outputs = []
            for output_name, value, metadata in produced:
                try:
                    data = json.dumps(value).encode("utf-8")
                except (TypeError, ValueError) as error:
                    raise Failure(f"{what} returned a value that is not JSON: {error}", allow_retries=False)
                entries = context.metadata_for(output_name) + list(metadata.items())
                step_outputs.append(
                    wit.StepOutput(
                        name=output_name,
                        value=wit.Value(codec="json", data=data),
                        metadata=[(str(k), _metadata_value(wit, v)) for k, v in entries],
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
        context = _step_context(AssetCheckExecutionContext, ctx, defs, key)
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
        tags=_tags(request.tags),
    )


_RUN_ENDS = {
    DagsterRunStatus.SUCCESS: "SUCCESS",
    DagsterRunStatus.FAILURE: "FAILURE",
    DagsterRunStatus.CANCELED: "CANCELED",
}


def _sensor_kind(sensor: SensorDefinition) -> Any:
    if sensor.run_status is None:
        return wit.SensorKind_Standard()
    return wit.SensorKind_RunStatus(
        wit.RunStatusFilter(
            status=wit.RunEnd[_RUN_ENDS[sensor.run_status]],
            monitored_jobs=list(sensor.monitored_jobs),
            all_locations=sensor.monitor_all_code_locations,
        )
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
