"""Contexts handed to ops, assets and sensors: logger, config, resources, run facts."""

from __future__ import annotations

import datetime
import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from . import _host
from .asset_key import AssetKey
from .errors import Failure


class Logger:
    """A step's or sensor's log (Dagster's ``context.log``): lines go to the host's ``log``.

    ``context.log.info("read %d rows", n, table="orders")`` formats like :mod:`logging`
    and sends keyword arguments as structured fields.
    """

    def _write(self, level: str, msg: Any, args: Sequence[Any], fields: Mapping[str, Any]) -> None:
        text = str(msg)
        if args:
            try:
                text = text % tuple(args)
            except (TypeError, ValueError):
                text = " ".join([text, *map(str, args)])
        _host.write_log(level, text, [(str(k), str(v)) for k, v in fields.items()])

    def trace(self, msg: Any, *args: Any, **fields: Any) -> None:
        self._write("trace", msg, args, fields)

    def debug(self, msg: Any, *args: Any, **fields: Any) -> None:
        self._write("debug", msg, args, fields)

    def info(self, msg: Any, *args: Any, **fields: Any) -> None:
        self._write("info", msg, args, fields)

    def warning(self, msg: Any, *args: Any, **fields: Any) -> None:
        self._write("warning", msg, args, fields)

    warn = warning

    def error(self, msg: Any, *args: Any, **fields: Any) -> None:
        self._write("error", msg, args, fields)

    critical = error
    exception = error


_LOGGER = Logger()


def get_logger() -> Logger:
    """The log of whatever step or sensor is running (Dagster's ``get_dagster_logger``)."""
    return _LOGGER


get_dagster_logger = get_logger


class Resources:
    """The location's resources, set in the instance's ``weft.yaml`` (Dagster's
    ``context.resources``): ``context.resources.warehouse_url``.

    A resource with codec ``json`` is decoded; any other is handed over as bytes. A name
    the host does not know falls back to ``Definitions(resources=...)``, then raises
    :class:`AttributeError`.
    """

    def __init__(self, defaults: Optional[Mapping[str, Any]] = None) -> None:
        self._defaults = dict(defaults or {})
        self._cache: Dict[str, Any] = {}

    def get(self, name: str, default: Any = None) -> Any:
        """The resource ``name``, or ``default`` when it is not set."""
        if name in self._cache:
            return self._cache[name]
        found = _host.get_resource(name)
        if found is None:
            if name in self._defaults:
                return self._defaults[name]
            return default
        codec, data = found
        value: Any = data
        if codec == "json":
            try:
                value = json.loads(data.decode("utf-8"))
            except ValueError:
                value = data.decode("utf-8", "replace")
        self._cache[name] = value
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        missing = object()
        value = self.get(name, missing)
        if value is missing:
            raise AttributeError(
                f"no resource named {name!r}: set it for this location in weft.yaml"
            )
        return value

    def __getitem__(self, name: str) -> Any:
        try:
            return self.__getattr__(name)
        except AttributeError as error:
            raise KeyError(name) from error


