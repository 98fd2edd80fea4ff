"""Executors (Dagster's ``executor_def=``): which executor runs a job's steps, when not the
instance's. ``@job(executor_def=multiprocess_executor)`` tags the job ``weft/executor``;
the host runs the job's steps so, or fails its runs saying why it cannot."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from .errors import DefinitionError

EXECUTOR_TAG = "weft/executor"


class ExecutorDefinition:
    """One of the host's executors, by the name weft.yaml's ``executor`` gives it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<executor {self.name}>"


in_process_executor = ExecutorDefinition("in-process")
multiprocess_executor = ExecutorDefinition("multiprocess")
k8s_job_executor = ExecutorDefinition("k8s-job")


def with_executor(what: str, tags: Optional[Mapping[str, Any]], executor_def: Any) -> Dict[str, Any]:
    """``tags`` with the ``weft/executor`` tag of ``executor_def`` (when given)."""
    out = dict(tags or {})
    if executor_def is None:
        return out
    if not isinstance(executor_def, ExecutorDefinition):
        raise DefinitionError(
            f"{what}: executor_def must be in_process_executor, multiprocess_executor or "
            f"k8s_job_executor, not {executor_def!r}"
        )
    out[EXECUTOR_TAG] = executor_def.name
    return out
