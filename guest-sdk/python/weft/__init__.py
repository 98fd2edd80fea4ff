"""Weft's Python SDK: write a code location the way you write Dagster definitions.

A code location is a module (``defs.py``) that makes a ``Definitions``; ``weft build``
turns it into a WebAssembly component with componentize-py::

    import weft as dg

    @dg.op
    def hello() -> str:
        return "hello from python"

    @dg.job
    def hello_job():
        hello()

    defs = dg.Definitions(jobs=[hello_job])

The names mirror Dagster's: ``op``, ``job``, ``asset``, ``define_asset_job``,
``AssetSelection``, ``ScheduleDefinition``, ``schedule``, ``sensor``,
``run_status_sensor``, ``run_failure_sensor``, ``DagsterRunStatus``, ``RunRequest``,
``SkipReason``, ``Definitions``, ``RetryPolicy``, ``Failure``, ``Out``, ``Output``,
``DynamicOut``, ``DynamicOutput`` (mapped over with ``.map``, gathered with ``.collect()``),
``Config``, ``Field``, ``MetadataValue``, ``success_hook``, ``failure_hook``,
``HookContext``, ``build_hook_context``, ``asset_check``, ``AssetCheckResult``,
``AssetCheckSeverity``, ``multi_asset``, ``AssetOut``, ``AssetSpec``, ``MaterializeResult``,
``graph_asset`` (an asset computed by a graph of ops, each a step ``<graph>.<op>``), and
dagster_k8s's ``execute_k8s_job`` (raising ``K8sJobError``) and ``k8s_job_op``. Values
cross steps as JSON. ``weft.http`` (``from weft import http``) is a requests-shaped HTTP
client over the host's wasi:http. See ``guest-sdk/python/README.md``.
"""

from . import http
from .asset import (
    AssetIn,
    AssetsDefinition,
    AssetSelection,
    UnresolvedAssetJobDefinition,
    asset,
    define_asset_job,
)
from .asset_key import AssetKey
from .check import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    asset_check,
)
from .context import (
    AssetExecutionContext,
    Logger,
    OpExecutionContext,
    Resources,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    get_dagster_logger,
    get_logger,
)
from .definitions import Definitions
from .errors import DefinitionError, Failure, K8sJobError
from .executor import ExecutorDefinition, in_process_executor, k8s_job_executor, multiprocess_executor
from .graph import GraphDefinition, GraphOut, graph
from .graph_asset import GraphAssetDefinition, graph_asset
from .hook import HookContext, HookDefinition, build_hook_context, failure_hook, success_hook
from .job import JobDefinition, job
from .k8s import execute_k8s_job, k8s_job_op
from .config import Config, Field, Permissive
from .metadata import MetadataValue, TableColumn, TableSchema
from .multi_asset import AssetOut, AssetSpec, MultiAssetDefinition, multi_asset
from .op import Backoff, DynamicOut, DynamicOutput, OpDefinition, Out, Output, RetryPolicy, op
from .outputs import MaterializeResult
from .run_request import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    SensorResult,
    SkipReason,
)
from .schedule import ScheduleDefinition, schedule
from .sensor import (
    DagsterRun,
    DagsterRunStatus,
    FailureEvent,
    RunStatusSensorContext,
    SensorDefinition,
    run_failure_sensor,
    run_status_sensor,
    sensor,
)

__version__ = "0.1.0"

__all__ = [
    "AssetCheckExecutionContext",
    "AssetCheckResult",
    "AssetChecksDefinition",
    "AssetCheckSeverity",
    "AssetExecutionContext",
    "AssetIn",
    "AssetKey",
    "AssetOut",
    "AssetSelection",
    "AssetSpec",
    "AssetsDefinition",
    "Backoff",
    "Config",
    "Field",
    "MetadataValue",
    "Out",
    "Permissive",
    "TableColumn",
    "TableSchema",
    "DagsterRun",
    "DagsterRunStatus",
    "DefaultScheduleStatus",
    "DefaultSensorStatus",
    "DefinitionError",
    "Definitions",
    "DynamicOut",
    "DynamicOutput",
    "Failure",
    "FailureEvent",
    "GraphAssetDefinition",
    "GraphDefinition",
    "GraphOut",
    "HookContext",
    "HookDefinition",
    "JobDefinition",
    "K8sJobError",
    "Logger",
    "MaterializeResult",
    "MultiAssetDefinition",
    "OpDefinition",
    "OpExecutionContext",
    "Output",
    "Resources",
    "RetryPolicy",
    "RunRequest",
    "RunStatusSensorContext",
    "ScheduleDefinition",
    "ScheduleEvaluationContext",
    "SensorDefinition",
    "SensorEvaluationContext",
    "SensorResult",
    "SkipReason",
    "UnresolvedAssetJobDefinition",
    "asset",
    "asset_check",
    "build_hook_context",
    "define_asset_job",
    "ExecutorDefinition",
    "in_process_executor",
    "multiprocess_executor",
    "k8s_job_executor",
    "execute_k8s_job",
    "failure_hook",
    "k8s_job_op",
    "multi_asset",
    "get_dagster_logger",
    "get_logger",
    "graph",
    "graph_asset",
    "http",
    "job",
    "op",
    "run_failure_sensor",
    "run_status_sensor",
    "schedule",
    "sensor",
    "success_hook",
]
