"""Kubernetes Jobs from an op (Dagster's ``dagster_k8s.execute_k8s_job``), and an op
that runs one (Dagster's ``k8s_job_op``).

::

    from weft import execute_k8s_job

    @op
    def train(context):
        return execute_k8s_job(
            context,
            image="registry.example/trainer:1.4",
            command=["python", "-m", "trainer"],
            env_vars=["EPOCHS=3"],
            resources={"requests": {"cpu": "1", "memory": "2Gi"}},
            timeout=1800,
        )

The Job runs through the host's ``k8s-jobs`` import; its log goes to the step's stdout.
"""

from __future__ import annotations

import datetime
import json
import math
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import _host
from .context import OpExecutionContext
from .errors import K8sJobError
from .op import OpDefinition

# The fields of a `weft/k8s` tag (Dagster's `dagster-k8s/config`), which Dagster's
# execute_k8s_job also takes one by one.
_TAG_FIELDS = (
    "container_config",
    "pod_template_spec_metadata",
    "pod_spec_config",
    "job_metadata",
    "job_spec_config",
    "merge_behavior",
)

# Dagster's parameters that Weft does not take, and what to do instead.
_UNSUPPORTED = {
    "namespace": "the Job runs in the step's namespace",
    "k8s_job_name": "Weft names the Job (weft-job-...)",
    "load_incluster_config": "the host talks to the cluster",
    "kubeconfig_file": "the host talks to the cluster",
    "delete_failed_k8s_jobs": "the host deletes the Jobs it is done with",
}


def _invalid(message: str) -> K8sJobError:
    return K8sJobError(f"invalid Kubernetes Job: {message}", allow_retries=False)


def _strings(value: Optional[Sequence[Any]], what: str) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise _invalid(f"`{what}` must be a list of strings, not {type(value).__name__}")
    return [str(v) for v in value]


def _env(env_vars: Union[None, Sequence[str], Mapping[str, Any]]) -> List[Tuple[str, str]]:
    """``env_vars`` as (name, value) pairs sorted by name: a dict, or Dagster's list of
    ``"KEY=VALUE"`` (a bare ``"KEY"`` takes the value the location is granted)."""
    if env_vars is None:
        return []
    found: Dict[str, str] = {}
    if isinstance(env_vars, Mapping):
        for key, value in env_vars.items():
            found[str(key)] = "" if value is None else str(value)
    elif isinstance(env_vars, (list, tuple)):
        for entry in env_vars:
            if not isinstance(entry, str):
                raise _invalid(f"`env_vars` entries are \"KEY=VALUE\" strings, not {entry!r}")
            key, sep, value = entry.partition("=")
            if not sep:
                granted = os.environ.get(key)
                if granted is None:
                    raise _invalid(
                        f"`env_vars` names {key!r} without a value, and the location is not granted "
                        f"that variable: write \"{key}=VALUE\""
                    )
                value = granted
            found[key] = value
    else:
        raise _invalid(f"`env_vars` must be a list of \"KEY=VALUE\" strings or a dict, not {type(env_vars).__name__}")
    for key in found:
        if not key:
            raise _invalid("`env_vars` has a variable with no name")
    return sorted(found.items())


