"""Sensors (Dagster's ``@sensor``), and run-status sensors (``@run_status_sensor``,
``@run_failure_sensor``): called once for each run of a watched job that ended with their
status."""

from __future__ import annotations

import inspect
from enum import Enum
from typing import Any, Callable, List, Mapping, Optional, Sequence

from ._args import reject_unknown
from .context import _LOGGER, Resources
from .errors import DefinitionError
from .run_request import DefaultStatus, SensorResult, call_with_context, collect, job_name


class SensorDefinition:
    """A function the daemon calls every ``minimum_interval_seconds``: it returns or yields
    ``RunRequest``s or a ``SkipReason``, and may move the cursor with
    ``context.update_cursor(...)`` (or ``SensorResult(cursor=...)``)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: Optional[str] = None,
        job: Any = None,
        minimum_interval_seconds: Optional[int] = None,
        description: Optional[str] = None,
        default_status: DefaultStatus = DefaultStatus.STOPPED,
    ) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.job = job
        self.job_name = job_name(job)
        self.minimum_interval_seconds = int(minimum_interval_seconds or 30)
        self.description = description if description is not None else inspect.getdoc(fn)
        self.default_status = default_status
        self.__wrapped__ = fn

        # What a run-status sensor watches (``None`` for a plain sensor).
        self.run_status: Optional[DagsterRunStatus] = None
        self.monitored_jobs: List[str] = []
        self.monitor_all_code_locations = False

    def evaluate(self, context: Any) -> SensorResult:
        if self.run_status is not None:
            return collect(call_with_context(self.fn, self._run_context(context)), f"sensor `{self.name}`")
        result = collect(call_with_context(self.fn, context), f"sensor `{self.name}`")
        if result.cursor is None and context._cursor_updated:
            result.cursor = context.cursor
        return result

    def _run_context(self, context: Any) -> "RunStatusSensorContext":
        """A run-status sensor's context: given, or made from the host's with its run."""
        if isinstance(context, RunStatusSensorContext):
            return context
        run = getattr(context, "dagster_run", None)
        if run is None:
            raise DefinitionError(f"run-status sensor `{self.name}` was evaluated without the run that ended")
        return RunStatusSensorContext(sensor_name=self.name, dagster_run=run, resources=context.resources)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


def sensor(
    job: Any = None,
    *,
    name: Optional[str] = None,
    minimum_interval_seconds: Optional[int] = None,
    description: Optional[str] = None,
    default_status: DefaultStatus = DefaultStatus.STOPPED,
    job_name: Optional[str] = None,
    **dagster_only: Any,
) -> Any:
    """Declare a sensor: ``@sensor(job=my_job, minimum_interval_seconds=30)``. The
    function may take a ``context`` (cursor, log, resources) or nothing."""
    reject_unknown("@sensor", dagster_only)
    if callable(job) and not hasattr(job, "name") and not isinstance(job, str):
        return SensorDefinition(job)  # bare @sensor

    def wrap(fn: Callable[..., Any]) -> SensorDefinition:
        return SensorDefinition(
            fn,
            name=name,
            job=job_name if job_name is not None else job,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
        )

    return wrap


class DagsterRunStatus(Enum):
    """How a run ended (the ends of Dagster's ``DagsterRunStatus``)."""

    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELED = "CANCELED"


class DagsterRun:
    """A run that ended, as a run-status sensor sees it (Dagster's ``DagsterRun``)."""

    def __init__(
        self,
        *,
        run_id: str,
        job_name: str,
        location_name: str = "",
        status: DagsterRunStatus = DagsterRunStatus.SUCCESS,
        tags: Optional[Mapping[str, str]] = None,
        failure_message: Optional[str] = None,
        end_time_ms: int = 0,
    ) -> None:
        self.run_id = run_id
        self.job_name = job_name
        self.location_name = location_name
        self.status = status
        self.tags = dict(tags or {})
        self.failure_message = failure_message
        self.end_time_ms = end_time_ms

    @property
    def end_time(self) -> float:
        """When it ended, in seconds since the Unix epoch."""
        return self.end_time_ms / 1000.0

    def __repr__(self) -> str:
        return f"DagsterRun(run_id={self.run_id!r}, job_name={self.job_name!r}, status={self.status.value})"


class FailureEvent:
    """The event a failed run ended with (Dagster's ``failure_event``): its ``message``."""

    def __init__(self, message: str) -> None:
        self.message = message


class RunStatusSensorContext:
    """What a run-status sensor is told (Dagster's ``RunStatusSensorContext``, with
    ``RunFailureSensorContext``'s ``failure_event`` for failed runs)."""

    def __init__(
        self, *, sensor_name: str, dagster_run: DagsterRun, resources: Optional[Mapping[str, Any]] = None
    ) -> None:
        self.sensor_name = sensor_name
        self.dagster_run = dagster_run
        self.log = _LOGGER
        self.resources = resources if isinstance(resources, Resources) else Resources(resources)

    @property
    def failure_event(self) -> Optional[FailureEvent]:
        """For a failed run, the failure and its message."""
        if self.dagster_run.status is not DagsterRunStatus.FAILURE:
            return None
        return FailureEvent(self.dagster_run.failure_message or "")


def _job_names(jobs: Optional[Sequence[Any]]) -> List[str]:
    return [n for n in (job_name(j) for j in (jobs or [])) if n is not None]


def run_status_sensor(
    run_status: Any = None,
    *,
    name: Optional[str] = None,
    monitored_jobs: Optional[Sequence[Any]] = None,
    monitor_all_code_locations: bool = False,
    request_job: Any = None,
    minimum_interval_seconds: Optional[int] = None,
    description: Optional[str] = None,
    default_status: DefaultStatus = DefaultStatus.STOPPED,
    **dagster_only: Any,
) -> Any:
    """Declare a run-status sensor: ``@run_status_sensor(run_status=DagsterRunStatus.SUCCESS,
    monitored_jobs=[my_job], request_job=other_job)``. The function takes a
    ``RunStatusSensorContext`` (``context.dagster_run``) and returns or yields
    ``RunRequest``s, a ``SkipReason``, or nothing."""
    reject_unknown("@run_status_sensor", dagster_only)
    status = _run_status(run_status)

    def wrap(fn: Callable[..., Any]) -> SensorDefinition:
        definition = SensorDefinition(
            fn,
            name=name,
            job=request_job,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
        )
        definition.run_status = status
        definition.monitored_jobs = _job_names(monitored_jobs)
        definition.monitor_all_code_locations = bool(monitor_all_code_locations)
        return definition

    return wrap


def run_failure_sensor(fn: Optional[Callable[..., Any]] = None, **kwargs: Any) -> Any:
    """Declare a sensor for failed runs (Dagster's ``@run_failure_sensor``): the arguments
    of ``@run_status_sensor`` but ``run_status``; the message is
    ``context.failure_event.message``."""
    wrap = run_status_sensor(DagsterRunStatus.FAILURE, **kwargs)
    return wrap(fn) if fn is not None else wrap


def _run_status(value: Any) -> DagsterRunStatus:
    if isinstance(value, DagsterRunStatus):
        return value
    if isinstance(value, str) and value.upper() in DagsterRunStatus.__members__:
        return DagsterRunStatus[value.upper()]
    raise DefinitionError(
        f"@run_status_sensor: run_status is DagsterRunStatus.SUCCESS, FAILURE or CANCELED, not {value!r}"
    )
