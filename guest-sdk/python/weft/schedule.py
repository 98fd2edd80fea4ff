"""Schedules (Dagster's ``ScheduleDefinition`` and ``@schedule``)."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

from ._args import reject_unknown, string_tags
from .context import ScheduleEvaluationContext
from .errors import DefinitionError
from .run_request import DefaultStatus, RunRequest, SensorResult, call_with_context, collect, job_name


class ScheduleDefinition:
    """Runs ``job`` on a five-field cron schedule, in ``execution_timezone`` (UTC if none).

    Without a ``name``, the schedule is named after the variable it is bound to in the
    module that makes the ``Definitions`` (``nightly = ScheduleDefinition(...)`` is
    ``nightly``), or else ``<job>_schedule`` as in Dagster. With ``run_config`` or
    ``tags``, each tick launches the job with them.
    """

    def __init__(
        self,
        name: Optional[str] = None,
        *,
        cron_schedule: str,
        job: Any = None,
        job_name: Optional[str] = None,
        run_config: Optional[Mapping[str, Any]] = None,
        tags: Optional[Mapping[str, Any]] = None,
        execution_timezone: Optional[str] = None,
        description: Optional[str] = None,
        default_status: DefaultStatus = DefaultStatus.STOPPED,
        execution_fn: Optional[Callable[..., Any]] = None,
        **dagster_only: Any,
    ) -> None:
        reject_unknown("ScheduleDefinition", dagster_only)
        self.job = job
        self.job_name = _job_name(job, job_name)
        if self.job_name is None:
            raise DefinitionError("ScheduleDefinition needs a job")
        if not isinstance(cron_schedule, str) or len(cron_schedule.split()) != 5:
            raise DefinitionError(f"cron_schedule {cron_schedule!r} is not five-field cron")
        self.explicit_name = name
        self.name = name or f"{self.job_name}_schedule"
        self.cron_schedule = cron_schedule
        self.execution_timezone = execution_timezone
        self.description = description
        self.default_status = default_status
        self.run_config = dict(run_config) if run_config is not None else None
        self.tags = string_tags(tags)
        self.execution_fn = execution_fn

    @property
    def evaluates(self) -> bool:
        """Whether the host asks this schedule about each tick."""
        return self.execution_fn is not None or self.run_config is not None or bool(self.tags)

    def evaluate(self, context: ScheduleEvaluationContext) -> SensorResult:
        if self.execution_fn is None:
            return SensorResult([RunRequest(run_config=self.run_config or None, tags=self.tags)])
        result = collect(call_with_context(self.execution_fn, context), f"schedule `{self.name}`")
        for request in result.run_requests:
            request.tags = {**self.tags, **request.tags}
        return result


def _job_name(job: Any, name: Optional[str]) -> Optional[str]:
    return name if name is not None else job_name(job)


def schedule(
    cron_schedule: str,
    *,
    job: Any = None,
    job_name: Optional[str] = None,
    name: Optional[str] = None,
    execution_timezone: Optional[str] = None,
    description: Optional[str] = None,
    default_status: DefaultStatus = DefaultStatus.STOPPED,
    tags: Optional[Mapping[str, Any]] = None,
    **dagster_only: Any,
) -> Callable[[Callable[..., Any]], ScheduleDefinition]:
    """A schedule whose function decides each tick: it returns a run config dict, a
    ``RunRequest`` (or several), or a ``SkipReason``."""
    reject_unknown("@schedule", dagster_only)

    def wrap(fn: Callable[..., Any]) -> ScheduleDefinition:
        return ScheduleDefinition(
            name=name or fn.__name__,
            cron_schedule=cron_schedule,
            job=job,
            job_name=job_name,
            execution_timezone=execution_timezone,
            description=description if description is not None else fn.__doc__,
            default_status=default_status,
            tags=tags,
            execution_fn=fn,
        )

    return wrap