class OpExecutionContext:
    """What a step knows about itself (Dagster's ``OpExecutionContext``).

    An op or asset receives it when its first parameter is named ``context`` (or
    ``ctx``, or annotated with this class).
    """

    def __init__(
        self,
        *,
        run_id: str = "test",
        job_name: str = "test",
        step_key: str = "test",
        attempt: int = 1,
        partition_key: Optional[str] = None,
        tags: Optional[Mapping[str, str]] = None,
        config: Optional[str] = None,
        asset_key: Optional[List[str]] = None,
        resources: Optional[Mapping[str, Any]] = None,
        selected_output_names: Optional[Sequence[str]] = None,
        keys_by_output: Optional[Mapping[str, Sequence[str]]] = None,
        multi_asset: Optional[str] = None,
        mapping_key: Optional[str] = None,
    ) -> None:
        self.run_id = run_id
        self.job_name = job_name
        self.step_key = step_key
        self.attempt = attempt
        self.partition_key = partition_key
        self.run_tags: Dict[str, str] = dict(tags or {})
        self._config_text = config
        self._asset_key = asset_key
        # The outputs this step produces (a multi-asset's: those of the selected assets),
        # and the asset each materializes; the multi-asset's name, for a multi-asset's step.
        self._selected_outputs = list(selected_output_names) if selected_output_names is not None else None
        self._keys_by_output = {name: list(key) for name, key in (keys_by_output or {}).items()}
        self._multi_asset = multi_asset
        self._mapping_key = mapping_key
        self.log = _LOGGER
        self.resources = Resources(resources)
        # (the output it is for, or None for every output; the mapping key of the dynamic
        # output's value it is for, or None; key; value)
        self._metadata: List[Tuple[Optional[str], Optional[str], str, Any]] = []

    @property
    def retry_number(self) -> int:
        """0 for the first attempt, 1 for the first retry (Dagster's name)."""
        return self.attempt - 1

    def get_mapping_key(self) -> Optional[str]:
        """The mapping key of the step, mapped over a dynamic output (its step key is
        ``op[key]``); ``None`` for any other step."""
        return self._mapping_key

    @property
    def has_partition_key(self) -> bool:
        return self.partition_key is not None

    @property
    def tags(self) -> Dict[str, str]:
        """The run's tags merged with the op's or asset's."""
        return self.run_tags

    @property
    def op_config(self) -> Any:
        """The step's config (run config ``ops.<step key>.config``), decoded; ``None`` if none."""
        if self._config_text is None:
            return None
        try:
            return json.loads(self._config_text)
        except ValueError as error:
            raise Failure(f"the step's config is not JSON: {error}", allow_retries=False)

    config = op_config

    @property
    def asset_key(self) -> AssetKey:
        """The key of the asset being materialized."""
        if self._asset_key is None and self._multi_asset is not None:
            raise AttributeError(
                f"step `{self.step_key}` runs multi-asset `{self._multi_asset}`, which materializes several "
                "assets: use context.selected_asset_keys or context.asset_key_for_output(name)"
            )
        if self._asset_key is None:
            raise AttributeError("this step materializes no asset")
        return AssetKey(self._asset_key)

    @property
    def selected_output_names(self) -> Set[str]:
        """The outputs the step produces: a multi-asset's, those of the assets the run
        materializes (Dagster's ``can_subset``); an op's, every one; an asset's, ``result``."""
        if self._selected_outputs is not None:
            return set(self._selected_outputs)
        return {"result"}

    @property
    def selected_asset_keys(self) -> Set[AssetKey]:
        """The assets the step materializes: of a multi-asset, those the run selects; of an
        asset, its key; of an op, none."""
        if self._keys_by_output:
            return {AssetKey(key) for name, key in self._keys_by_output.items() if name in self.selected_output_names}
        return {AssetKey(self._asset_key)} if self._asset_key is not None else set()

    def asset_key_for_output(self, output_name: str = "result") -> AssetKey:
        """The asset the output ``output_name`` materializes."""
        if output_name in self._keys_by_output:
            return AssetKey(self._keys_by_output[output_name])
        if output_name == "result" and self._asset_key is not None:
            return AssetKey(self._asset_key)
        raise AttributeError(f"output `{output_name}` of step `{self.step_key}` materializes no asset")

    def add_output_metadata(
        self, metadata: Mapping[str, Any], output_name: Optional[str] = None, mapping_key: Optional[str] = None
    ) -> None:
        """Typed values shown beside the step's output (row counts, paths, links; see
        ``MetadataValue``): of ``output_name``, or of every output the step produces. Of a
        dynamic output, of its value under ``mapping_key``, which it needs (as Dagster)."""
        for key, value in metadata.items():
            self._metadata.append((output_name, mapping_key, str(key), value))

    def metadata_for(self, output_name: str, mapping_key: Optional[str] = None) -> List[Tuple[str, Any]]:
        """The metadata added for ``output_name`` (of a dynamic output, for its value under
        ``mapping_key``: metadata added for the output with no key fails the step, as in
        Dagster), in order."""
        entries = [(mk, k, v) for to, mk, k, v in self._metadata if to is None or to == output_name]
        if mapping_key is not None and any(mk is None for mk, _, _ in entries):
            raise Failure(
                f"step `{self.step_key}` added metadata for dynamic output `{output_name}` without a mapping key: "
                "say which value it is for with add_output_metadata(..., mapping_key=...)",
                allow_retries=False,
            )
        return [(k, v) for mk, k, v in entries if mk is None or mk == mapping_key]


AssetExecutionContext = OpExecutionContext


class SensorEvaluationContext:
    """What a sensor evaluation knows (Dagster's ``SensorEvaluationContext``)."""

    def __init__(
        self,
        *,
        cursor: Optional[str] = None,
        last_evaluation_ms: Optional[int] = None,
        sensor_name: str = "test",
        resources: Optional[Mapping[str, Any]] = None,
        dagster_run: Optional[Any] = None,
    ) -> None:
        self.cursor = cursor
        # For a run-status sensor: the run that ended (a ``DagsterRun``).
        self.dagster_run = dagster_run
        self.sensor_name = sensor_name
        self.last_evaluation_ms = last_evaluation_ms
        self.log = _LOGGER
        self.resources = Resources(resources)
        self._cursor_updated = False

    @property
    def last_tick_completion_time(self) -> Optional[float]:
        """When the previous evaluation happened, in seconds since the Unix epoch."""
        if self.last_evaluation_ms is None:
            return None
        return self.last_evaluation_ms / 1000.0

    def update_cursor(self, cursor: Optional[str]) -> None:
        """Stores ``cursor`` for the next evaluation (kept only if this one succeeds)."""
        self.cursor = cursor
        self._cursor_updated = True


class ScheduleEvaluationContext:
    """What a schedule evaluation knows (Dagster's ``ScheduleEvaluationContext``)."""

    def __init__(self, *, scheduled_time_ms: int = 0, resources: Optional[Mapping[str, Any]] = None):
        self.scheduled_time_ms = scheduled_time_ms
        self.log = _LOGGER
        self.resources = Resources(resources)

    @property
    def scheduled_execution_time(self) -> Any:
        """The tick's time as an aware UTC :class:`datetime.datetime`."""
        return datetime.datetime.fromtimestamp(self.scheduled_time_ms / 1000.0, datetime.timezone.utc)
