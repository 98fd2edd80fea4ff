"""Assets (Dagster's ``@asset``), asset selections and asset jobs. ``AssetKey`` lives in
:mod:`weft.asset_key`, below the contexts that also need it."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable, List, Mapping, Optional, Sequence, Union

from ._args import reject_unknown, string_tags
from .asset_key import AssetKey
from .errors import DefinitionError
from .executor import with_executor
from .config import schema_text
from .op import ComputeFn, RetryPolicy

CoercibleToAssetKey = Union[str, Sequence[str], AssetKey, "AssetsDefinition"]


def to_key(value: Any) -> AssetKey:
    """An asset key from a key, an asset, ``"a/b"`` or ``["a", "b"]``."""
    if isinstance(value, AssetKey):
        return value
    if isinstance(value, AssetsDefinition):
        return value.key
    if isinstance(value, str):
        return AssetKey.from_user_string(value)
    if isinstance(value, (list, tuple)):
        return AssetKey(list(value))
    raise DefinitionError(f"not an asset key: {value!r}")


def _is_asset(value: Any) -> bool:
    """Whether ``value`` is an asset or a multi-asset."""
    from .multi_asset import MultiAssetDefinition  # it builds on this module

    return isinstance(value, (AssetsDefinition, MultiAssetDefinition))


def to_keys(value: Any) -> List[AssetKey]:
    """The keys ``value`` names: each asset of a multi-asset (as Dagster's ``deps=[...]`` and
    selections take one), else the one key of :func:`to_key`."""
    if _is_asset(value) and not isinstance(value, AssetsDefinition):
        return list(value.keys)
    return [to_key(value)]


class AssetIn:
    """Names the upstream asset of one parameter (Dagster's ``AssetIn``), e.g. an asset
    of another code location: ``ins={"orders": AssetIn(key="warehouse/orders")}``."""

    def __init__(self, key: Optional[CoercibleToAssetKey] = None, key_prefix: Optional[Union[str, Sequence[str]]] = None):
        self.key = to_key(key) if key is not None else None
        self.key_prefix = [key_prefix] if isinstance(key_prefix, str) else list(key_prefix or [])


def resolve_input(
    owner: str, input_name: str, spec: Optional[AssetIn], prefix: Sequence[str], known: Sequence[AssetKey]
) -> AssetKey:
    """The upstream key of the parameter ``input_name`` of ``owner`` (``asset `a```): its
    ``AssetIn``, else the asset of that name under ``prefix``, else the only asset of that
    name, else that name under ``prefix`` (an asset of another location)."""
    if spec is not None and spec.key is not None:
        return spec.key
    if spec is not None and spec.key_prefix:
        return AssetKey(spec.key_prefix + [input_name])
    same_prefix = AssetKey(list(prefix) + [input_name])
    named = [k for k in known if k.path[-1] == input_name]
    if same_prefix in known or not named:
        return same_prefix
    if len(named) == 1:
        return named[0]
    raise DefinitionError(
        f"{owner}: parameter `{input_name}` matches several assets "
        f"({', '.join(k.to_user_string() for k in named)}); name one with ins={{...: AssetIn(key=...)}}"
    )


def asset_key_of(
    fn: Callable[..., Any],
    name: Optional[str],
    key_prefix: Optional[Union[str, Sequence[str]]],
    key: Optional[CoercibleToAssetKey],
) -> AssetKey:
    """An asset's key: ``key``, else ``key_prefix`` + its name (the function's unless
    ``name``)."""
    if key is not None:
        return to_key(key)
    prefix = [key_prefix] if isinstance(key_prefix, str) else list(key_prefix or [])
    return AssetKey(prefix + [name or fn.__name__])


class AssetsDefinition:
    """An asset: its key, group, kinds, upstream assets and compute function. The
    function's parameters name the upstream assets whose values it receives."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: Optional[str] = None,
        key_prefix: Optional[Union[str, Sequence[str]]] = None,
        key: Optional[CoercibleToAssetKey] = None,
        group_name: Optional[str] = None,
        description: Optional[str] = None,
        kinds: Optional[Iterable[str]] = None,
        deps: Optional[Iterable[CoercibleToAssetKey]] = None,
        ins: Optional[Mapping[str, AssetIn]] = None,
        tags: Optional[Mapping[str, Any]] = None,
        retry_policy: Optional[RetryPolicy] = None,
        config_schema: Optional[Any] = None,
    ) -> None:
        self.key = asset_key_of(fn, name, key_prefix, key)
        self.compute = ComputeFn(fn, self.what)
        self.retry_policy = retry_policy
        self.config_schema = config_schema if config_schema is not None else self.compute.config_class
        schema_text(self.config_schema)  # a schema that cannot be turned into JSON Schema fails here
        self._describe(fn, group_name, description, kinds, deps, ins, tags)

    def _describe(
        self,
        fn: Callable[..., Any],
        group_name: Optional[str],
        description: Optional[str],
        kinds: Optional[Iterable[str]],
        deps: Optional[Iterable[CoercibleToAssetKey]],
        ins: Optional[Mapping[str, AssetIn]],
        tags: Optional[Mapping[str, Any]],
    ) -> None:
        """What an asset is besides how it is computed (a graph asset's too): its group,
        description (else ``fn``'s docstring), kinds, tags, ``ins`` (each a parameter's)
        and ordering deps."""
        self.group_name = group_name or "default"
        self.description = description if description is not None else inspect.getdoc(fn)
        self.kinds = list(kinds or [])
        self.tags = string_tags(tags)
        self.ins = dict(ins or {})
        for input_name in self.ins:
            if input_name not in self.input_names:
                raise DefinitionError(f"{self.what}: `ins` names no parameter `{input_name}`")
        self.ordering_deps = [k for d in (deps or []) for k in to_keys(d)]
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    @property
    def what(self) -> str:
        """The asset as errors name it."""
        return f"asset `{self.key.to_user_string()}`"

    @property
    def name(self) -> str:
        return self.key.path[-1]

    @property
    def input_names(self) -> List[str]:
        """Its parameters that are upstream assets, in order."""
        return self.compute.input_names

    def input_keys(self, known: Sequence[AssetKey]) -> List[AssetKey]:
        """The upstream key of each parameter: its ``AssetIn``, else the asset of that name
        with this asset's prefix, else the only asset of that name, else that name with
        this asset's prefix (an asset of another location)."""
        prefix = self.key.path[:-1]
        return [resolve_input(self.what, n, self.ins.get(n), prefix, known) for n in self.input_names]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.compute.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<asset {self.key.to_user_string()}>"


