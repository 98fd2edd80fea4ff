"""Sensors (Dagster's ``@sensor``)."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Optional

from .context import SensorEvaluationContext
from .op import reject_unknown
from .run_request import DefaultStatus, SensorResult, collect, job_name


def call_with_context(fn: Callable[..., Any], context: Any) -> Any:
    """Calls ``fn(context)``, or ``fn()`` when it takes no parameter."""
    if inspect.signature(fn).parameters:
        return fn(context)
    return fn()


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

    def evaluate(self, context: SensorEvaluationContext) -> SensorResult:
        result = collect(call_with_context(self.fn, context), f"sensor `{self.name}`")
        if result.cursor is None and context._cursor_updated:
            result.cursor = context.cursor
        return result

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
