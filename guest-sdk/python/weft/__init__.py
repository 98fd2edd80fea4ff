"""Weft's Python SDK: write a code location the way you write Dagster definitions.

A code location is a module (``app.py``) built into a WebAssembly component with
``componentize-py``::

    from weft import Definitions, Ops, Schedules, Sensors, job, op

    @op
    def hello() -> str:
        return "hello from python"

    @job
    def hello_job():
        hello()

    defs = Definitions(jobs=[hello_job])

``Definitions``, ``Ops``, ``Sensors`` and ``Schedules`` must be names in the module:
componentize-py looks the component's exports up there by those names. This first SDK
knows ops and jobs; assets, sensors and schedules come later.
"""

from ._core import (
    Definitions,
    Failure,
    JobDefinition,
    OpDefinition,
    Ops,
    Schedules,
    Sensors,
    job,
    op,
)

__all__ = [
    "Definitions",
    "Failure",
    "JobDefinition",
    "OpDefinition",
    "Ops",
    "Schedules",
    "Sensors",
    "job",
    "op",
]
