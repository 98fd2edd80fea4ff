"""Asset checks (Dagster's ``@asset_check``): a function that evaluates an asset after each
materialization of it in a run, a step of its own (keyed ``<asset key parts joined by
__>_<check name>``, as Dagster keys it), and returns an :class:`AssetCheckResult`.

A ``blocking`` check whose result did not pass at severity ``ERROR`` fails its step, and
the host skips the assets downstream of its asset; any other failed check is reported
(``ASSET_CHECK_EVALUATION``) and its step succeeds.

The check function takes the asset's value through its one parameter that is not the
context (any name, as in Dagster), or takes none and reads nothing of it; a ``context``
parameter gets an :class:`AssetCheckExecutionContext` (an op's context). ``Definitions(
asset_checks=[...])`` lists the checks; ``weft.component.Checks`` evaluates them.
"""

from __future__ import annotations

import enum
import inspect
from typing import Any, Callable, List, Mapping, Optional

from ._args import reject_unknown
from .asset import CoercibleToAssetKey, to_key
from .asset_key import AssetKey
from .context import OpExecutionContext
from .errors import DefinitionError, Failure
from .metadata import to_wit as _metadata_value
from .op import ComputeFn


class AssetCheckSeverity(enum.Enum):
    """How serious a failed check is (Dagster's ``AssetCheckSeverity``): a failed blocking
    check stops what is downstream of its asset only at ``ERROR``."""

    WARN = "WARN"
    ERROR = "ERROR"


class AssetCheckResult:
    """What a check found (Dagster's ``AssetCheckResult``): ``passed``, at ``severity``
    (``ERROR`` unless given), with ``metadata`` (typed as an output's) and a
    ``description``. ``asset_key`` and ``check_name``, when given, must name the check that
    returns it (Dagster uses them to tell apart the checks of one op; in Weft a check
    function is one check)."""

    def __init__(
        self,
        *,
        passed: bool,
        asset_key: Optional[CoercibleToAssetKey] = None,
        check_name: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
        description: Optional[str] = None,
    ) -> None:
        if not isinstance(passed, bool):
            raise TypeError(f"AssetCheckResult: passed is a bool, not {passed!r}")
        if check_name is not None and not isinstance(check_name, str):
            raise TypeError(f"AssetCheckResult: check_name is a string, not {check_name!r}")
        if description is not None and not isinstance(description, str):
            raise TypeError(f"AssetCheckResult: description is a string, not {description!r}")
        try:
            severity = AssetCheckSeverity(severity)
        except ValueError:
            raise TypeError(f"AssetCheckResult: severity is AssetCheckSeverity.ERROR or .WARN, not {severity!r}") from None
        self.passed = passed
        self.asset_key: Optional[AssetKey] = to_key(asset_key) if asset_key is not None else None
        self.check_name = check_name
        self.metadata = dict(metadata or {})
        self.severity = severity
        self.description = description

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetCheckResult) and vars(other) == vars(self)

    def __repr__(self) -> str:
        return (
            f"AssetCheckResult(passed={self.passed!r}, severity={self.severity}, "
            f"description={self.description!r}, metadata={self.metadata!r})"
        )


class AssetCheckExecutionContext(OpExecutionContext):
    """What a check's step knows (Dagster's ``AssetCheckExecutionContext``): an op's
    context (``log``, ``resources``, ``run_id``, ``step_key``...), whose ``asset_key`` is
    the asset checked. ``op_execution_context`` is the context itself."""

    @property
    def op_execution_context(self) -> OpExecutionContext:
        return self


class AssetChecksDefinition:
    """An asset check: its name, the asset it checks, whether it is blocking, and its
    function. ``input_name`` is the parameter that receives the asset's value (``None``
    when the function takes none). Called directly, it runs the function (unit tests)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        asset: Any,
        name: Optional[str] = None,
        description: Optional[str] = None,
        blocking: bool = False,
    ) -> None:
        if not callable(fn):
            raise DefinitionError(f"@asset_check decorates a function, not {fn!r}")
        if not isinstance(blocking, bool):
            raise DefinitionError(f"@asset_check: blocking is True or False, not {blocking!r}")
        self.name = name or fn.__name__
        self.asset_key = to_key(asset)
        self.blocking = blocking
        self.description = description if description is not None else inspect.getdoc(fn)
        self.compute = ComputeFn(fn, f"check `{self.name}` of asset `{self.asset_key.to_user_string()}`")
        if self.compute.config_param is not None:
            raise DefinitionError(
                f"@asset_check: check `{self.name}` takes config (`{self.compute.config_param}`); "
                "Weft does not support config on asset checks"
            )
        inputs = self.compute.input_names
        if len(inputs) > 1:
            raise DefinitionError(
                f"@asset_check: check `{self.name}` has several parameters that would be assets "
                f"({', '.join(inputs)}); it takes one, the value of asset `{self.asset_key.to_user_string()}` "
                "(Weft does not support additional_ins)"
            )
        self.input_name: Optional[str] = inputs[0] if inputs else None
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    @property
    def key(self) -> str:
        """The check's step key, as Dagster makes it: ``<key parts joined by __>_<name>``."""
        return f"{'__'.join(self.asset_key.path)}_{self.name}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.compute.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<asset check {self.name} of {self.asset_key.to_user_string()}>"