def asset(
    fn: Optional[Callable[..., Any]] = None,
    *,
    name: Optional[str] = None,
    key_prefix: Optional[Union[str, Sequence[str]]] = None,
    key: Optional[CoercibleToAssetKey] = None,
    group_name: Optional[str] = None,
    description: Optional[str] = None,
    kinds: Optional[Iterable[str]] = None,
    deps: Optional[Iterable[CoercibleToAssetKey]] = None,
    ins: Optional[Mapping[str, AssetIn]] = None,
    tags: Optional[Mapping[str, Any]] = None,
    retry_policy: Optional[RetryPolicy] = None,
    compute_kind: Optional[str] = None,
    op_tags: Optional[Mapping[str, Any]] = None,
    config_schema: Optional[Any] = None,
    **dagster_only: Any,
) -> Any:
    """Declare an asset: ``@asset`` or ``@asset(group_name=..., kinds=[...], ...)``.

    Parameters name upstream assets (their values arrive as inputs); ``deps=[...]`` adds
    upstream assets for ordering only. ``op_tags`` (Dagster's tags of the asset's step,
    ``dagster-k8s/config`` among them) join ``tags``, over them where both name a key.
    """
    reject_unknown("@asset", dagster_only)
    if op_tags:
        tags = {**(tags or {}), **op_tags}
    all_kinds = list(kinds or []) + ([compute_kind] if compute_kind else [])

    def wrap(fn: Callable[..., Any]) -> AssetsDefinition:
        return AssetsDefinition(
            fn,
            name=name,
            key_prefix=key_prefix,
            key=key,
            group_name=group_name,
            description=description,
            kinds=all_kinds,
            deps=deps,
            ins=ins,
            tags=tags,
            retry_policy=retry_policy,
            config_schema=config_schema,
        )

    return wrap(fn) if fn is not None else wrap