def _quantities(value: Any, what: str) -> List[Tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise _invalid(f"`resources[{what!r}]` must be a dict of quantities, not {type(value).__name__}")
    return sorted((str(k), str(v)) for k, v in value.items())


def _resources(resources: Optional[Mapping[str, Any]]) -> Optional[Tuple[List[Tuple[str, str]], List[Tuple[str, str]]]]:
    """Dagster's ``{"requests": {...}, "limits": {...}}`` as (requests, limits)."""
    if resources is None:
        return None
    if not isinstance(resources, Mapping):
        raise _invalid(f"`resources` must be a dict with `requests` and `limits`, not {type(resources).__name__}")
    unknown = sorted(set(map(str, resources)) - {"requests", "limits"})
    if unknown:
        raise _invalid(f"`resources` has {', '.join(unknown)}; it takes `requests` and `limits`")
    return _quantities(resources.get("requests"), "requests"), _quantities(resources.get("limits"), "limits")


def _merge_behavior(value: Any) -> str:
    name = getattr(value, "value", value)  # Dagster's K8sConfigMergeBehavior is an enum
    name = str(getattr(name, "name", name)).upper()
    if name not in ("DEEP", "SHALLOW"):
        raise _invalid(f"`merge_behavior` is DEEP or SHALLOW, not {value!r}")
    return name


def _config(k8s_job_config: Union[None, str, Mapping[str, Any]], fields: Mapping[str, Any]) -> Optional[str]:
    """The ``weft/k8s``-shaped JSON: ``k8s_job_config`` with the fields given one by one
    (``container_config=...``) in place of its own."""
    config: Dict[str, Any] = {}
    if isinstance(k8s_job_config, str):
        if k8s_job_config.strip():
            try:
                config = json.loads(k8s_job_config)
            except ValueError as error:
                raise _invalid(f"`k8s_job_config` is not JSON: {error}")
            if not isinstance(config, dict):
                raise _invalid("`k8s_job_config` must be a JSON object shaped as a weft/k8s tag")
    elif isinstance(k8s_job_config, Mapping):
        config = dict(k8s_job_config)
    elif k8s_job_config is not None:
        raise _invalid(f"`k8s_job_config` must be a dict or JSON text, not {type(k8s_job_config).__name__}")
    for name, value in fields.items():
        if value is not None:
            config[name] = value
    if "merge_behavior" in config:
        config["merge_behavior"] = _merge_behavior(config["merge_behavior"])
    if not config:
        return None
    try:
        return json.dumps(config, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise _invalid(f"the Job's config is not JSON: {error}")


def _timeout(timeout: Union[None, int, float, datetime.timedelta]) -> Optional[int]:
    """Seconds, rounded up; ``None`` or 0 waits as long as the step may."""
    if timeout is None:
        return None
    if isinstance(timeout, datetime.timedelta):
        seconds = timeout.total_seconds()
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        seconds = float(timeout)
    else:
        raise _invalid(f"`timeout` is a number of seconds, not {timeout!r}")
    if seconds != seconds or seconds < 0:
        raise _invalid(f"`timeout` must be 0 or more seconds, not {timeout!r}")
    if seconds == 0:
        return None
    return min(int(math.ceil(seconds)), 2**32 - 1)


def job_spec(
    image: str,
    command: Optional[Sequence[str]] = None,
    args: Optional[Sequence[str]] = None,
    env_vars: Union[None, Sequence[str], Mapping[str, Any]] = None,
    resources: Optional[Mapping[str, Any]] = None,
    timeout: Union[None, int, float, datetime.timedelta] = None,
    k8s_job_config: Union[None, str, Mapping[str, Any]] = None,
    **fields: Any,
) -> Dict[str, Any]:
    """The fields of the contract's ``job-spec`` record, checked and made deterministic
    (env and resources sorted by name, config as sorted JSON)."""
    if not isinstance(image, str) or not image.strip():
        raise _invalid("it has no image")
    return {
        "image": image,
        "command": _strings(command, "command"),
        "args": _strings(args, "args"),
        "env": _env(env_vars),
        "resources": _resources(resources),
        "config": _config(k8s_job_config, fields),
        "timeout_seconds": _timeout(timeout),
    }


def execute_k8s_job(
    context: OpExecutionContext,
    image: str,
    command: Optional[Sequence[str]] = None,
    args: Optional[Sequence[str]] = None,
    env_vars: Union[None, Sequence[str], Mapping[str, Any]] = None,
    resources: Optional[Mapping[str, Any]] = None,
    timeout: Union[None, int, float, datetime.timedelta] = None,
    k8s_job_config: Union[None, str, Mapping[str, Any]] = None,
    *,
    container_config: Optional[Mapping[str, Any]] = None,
    pod_template_spec_metadata: Optional[Mapping[str, Any]] = None,
    pod_spec_config: Optional[Mapping[str, Any]] = None,
    job_metadata: Optional[Mapping[str, Any]] = None,
    job_spec_config: Optional[Mapping[str, Any]] = None,
    merge_behavior: Any = None,
    **unsupported: Any,
) -> str:
    """Runs ``image`` as a Kubernetes Job from the op's step and waits for it to end
    (Dagster's ``execute_k8s_job``); the Job's log is streamed into the step's stdout.

    - ``command`` replaces the image's entrypoint (``None`` keeps it); ``args`` its arguments.
    - ``env_vars``: Dagster's list of ``"KEY=VALUE"`` strings, or a dict; added to the
      environment the pod inherits (the location's granted variables).
    - ``resources``: ``{"requests": {"cpu": "500m"}, "limits": {"memory": "1Gi"}}``,
      replacing the instance's ``k8s:`` resources.
    - ``timeout``: seconds (or a ``timedelta``) to wait, rounded up; ``None`` or 0 waits as
      long as the step may. A Job still running then is deleted.
    - ``k8s_job_config``: a ``weft/k8s``-shaped dict or JSON text (``container_config``,
      ``pod_spec_config``, ``pod_template_spec_metadata``, ``job_spec_config``,
      ``job_metadata``, ``merge_behavior``), merged last; Dagster's keyword arguments of
      those names replace the same field of it.

    Returns the Job's name when its container exited 0; raises :class:`K8sJobError`
    otherwise, which fails the step with its message. The location must be granted
    ``k8s_jobs: true`` in the instance's ``weft.yaml``.
    """
    if unsupported:
        why = "; ".join(
            f"`{name}`: {_UNSUPPORTED.get(name, 'not a parameter of execute_k8s_job')}" for name in sorted(unsupported)
        )
        raise _invalid(f"Weft's execute_k8s_job does not take {why} (set pod and container fields in k8s_job_config)")
    if not isinstance(context, OpExecutionContext):
        raise _invalid(
            "execute_k8s_job takes the op's or asset's context first: a Job is started from a step, "
            f"not from {type(context).__name__}"
        )
    spec = job_spec(
        image,
        command=command,
        args=args,
        env_vars=env_vars,
        resources=resources,
        timeout=timeout,
        k8s_job_config=k8s_job_config,
        container_config=container_config,
        pod_template_spec_metadata=pod_template_spec_metadata,
        pod_spec_config=pod_spec_config,
        job_metadata=job_metadata,
        job_spec_config=job_spec_config,
        merge_behavior=merge_behavior,
    )
    return _host.execute_k8s_job(spec)


# --- k8s_job_op (Dagster's dagster_k8s.k8s_job_op) -----------------------------------------

# What k8s_job_op's config may hold: execute_k8s_job's parameters.
_JOB_OP_CONFIG = ("image", "command", "args", "env_vars", "resources", "timeout", "k8s_job_config") + _TAG_FIELDS


def _execute_configured(context: OpExecutionContext, config: Any) -> str:
    if not isinstance(config, Mapping):
        raise _invalid(f"k8s_job_op's config must be a dict with an `image`, not {type(config).__name__}")
    unknown = sorted(set(map(str, config)) - set(_JOB_OP_CONFIG))
    if unknown:
        raise _invalid(f"k8s_job_op's config has {', '.join(unknown)}; it takes {', '.join(_JOB_OP_CONFIG)}")
    if not config.get("image"):
        raise _invalid("k8s_job_op's config needs an `image`")
    return execute_k8s_job(context, **dict(config))


def _k8s_job_op(context: OpExecutionContext) -> str:
    """Runs the Kubernetes Job its config describes (``image``, ``command``, ``args``,
    ``env_vars``, ``resources``, ``timeout``, ``k8s_job_config``); returns its name."""
    return _execute_configured(context, context.op_config or {})


class K8sJobOpDefinition(OpDefinition):
    """Dagster's ``k8s_job_op``: an op that runs the Kubernetes Job its run config
    describes, usable in any location's job (granted ``k8s_jobs: true``). Its one output is
    the Job's name, which a downstream op may take as an ordering input (Dagster's
    ``Nothing``)."""

    def configured(
        self,
        config: Mapping[str, Any],
        name: str,
        config_schema: Any = None,
        description: Optional[str] = None,
    ) -> OpDefinition:
        """This op with its config fixed, under ``name`` (as Dagster's ``.configured``)."""
        if config_schema is not None:
            raise _invalid("Weft's k8s_job_op.configured takes a config, not a config function and schema")
        fixed = dict(config)

        def run(context: OpExecutionContext) -> str:
            return _execute_configured(context, fixed)

        about = description or f"Runs a Kubernetes Job of {fixed.get('image', 'no image')}"
        return OpDefinition(run, name=name, description=about, tags=self.tags)


k8s_job_op = K8sJobOpDefinition(_k8s_job_op, name="k8s_job_op")
