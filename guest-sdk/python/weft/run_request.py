"""What sensors and schedules return (``RunRequest``, ``SkipReason``, ``SensorResult``), and
what :mod:`weft.sensor` and :mod:`weft.schedule` share to call their functions and collect
those answers."""

from __future__ import annotations

import enum
import inspect
from typing import Any, Callable, List, Mapping, Optional, Sequence

from ._args import string_tags


class DefaultStatus(enum.Enum):
    """Whether a schedule or sensor runs as soon as its location is loaded."""

    RUNNING = "running"
    STOPPED = "stopped"


DefaultScheduleStatus = DefaultStatus
DefaultSensorStatus = DefaultStatus


def job_name(job: Any) -> Optional[str]:
    """The name of a job object, or the string itself."""
    if job is None or isinstance(job, str):
        return job
    return job.name


def call_with_context(fn: Callable[..., Any], context: Any) -> Any:
    """Calls ``fn(context)``, or ``fn()`` when it takes no parameter."""
    if inspect.signature(fn).parameters:
        return fn(context)
    return fn()


class RunRequest:
    """A request for a run (Dagster's ``RunRequest``). ``run_key`` de-duplicates: the host
    launches at most one run per sensor and run key."""

    def __init__(
        self,
        run_key: Optional[str] = None,
        run_config: Optional[Mapping[str, Any]] = None,
        tags: Optional[Mapping[str, Any]] = None,
        job_name: Optional[str] = None,
        partition_key: Optional[str] = None,
    ) -> None:
        self.run_key = run_key
        self.run_config = dict(run_config) if run_config is not None else None
        self.tags = string_tags(tags)
        self.job_name = job_name
        if partition_key is not None:
            self.tags["weft/partition"] = partition_key

    def __repr__(self) -> str:
        return f"RunRequest(run_key={self.run_key!r}, job_name={self.job_name!r})"


class SkipReason:
    """Why a sensor or schedule asked for no run (Dagster's ``SkipReason``)."""

    def __init__(self, skip_message: Optional[str] = None) -> None:
        self.skip_message = skip_message

    def __repr__(self) -> str:
        return f"SkipReason({self.skip_message!r})"


class SensorResult:
    """A sensor's whole answer: run requests, or a skip reason, and a new cursor."""

    def __init__(
        self,
        run_requests: Optional[Sequence[RunRequest]] = None,
        skip_reason: Optional[Any] = None,
        cursor: Optional[str] = None,
    ) -> None:
        self.run_requests: List[RunRequest] = list(run_requests or [])
        if isinstance(skip_reason, SkipReason):
            skip_reason = skip_reason.skip_message
        self.skip_reason: Optional[str] = skip_reason
        self.cursor = cursor


def collect(value: Any, what: str) -> SensorResult:
    """Whatever a sensor or schedule function returned or yielded, as one result."""
    result = SensorResult()
    items = [] if value is None else [value]
    if isinstance(value, (list, tuple)) or (hasattr(value, "__next__") and hasattr(value, "__iter__")):
        items = list(value)
    for item in items:
        if isinstance(item, RunRequest):
            result.run_requests.append(item)
        elif isinstance(item, SkipReason):
            result.skip_reason = item.skip_message or ""
        elif isinstance(item, SensorResult):
            result.run_requests.extend(item.run_requests)
            if item.skip_reason is not None:
                result.skip_reason = item.skip_reason
            if item.cursor is not None:
                result.cursor = item.cursor
        elif isinstance(item, Mapping):  # a schedule's run config
            result.run_requests.append(RunRequest(run_config=item))
        else:
            raise TypeError(f"{what} returned {item!r}: expected RunRequest, SkipReason or SensorResult")
    return result