class AssetSelection:
    """Which assets an asset job runs (Dagster's ``AssetSelection``), rendered to Weft's
    selection syntax: ``group:numbers``, ``key:a/b``, ``*``; ``|`` is a union (a comma),
    ``.downstream()`` adds ``+`` after each term and ``.upstream()`` before."""

    def __init__(self, terms: Sequence[str]) -> None:
        self.terms = list(terms)

    @staticmethod
    def all() -> "AssetSelection":
        return AssetSelection(["*"])

    @staticmethod
    def groups(*group_names: str) -> "AssetSelection":
        return AssetSelection([f"group:{g}" for g in group_names])

    @staticmethod
    def keys(*keys: CoercibleToAssetKey) -> "AssetSelection":
        return AssetSelection([f"key:{k.to_user_string()}" for value in keys for k in to_keys(value)])

    @staticmethod
    def assets(*assets: CoercibleToAssetKey) -> "AssetSelection":
        return AssetSelection.keys(*assets)

    @staticmethod
    def from_string(text: str) -> "AssetSelection":
        return AssetSelection([t.strip() for t in text.split(",") if t.strip()])

    def downstream(self) -> "AssetSelection":
        return AssetSelection([t if t.endswith("+") else t + "+" for t in self.terms])

    def upstream(self) -> "AssetSelection":
        return AssetSelection([t if t.startswith("+") else "+" + t for t in self.terms])

    def __or__(self, other: "AssetSelection") -> "AssetSelection":
        return AssetSelection(self.terms + [t for t in other.terms if t not in self.terms])

    def __str__(self) -> str:
        return ",".join(self.terms)

    def __repr__(self) -> str:
        return f"AssetSelection({str(self)!r})"


def to_selection(selection: Any) -> AssetSelection:
    if selection is None:
        return AssetSelection.all()
    if isinstance(selection, AssetSelection):
        return selection
    if isinstance(selection, str):
        return AssetSelection.from_string(selection)
    if isinstance(selection, (list, tuple)):
        parts = [to_selection(s) if isinstance(s, AssetSelection) else AssetSelection.keys(s) for s in selection]
        result = AssetSelection([])
        for part in parts:
            result = result | part
        return result
    if isinstance(selection, AssetKey) or _is_asset(selection):
        return AssetSelection.keys(selection)  # a key, an asset, or every asset of a multi-asset
    raise DefinitionError(f"not an asset selection: {selection!r}")


class UnresolvedAssetJobDefinition:
    """An asset job: the assets picked by a selection (``define_asset_job``)."""

    def __init__(self, name: str, selection: AssetSelection, description: Optional[str], tags: Mapping[str, Any]):
        self.name = name
        self.selection = selection
        self.description = description
        self.tags = string_tags(tags)

    def __repr__(self) -> str:
        return f"<asset job {self.name}: {self.selection}>"


def define_asset_job(
    name: str,
    selection: Any = None,
    description: Optional[str] = None,
    tags: Optional[Mapping[str, Any]] = None,
    executor_def: Any = None,
    **dagster_only: Any,
) -> UnresolvedAssetJobDefinition:
    """An asset job running ``selection`` (an :class:`AssetSelection`, a selection string,
    or a list of assets or keys; everything when ``None``)."""
    reject_unknown("define_asset_job", dagster_only)
    tags = with_executor("define_asset_job", tags, executor_def)
    return UnresolvedAssetJobDefinition(name, to_selection(selection), description, tags)
