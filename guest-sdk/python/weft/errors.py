"""Errors an author raises, and how any exception becomes a step failure."""

from __future__ import annotations

import os
import re
import traceback
from typing import Any, Dict, Mapping, Optional


class Failure(Exception):
    """Raise from an op, an asset or a sensor to fail it with ``description``.

    As in Dagster, a step that raises is retried under its retry policy; pass
    ``allow_retries=False`` to fail it at once whatever the policy says.
    """

    def __init__(
        self,
        description: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        allow_retries: Optional[bool] = None,
        *,
        retryable: Optional[bool] = None,
    ) -> None:
        super().__init__(description)
        self.description = description or "failed"
        self.metadata: Dict[str, Any] = dict(metadata or {})
        if allow_retries is None:
            allow_retries = True if retryable is None else retryable
        self.allow_retries = allow_retries

    @property
    def message(self) -> str:
        return self.description

    @property
    def retryable(self) -> bool:
        return self.allow_retries


class K8sJobError(Failure):
    """A Kubernetes Job started by :func:`weft.execute_k8s_job` did not succeed.

    ``job_name`` is the Job's name (``None`` if it was never created), ``exit_code`` its
    container's exit code when it ran and exited non-zero (else ``None``), ``message``
    what happened. Raised from an op, it fails the step with ``message``; the step is
    retried under its retry policy unless ``allow_retries`` is false (it is for a job the
    SDK can tell is wrong before starting it). Catch it to decide otherwise::

        try:
            execute_k8s_job(context, image="trainer:1.4")
        except K8sJobError as error:
            if error.exit_code == 2:
                raise Failure(error.message, allow_retries=False)
            raise
    """

    def __init__(
        self,
        message: str,
        job_name: Optional[str] = None,
        exit_code: Optional[int] = None,
        *,
        allow_retries: bool = True,
    ) -> None:
        message = message or "the Kubernetes Job did not succeed"
        metadata: Dict[str, Any] = {}
        if job_name is not None:
            metadata["k8s_job"] = job_name
        if exit_code is not None:
            metadata["exit_code"] = exit_code
        super().__init__(message, metadata=metadata, allow_retries=allow_retries)
        self.job_name = job_name
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.description

    def __repr__(self) -> str:
        return f"K8sJobError({self.description!r}, job_name={self.job_name!r}, exit_code={self.exit_code!r})"


class DefinitionError(Exception):
    """A definition is malformed: raised while the code location is being built."""


class MappingKeyError(DefinitionError, Failure):
    """A ``DynamicOutput``'s mapping key is not letters, digits and ``_``: raised where it is
    made, as Dagster's ``DagsterInvalidDefinitionError``. In a step it fails the step, not
    retryably (Dagster retries none of its own errors)."""

    def __init__(self, message: str) -> None:
        Failure.__init__(self, message, allow_retries=False)


_SDK_DIR = os.path.dirname(os.path.abspath(__file__))

# componentize-py mounts each module search path at `/0`, `/1`, ...: show `defs.py`.
_MOUNT = re.compile(r"^/[0-9]+/")


def _shown(frame: traceback.FrameSummary) -> traceback.FrameSummary:
    _ = frame.line  # read the source line (cached at build time) under the real name
    frame.filename = _MOUNT.sub("", frame.filename)
    return frame


def describe(error: BaseException) -> str:
    """``Type: message`` followed by the traceback, without the SDK's own frames."""
    frames = list(traceback.extract_tb(error.__traceback__))
    while frames and os.path.abspath(frames[0].filename).startswith(_SDK_DIR + os.sep):
        frames = frames[1:]
    frames = traceback.StackSummary.from_list([_shown(f) for f in frames])
    head = "".join(traceback.format_exception_only(type(error), error)).strip()
    lines = [head]
    if frames:
        lines.append("")
        lines.append("Traceback (most recent call last):")
        lines.append("".join(traceback.format_list(frames)).rstrip())
        lines.append(head)
    cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    if cause is not None:
        lines.append("")
        lines.append("caused by " + describe(cause))
    return "\n".join(lines)