def asset_check(
    *,
    asset: Any,
    name: Optional[str] = None,
    description: Optional[str] = None,
    blocking: bool = False,
    additional_ins: Optional[Mapping[str, Any]] = None,
    additional_deps: Any = None,
    required_resource_keys: Any = None,
    resource_defs: Optional[Mapping[str, Any]] = None,
    config_schema: Any = None,
    compute_kind: Optional[str] = None,
    op_tags: Optional[Mapping[str, Any]] = None,
    retry_policy: Any = None,
    metadata: Optional[Mapping[str, Any]] = None,
    automation_condition: Any = None,
    pool: Optional[str] = None,
    partitions_def: Any = None,
) -> Callable[[Callable[..., Any]], AssetChecksDefinition]:
    """Declare an asset check (Dagster's signature): ``@asset_check(asset=orders,
    blocking=True)`` over a function returning an :class:`AssetCheckResult`.

    ``asset`` is an asset, its key (``AssetKey``, ``"a/b"``, ``["a", "b"]``); ``name``
    defaults to the function's and ``description`` to its docstring. The function's one
    parameter that is not the context gets the asset's value. ``required_resource_keys``,
    ``compute_kind`` and ``pool`` are accepted and ignored, as for ops; the other arguments
    (``additional_ins``, ``additional_deps``, ``config_schema``, ``retry_policy``,
    ``op_tags``, ``metadata``, ...) are refused.
    """
    given = {
        "additional_ins": additional_ins,
        "additional_deps": additional_deps,
        "required_resource_keys": required_resource_keys,
        "resource_defs": resource_defs,
        "config_schema": config_schema,
        "compute_kind": compute_kind,
        "op_tags": op_tags,
        "retry_policy": retry_policy,
        "metadata": metadata,
        "automation_condition": automation_condition,
        "pool": pool,
        "partitions_def": partitions_def,
    }
    reject_unknown("@asset_check", {k: v for k, v in given.items() if v is not None and v != {} and v != []})
    if asset is None:
        raise DefinitionError("@asset_check: asset names the asset checked")
    to_key(asset)  # a key that is not one fails here, where the decorator is written

    def wrap(fn: Callable[..., Any]) -> AssetChecksDefinition:
        return AssetChecksDefinition(fn, asset=asset, name=name, description=description, blocking=blocking)

    return wrap


def _returned(result: Any) -> Any:
    """What a check function returned: its value, or the one value a generator yielded."""
    if inspect.isgenerator(result):
        items: List[Any] = list(result)
        return items[0] if len(items) == 1 else items
    return result


def result_to_wit(wit: Any, check: AssetChecksDefinition, result: Any) -> Any:
    """``result`` (what ``check``'s function returned) as the contract's ``check-result``,
    or a :class:`Failure` (not retried) saying why it is not one."""
    what = check.compute.what
    result = _returned(result)
    if not isinstance(result, AssetCheckResult):
        shown = "None" if result is None else f"a {type(result).__name__}"
        raise Failure(
            f"{what} returned {shown}, not an AssetCheckResult: return AssetCheckResult(passed=...)",
            allow_retries=False,
        )
    if result.asset_key is not None and result.asset_key != check.asset_key:
        raise Failure(
            f"{what} returned an AssetCheckResult for asset `{result.asset_key.to_user_string()}`; "
            f"it checks `{check.asset_key.to_user_string()}`",
            allow_retries=False,
        )
    if result.check_name is not None and result.check_name != check.name:
        raise Failure(
            f"{what} returned an AssetCheckResult for check `{result.check_name}`; it is `{check.name}`",
            allow_retries=False,
        )
    return wit.CheckResult(
        passed=result.passed,
        severity=wit.CheckSeverity.WARN if result.severity == AssetCheckSeverity.WARN else wit.CheckSeverity.ERROR,
        description=result.description,
        metadata=[(str(k), _metadata_value(wit, v)) for k, v in result.metadata.items()],
    )


def split_checks(items: Any) -> "tuple[List[Any], List[AssetChecksDefinition]]":
    """``Definitions(assets=...)`` as its assets (and multi-assets) and the checks among them
    (Dagster takes checks there too: its checks are assets definitions)."""
    assets: List[Any] = []
    checks: List[AssetChecksDefinition] = []
    for item in items or []:
        (checks if isinstance(item, AssetChecksDefinition) else assets).append(item)
    return assets, checks
