"""``Definitions``: everything a code location defines."""

from __future__ import annotations

import inspect
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from .asset import AssetKey, AssetsDefinition, UnresolvedAssetJobDefinition
from .check import AssetChecksDefinition, split_checks
from .errors import DefinitionError
from .graph_asset import GraphAssetDefinition
from .hook import HookDefinition
from .job import JobDefinition
from .multi_asset import AssetSpec, MultiAssetDefinition
from .op import OpDefinition
from .schedule import ScheduleDefinition
from .sensor import SensorDefinition


class Definitions:
    """Everything the code location defines (Dagster's ``Definitions``).

    ``assets`` takes ``@asset``s, ``@multi_asset``s and ``@graph_asset``s; ``jobs`` takes
    ``@job``s and ``define_asset_job``s; the ops and hooks of the jobs and of the graph
    assets, and the jobs that schedules and sensors name, are included. ``asset_checks`` takes
    ``@asset_check``s (in ``assets`` too, as Dagster takes them), each of an asset defined
    here. ``resources`` gives defaults for resources the host does not set (the host's
    values, from ``weft.yaml``, win).
    The module that makes it is what the component serves: build it with ``weft build``.
    """

    latest: Optional["Definitions"] = None

    def __init__(
        self,
        assets: Optional[Sequence[AssetsDefinition]] = None,
        jobs: Optional[Sequence[Any]] = None,
        schedules: Optional[Sequence[ScheduleDefinition]] = None,
        sensors: Optional[Sequence[SensorDefinition]] = None,
        resources: Optional[Mapping[str, Any]] = None,
        ops: Optional[Sequence[OpDefinition]] = None,
        asset_checks: Optional[Sequence[AssetChecksDefinition]] = None,
    ) -> None:
        items, checks_in_assets = split_checks(assets)
        # Assets and multi-assets in the order given: the contract lists their assets so.
        self.asset_items: List[Union[AssetsDefinition, MultiAssetDefinition]] = _asset_items(items)
        self.assets: List[AssetsDefinition] = [a for a in self.asset_items if isinstance(a, AssetsDefinition)]
        self.multi_assets: List[MultiAssetDefinition] = [
            m for m in self.asset_items if isinstance(m, MultiAssetDefinition)
        ]
        self.jobs: List[JobDefinition] = []
        self.asset_jobs: List[UnresolvedAssetJobDefinition] = []
        self.schedules: List[ScheduleDefinition] = list(schedules or [])
        self.sensors: List[SensorDefinition] = list(sensors or [])
        self.resources: Dict[str, Any] = dict(resources or {})
        for candidate in list(jobs or []) + [s.job for s in self.schedules] + [s.job for s in self.sensors]:
            self._add_job(candidate)
        # The graph assets, whose ops run as steps of their own (`graph.op`).
        self.graph_assets: List[GraphAssetDefinition] = [
            a for a in self.assets if isinstance(a, GraphAssetDefinition)
        ]
        self.ops: Dict[str, OpDefinition] = {}
        graph_ops = [o for g in self.graph_assets for o in g.ops()]
        for op_def in list(ops or []) + [o for j in self.jobs for o in j.ops()] + graph_ops:
            known = self.ops.setdefault(op_def.name, op_def)
            if known is not op_def:
                raise DefinitionError(f"two different ops are named `{op_def.name}`")
        # Dagster's Definitions takes no hooks: they are the jobs' (and the graph assets').
        self.hooks: Dict[str, HookDefinition] = {}
        owners: List[Any] = self.jobs + self.graph_assets
        for hook in [h for owner in owners for h in owner.all_hooks()]:
            if self.hooks.setdefault(hook.name, hook) is not hook:
                raise DefinitionError(f"two different hooks are named `{hook.name}`")
        frame = inspect.currentframe()
        caller = frame.f_back.f_globals if frame is not None and frame.f_back is not None else {}
        for schedule in self.schedules:
            if schedule.explicit_name is None:
                bound = [n for n, v in caller.items() if v is schedule and not n.startswith("_")]
                if bound:
                    schedule.name = bound[0]
        self.asset_keys: List[AssetKey] = [k for item in self.asset_items for k in _keys(item)]
        self._assets_by_key = {tuple(a.key.path): a for a in self.assets}
        if len(set(self.asset_keys)) != len(self.asset_keys):
            twice = sorted({k.to_user_string() for k in self.asset_keys if self.asset_keys.count(k) > 1})
            raise DefinitionError(f"two assets have the same key ({', '.join(twice)})")
        self._check_graph_nodes()
        self._multi_assets_by_name: Dict[str, MultiAssetDefinition] = {}
        for multi in self.multi_assets:
            if self._multi_assets_by_name.setdefault(multi.name, multi) is not multi:
                raise DefinitionError(f"two multi-assets are named `{multi.name}`")
            if multi.name in {k.to_user_string() for k in self.asset_keys}:
                raise DefinitionError(
                    f"multi-asset `{multi.name}` has the name of an asset; Weft keys its step by its name: "
                    "rename it with @multi_asset(name=...)"
                )
        self.asset_checks: List[AssetChecksDefinition] = []
        for check in checks_in_assets + list(asset_checks or []):
            self._add_check(check)
        Definitions.latest = self

    def _check_graph_nodes(self) -> None:
        """Each node of a graph asset is a step of its own: no two may have one name."""
        self._graph_nodes: Dict[str, GraphAssetDefinition] = {}
        for graph_asset in self.graph_assets:
            for node in graph_asset.nodes:
                other = self._graph_nodes.setdefault(node.name, graph_asset)
                if other is not graph_asset:
                    raise DefinitionError(
                        f"{graph_asset.what} and {other.what} both have the node `{node.name}` (their graphs "
                        "are named alike): rename one"
                    )

    def graph_asset_of_step(self, step_key: str, op_name: str, job: str) -> Optional[GraphAssetDefinition]:
        """The graph asset whose node ``step_key`` (running ``op_name``) a step of the asset
        job ``job`` runs, if it is one (a @job's steps are its own nodes)."""
        if any(j.name == job for j in self.jobs):
            return None
        graph_asset = self._graph_nodes.get(step_key)
        if graph_asset is None or not any(n.name == step_key and n.op.name == op_name for n in graph_asset.nodes):
            return None
        return graph_asset

    def _add_check(self, check: Any) -> None:
        if not isinstance(check, AssetChecksDefinition):
            raise DefinitionError(f"not an asset check: {check!r}; make it one with @asset_check(asset=...)")
        if any(known is check for known in self.asset_checks):
            return
        asset = check.asset_key.to_user_string()
        if check.asset_key not in self.asset_keys:
            raise DefinitionError(f"check `{check.name}` checks asset `{asset}`, which this location does not define")
        if any(known.name == check.name and known.asset_key == check.asset_key for known in self.asset_checks):
            raise DefinitionError(f"asset `{asset}` has two different checks named `{check.name}`")
        self.asset_checks.append(check)

    def _add_job(self, candidate: Any) -> None:
        if candidate is None or isinstance(candidate, str):
            return
        if isinstance(candidate, JobDefinition):
            group: List[Any] = self.jobs
        elif isinstance(candidate, UnresolvedAssetJobDefinition):
            group = self.asset_jobs
        else:
            raise DefinitionError(f"not a job: {candidate!r}")
        for known in self.jobs + self.asset_jobs:
            if known is candidate:
                return
            if known.name == candidate.name:
                raise DefinitionError(f"two different jobs are named `{candidate.name}`")
        group.append(candidate)

    def get_op(self, name: str) -> Optional[OpDefinition]:
        return self.ops.get(name)

    def get_hook(self, name: str) -> Optional[HookDefinition]:
        return self.hooks.get(name)

    def get_asset(self, key: Sequence[str]) -> Optional[AssetsDefinition]:
        return self._assets_by_key.get(tuple(key))

    def get_multi_asset(self, name: str) -> Optional[MultiAssetDefinition]:
        return self._multi_assets_by_name.get(name)

    def get_asset_check(self, key: Sequence[str], name: str) -> Optional[AssetChecksDefinition]:
        """The check ``name`` of the asset ``key`` (its parts)."""
        for check in self.asset_checks:
            if check.asset_key.path == list(key) and check.name == name:
                return check
        return None

    def get_job_def(self, name: str) -> Any:
        for candidate in self.jobs + self.asset_jobs:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def get_sensor_def(self, name: str) -> SensorDefinition:
        for candidate in self.sensors:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def get_schedule_def(self, name: str) -> ScheduleDefinition:
        for candidate in self.schedules:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


def _keys(item: Union[AssetsDefinition, MultiAssetDefinition]) -> List[AssetKey]:
    return [item.key] if isinstance(item, AssetsDefinition) else item.keys


def _asset_items(items: Sequence[Any]) -> List[Union[AssetsDefinition, MultiAssetDefinition]]:
    """``Definitions(assets=...)`` without its checks: each an asset or a multi-asset, once."""
    found: List[Union[AssetsDefinition, MultiAssetDefinition]] = []
    for item in items:
        if isinstance(item, AssetSpec):
            raise DefinitionError(
                f"Definitions: {item!r} in assets is an external asset, which Weft does not support; "
                "an AssetSpec is an asset of a @multi_asset(specs=[...])"
            )
        if not isinstance(item, (AssetsDefinition, MultiAssetDefinition)):
            raise DefinitionError(
                f"Definitions: not an asset: {item!r}; make it one with @asset, @multi_asset or @graph_asset"
            )
        if not any(known is item for known in found):
            found.append(item)
    return found
