"""The location's ``Definitions`` as the contract's ``definitions`` record: its ops (a
``DynamicOut`` as a ``dynamic`` output), jobs (a node mapped over a dynamic output reads it,
or a mapped node's output, as any other input; an input collecting one is ``collect``),
assets (an asset of a multi-asset as an ``asset-def`` of its own, whose ``multi`` names the
multi-asset and its output; a graph asset's ``graph``, its ops' nodes as a job's), asset
jobs, schedules, sensors, hooks and asset checks.
"""

from __future__ import annotations

from typing import Any, List, Optional, Union

from ._args import string_tags
from ._host import wit
from .asset import AssetsDefinition
from .composition import Node
from .config import schema_text
from .definitions import Definitions
from .graph_asset import GraphAssetDefinition
from .hook import SUCCESS
from .job import JobDefinition
from .multi_asset import MultiAssetDefinition
from .op import OpDefinition, Out, RetryPolicy
from .run_request import DefaultStatus
from .sensor import DagsterRunStatus, SensorDefinition


def tags(given: Any) -> List[Any]:
    """Tags as the contract's sorted pairs of strings."""
    return sorted(string_tags(given).items())


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
                dynamic=out.is_dynamic,
            )
            for name, out in op.outs.items()
        ],
        config_schema=schema_text(op.config_schema),
        tags=tags(op.tags),
        retry_policy=_retry(op.retry_policy),
    )


def _node_def(node: Node, hooks: List[str]) -> Any:
    """A node of a job or of a graph asset's graph, with its hooks (``hooks``, by name)."""
    return wit.NodeDef(
        name=node.name,
        op=node.op.name,
        inputs=[
            wit.InputBinding(
                input=input_name,
                sources=[wit.OutputRef(node=s.node, output=s.output) for s in sources],
                fan_in=fan_in,
                collect=input_name in node.collect,
            )
            for input_name, sources, fan_in in node.inputs
        ],
        tags=tags(node.tags),
        hooks=hooks,
    )


def _job_def(job: JobDefinition) -> Any:
    return wit.JobDef(
        name=job.name,
        description=job.description,
        tags=tags(job.tags),
        nodes=[_node_def(node, job.node_hooks(node)) for node in job.nodes],
    )


def _asset_def(asset: AssetsDefinition, defs: Definitions) -> Any:
    """An ``@asset`` or a ``@graph_asset``: a graph asset's ``graph`` lists the nodes of its
    graph (as a job's), the node inputs its parameters feed, and its output."""
    keys = asset.input_keys(defs.asset_keys)
    deps = [wit.AssetDep(key=key.path, input=name) for name, key in zip(asset.input_names, keys)]
    deps += [wit.AssetDep(key=key.path, input=None) for key in asset.ordering_deps]
    graph = None
    if isinstance(asset, GraphAssetDefinition):
        graph = wit.AssetGraph(
            nodes=[_node_def(node, asset.node_hooks(node)) for node in asset.nodes],
            inputs=[wit.AssetGraphInput(dep=dep, node=node, input=name) for dep, node, name in asset.graph_inputs],
            output=wit.OutputRef(node=asset.output.node, output=asset.output.output),
        )
    return wit.AssetDef(
        key=asset.key.path,
        group=asset.group_name,
        description=asset.description,
        kinds=asset.kinds,
        deps=deps,
        tags=tags(asset.tags),
        retry_policy=_retry(asset.retry_policy),
        config_schema=schema_text(asset.config_schema),
        multi=None,
        graph=graph,
    )


def _multi_asset_defs(multi: MultiAssetDefinition, defs: Definitions) -> List[Any]:
    """Each asset of ``multi`` as an ``asset-def`` naming it and its output. Every one
    lists the function's parameters as data deps (a run materializing any of them calls the
    function with all of them; the host unions them per step), then its own ordering deps:
    the multi-asset's ``deps``, or its ``AssetSpec``'s that are no parameter."""
    data = list(zip(multi.compute.input_names, multi.input_keys(defs.asset_keys)))
    config_schema = schema_text(multi.config_schema)
    made = []
    for member in multi.assets:
        ordering = [k for k in multi.ordering_deps + member.deps if k not in [key for _, key in data]]
        made.append(
            wit.AssetDef(
                key=member.key.path,
                group=member.group_name,
                description=member.description,
                kinds=member.kinds,
                deps=[wit.AssetDep(key=key.path, input=name) for name, key in data]
                + [wit.AssetDep(key=key.path, input=None) for key in dict.fromkeys(ordering)],
                tags=tags(member.tags),
                retry_policy=_retry(multi.retry_policy),
                config_schema=config_schema,
                multi=wit.MultiAssetOut(name=multi.name, output=member.output, can_subset=multi.can_subset),
                graph=None,
            )
        )
    return made


def _asset_defs(item: Union[AssetsDefinition, MultiAssetDefinition], defs: Definitions) -> List[Any]:
    if isinstance(item, MultiAssetDefinition):
        return _multi_asset_defs(item, defs)
    return [_asset_def(item, defs)]


def _status(status: DefaultStatus) -> Any:
    return wit.DefaultStatus.RUNNING if status == DefaultStatus.RUNNING else wit.DefaultStatus.STOPPED


def _type_of(out: Out) -> Optional[str]:
    t = out.dagster_type
    if t is None:
        return None
    return t if isinstance(t, str) else getattr(t, "__name__", str(t))


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


def to_wit(defs: Definitions) -> Any:
    """``defs`` as the contract's ``definitions``."""
    return wit.Definitions(
        ops=[_op_def(o) for o in defs.ops.values()],
        jobs=[_job_def(j) for j in defs.jobs],
        assets=[a for item in defs.asset_items for a in _asset_defs(item, defs)],
        asset_jobs=[
            wit.AssetJobDef(
                name=j.name, description=j.description, selection=str(j.selection), tags=tags(j.tags)
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
                tags=tags(s.tags),
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
