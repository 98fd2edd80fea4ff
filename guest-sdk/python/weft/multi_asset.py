"""Multi-assets (Dagster's ``@multi_asset``): one compute function, run as one step keyed by
the multi-asset's name, that materializes several assets, one per output.

The assets are ``outs={"low": AssetOut(), ...}`` (the output ``low`` materializes the asset
``low``, or ``AssetOut(key=...)``), whose values the function returns as a tuple in that
order or yields as ``Output(value, output_name=...)``; or ``specs=[AssetSpec(key), ...]``,
assets the function materializes itself and reports with
``MaterializeResult(asset_key=..., metadata=...)`` (their value is ``None``). Parameters
name upstream assets as an ``@asset``'s do. With ``can_subset=True`` a run may materialize
some of the assets only: the function produces those (``context.selected_output_names``,
``context.selected_asset_keys``); otherwise the host refuses a selection of some but not
all of them.

In the contract each asset is an ``asset-def`` of its own whose ``multi`` names the
multi-asset and its output; ``weft.component.Ops`` runs the step (``step-target.multi-asset``).
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from ._args import reject_unknown, string_tags
from .asset import AssetIn, CoercibleToAssetKey, resolve_input, to_key, to_keys
from .asset_key import AssetKey
from .config import schema_text
from .errors import DefinitionError
from .op import ComputeFn, RetryPolicy


def _given(arguments: Mapping[str, Any]) -> Dict[str, Any]:
    """The arguments given a value (an empty collection or ``False`` is none)."""
    return {k: v for k, v in arguments.items() if v is not None and v is not False and v != {} and v != []}


class AssetOut:
    """One asset of a ``@multi_asset(outs={...})`` (Dagster's ``AssetOut``): its key (the
    output's name unless ``key`` or ``key_prefix``), group, description, kinds and tags.
    ``is_required=False`` lets the function leave it out, with ``can_subset=True``.
    ``dagster_type``, ``io_manager_key`` and ``code_version`` are accepted and ignored, as
    ``Out``'s; ``metadata``, ``owners`` and the policies are refused."""

    def __init__(
        self,
        key_prefix: Optional[Union[str, Sequence[str]]] = None,
        key: Optional[CoercibleToAssetKey] = None,
        dagster_type: Any = None,
        description: Optional[str] = None,
        is_required: bool = True,
        io_manager_key: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        group_name: Optional[str] = None,
        code_version: Optional[str] = None,
        automation_condition: Any = None,
        backfill_policy: Any = None,
        owners: Optional[Sequence[str]] = None,
        tags: Optional[Mapping[str, Any]] = None,
        kinds: Optional[Iterable[str]] = None,
        freshness_policy: Any = None,
        is_virtual: bool = False,
        **dagster_only: Any,
    ) -> None:
        refused = dict(metadata=metadata, automation_condition=automation_condition, backfill_policy=backfill_policy,
                       owners=owners, freshness_policy=freshness_policy, is_virtual=is_virtual)
        reject_unknown("AssetOut", {**_given(refused), **dagster_only})
        if key_prefix and key is not None:
            raise DefinitionError("AssetOut: give key or key_prefix, not both")
        if not isinstance(is_required, bool):
            raise DefinitionError(f"AssetOut: is_required is True or False, not {is_required!r}")
        self.key = to_key(key) if key is not None else None
        self.key_prefix = [key_prefix] if isinstance(key_prefix, str) else list(key_prefix or [])
        self.dagster_type = dagster_type
        self.description = description
        self.is_required = is_required
        self.group_name = group_name
        self.tags = string_tags(tags)
        self.kinds = list(kinds or [])


class AssetSpec:
    """An asset a ``@multi_asset(specs=[...])`` materializes itself (Dagster's
    ``AssetSpec``): its key, the assets upstream of it (``deps``), group, description,
    kinds and tags. ``skippable=True`` lets the function leave it out, with
    ``can_subset=True``. ``code_version`` is accepted and ignored; ``metadata``,
    ``owners``, ``partitions_def`` and the policies are refused."""

    def __init__(
        self,
        key: CoercibleToAssetKey,
        *,
        deps: Optional[Iterable[Any]] = None,
        description: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        skippable: bool = False,
        group_name: Optional[str] = None,
        code_version: Optional[str] = None,
        automation_condition: Any = None,
        owners: Optional[Sequence[str]] = None,
        tags: Optional[Mapping[str, Any]] = None,
        kinds: Optional[Iterable[str]] = None,
        partitions_def: Any = None,
        freshness_policy: Any = None,
        is_virtual: bool = False,
        **dagster_only: Any,
    ) -> None:
        refused = dict(metadata=metadata, automation_condition=automation_condition, owners=owners,
                       partitions_def=partitions_def, freshness_policy=freshness_policy, is_virtual=is_virtual)
        reject_unknown("AssetSpec", {**_given(refused), **dagster_only})
        if not isinstance(skippable, bool):
            raise DefinitionError(f"AssetSpec: skippable is True or False, not {skippable!r}")
        self.key = to_key(key)
        self.deps: List[AssetKey] = []
        for dep in deps or []:
            self.deps += [k for k in to_keys(dep) if k not in self.deps]
        self.description = description
        self.skippable = skippable
        self.group_name = group_name
        self.tags = string_tags(tags)
        self.kinds = list(kinds or [])

    def __repr__(self) -> str:
        return f"AssetSpec({self.key.to_user_string()!r})"


class MultiAssetMember:
    """One asset of a multi-asset: its key, the output that materializes it, what the
    contract's ``asset-def`` says of it, the ordering deps of its own, whether the function
    must produce it when it is selected (``required``), and whether it holds a value (an
    ``AssetOut``'s) or is ``None`` (an ``AssetSpec``'s)."""

    def __init__(self, key: AssetKey, output: str, source: Union[AssetOut, AssetSpec], required: bool) -> None:
        self.key = key
        self.output = output
        self.group_name: Optional[str] = source.group_name
        self.description = source.description
        self.kinds = list(source.kinds)
        self.tags = dict(source.tags)
        self.deps: List[AssetKey] = list(source.deps) if isinstance(source, AssetSpec) else []
        self.required = required
        self.holds_value = isinstance(source, AssetOut)


class MultiAssetDefinition:
    """A multi-asset: its name (its step's key), its assets (:class:`MultiAssetMember`, in
    declared order), whether it can be subset, and its compute function, whose parameters
    are the upstream assets of every one of its assets. Called directly, it runs the
    function (unit tests)."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        outs: Optional[Mapping[str, AssetOut]] = None,
        specs: Optional[Sequence[AssetSpec]] = None,
        name: Optional[str] = None,
        ins: Optional[Mapping[str, AssetIn]] = None,
        deps: Optional[Iterable[Any]] = None,
        description: Optional[str] = None,
        config_schema: Optional[Any] = None,
        op_tags: Optional[Mapping[str, Any]] = None,
        can_subset: bool = False,
        group_name: Optional[str] = None,
        retry_policy: Optional[RetryPolicy] = None,
        compute_kind: Optional[str] = None,
    ) -> None:
        if not callable(fn):
            raise DefinitionError(f"@multi_asset decorates a function, not {fn!r}")
        self.name = name or fn.__name__
        what = f"@multi_asset: `{self.name}`"
        if not isinstance(can_subset, bool):
            raise DefinitionError(f"{what}: can_subset is True or False, not {can_subset!r}")
        self.compute = ComputeFn(fn, f"multi-asset `{self.name}`")
        self.can_subset = can_subset
        self.from_specs = bool(specs)
        self.description = description if description is not None else inspect.getdoc(fn)
        self.retry_policy = retry_policy
        self.config_schema = config_schema if config_schema is not None else self.compute.config_class
        schema_text(self.config_schema)  # a schema that cannot be turned into JSON Schema fails here
        self.tags = string_tags(op_tags)
        self.ins = dict(ins or {})
        for input_name in self.ins:
            if input_name not in self.compute.input_names:
                raise DefinitionError(f"{what}: `ins` names no parameter `{input_name}`")
        self.assets = self._members(what, outs, specs, can_subset)
        self._check_members(what, group_name, compute_kind)
        self.ordering_deps: List[AssetKey] = []
        if deps and self.from_specs:
            raise DefinitionError(f"{what}: give deps on each AssetSpec, not deps= (Dagster: Can not pass deps and "
                                  "specs to @multi_asset)")
        for dep in deps or []:
            self.ordering_deps += [k for k in to_keys(dep) if k not in self.ordering_deps]
        # A spec multi-asset's parameters name deps of its specs (Dagster's rule); known now.
        self._spec_inputs = self._resolve_spec_inputs(what) if self.from_specs else None
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def _members(self, what: str, outs: Any, specs: Any, can_subset: bool) -> List[MultiAssetMember]:
        if outs and specs:
            raise DefinitionError(f"{what}: give outs or specs, not both")
        if not outs and not specs:
            raise DefinitionError(f"{what} materializes no asset: give outs={{name: AssetOut(), ...}} "
                                  "or specs=[AssetSpec(key), ...]")
        members = []
        if outs:
            if not isinstance(outs, Mapping) or not all(isinstance(o, AssetOut) for o in outs.values()):
                raise DefinitionError(f"{what}: outs is a dict of AssetOut, got {outs!r}")
            for output, out in outs.items():
                key = out.key or AssetKey(out.key_prefix + [str(output)])
                members.append(MultiAssetMember(key, str(output).replace("-", "_"), out, out.is_required))
        else:
            if isinstance(specs, (str, AssetSpec)) or not all(isinstance(s, AssetSpec) for s in specs):
                raise DefinitionError(f"{what}: specs is a list of AssetSpec, got {specs!r}")
            for spec in specs:
                # Dagster's output name: the key as a Python identifier.
                output = "__".join(spec.key.path).replace("-", "_").replace(".", "_")
                members.append(MultiAssetMember(spec.key, output, spec, not (can_subset or spec.skippable)))
        sources = list(outs.values()) if outs else list(specs)
        for member, source in zip(members, sources):
            optional = not source.is_required if isinstance(source, AssetOut) else source.skippable
            if optional and not can_subset:
                flag = "AssetOut(is_required=False)" if member.holds_value else "AssetSpec(skippable=True)"
                raise DefinitionError(
                    f"{what}: asset `{member.key.to_user_string()}` may be left out ({flag}), which Weft allows "
                    "only in a multi-asset that can be subset: add can_subset=True"
                )
        return members

    def _check_members(self, what: str, group_name: Optional[str], compute_kind: Optional[str]) -> None:
        keys, outputs = set(), set()
        for member in self.assets:
            shown = member.key.to_user_string()
            if member.key in keys:
                raise DefinitionError(f"{what} materializes asset `{shown}` twice")
            if member.output in outputs:
                raise DefinitionError(f"{what} has two assets of output `{member.output}`")
            keys.add(member.key)
            outputs.add(member.output)
            if group_name is not None and member.group_name not in (None, group_name):
                raise DefinitionError(f"{what} sets group_name and so does its asset `{shown}` "
                                      f"({member.group_name!r}); set it in one place")
            member.group_name = member.group_name or group_name or "default"
            if member.description is None:
                member.description = self.description
            if compute_kind:
                member.kinds.append(compute_kind)
        own = {tuple(sorted(m.tags.items())) for m in self.assets}
        if len(own) > 1:
            raise DefinitionError(
                f"{what}: its assets have different tags; an asset's tags are its step's, and a multi-asset is "
                "one step: give each the same tags, or give them as op_tags"
            )
        for member in self.assets:
            member.tags = {**member.tags, **self.tags}

    def _resolve_spec_inputs(self, what: str) -> List[AssetKey]:
        deps = [d for m in self.assets for d in m.deps]
        keys = []
        for input_name in self.compute.input_names:
            spec = self.ins.get(input_name)
            if spec is not None:
                key = resolve_input(what, input_name, spec, [], deps)
            else:
                named = [d for d in deps if d.path == [input_name]] or [d for d in deps if d.path[-1] == input_name]
                key = named[0] if len({d for d in named}) == 1 else None
                if key is None:
                    raise DefinitionError(
                        f"{what}: parameter `{input_name}` names no asset the AssetSpecs list in deps"
                        + (f" (several: {', '.join(sorted({d.to_user_string() for d in named}))}; name one with ins=)"
                           if named else "; add it to the deps of the AssetSpec that reads it")
                    )
            if key not in deps:
                raise DefinitionError(f"{what}: parameter `{input_name}` names asset `{key.to_user_string()}`, "
                                      "which no AssetSpec lists in deps")
            keys.append(key)
        return keys

    @property
    def keys(self) -> List[AssetKey]:
        """Its assets' keys, in declared order."""
        return [m.key for m in self.assets]

    @property
    def keys_by_output(self) -> Dict[str, AssetKey]:
        return {m.output: m.key for m in self.assets}

    @property
    def outputs_by_key(self) -> Dict[AssetKey, str]:
        return {m.key: m.output for m in self.assets}

    def input_keys(self, known: Sequence[AssetKey]) -> List[AssetKey]:
        """The upstream key of each parameter: of an outs multi-asset as an ``@asset``'s
        (its ``AssetIn``, else the asset of that name...); of a specs one, the dep of its
        specs it names."""
        if self._spec_inputs is not None:
            return list(self._spec_inputs)
        owner = f"multi-asset `{self.name}`"
        return [resolve_input(owner, n, self.ins.get(n), [], known) for n in self.compute.input_names]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.compute.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<multi-asset {self.name}: {', '.join(k.to_user_string() for k in self.keys)}>"


def multi_asset(
    *,
    outs: Optional[Mapping[str, AssetOut]] = None,
    name: Optional[str] = None,
    ins: Optional[Mapping[str, AssetIn]] = None,
    deps: Optional[Iterable[Any]] = None,
    description: Optional[str] = None,
    config_schema: Optional[Any] = None,
    required_resource_keys: Any = None,
    internal_asset_deps: Optional[Mapping[str, Any]] = None,
    partitions_def: Any = None,
    hooks: Any = None,
    backfill_policy: Any = None,
    op_tags: Optional[Mapping[str, Any]] = None,
    can_subset: bool = False,
    resource_defs: Optional[Mapping[str, Any]] = None,
    group_name: Optional[str] = None,
    retry_policy: Optional[RetryPolicy] = None,
    code_version: Optional[str] = None,
    specs: Optional[Sequence[AssetSpec]] = None,
    check_specs: Optional[Sequence[Any]] = None,
    pool: Optional[str] = None,
    **dagster_only: Any,
) -> Callable[[Callable[..., Any]], MultiAssetDefinition]:
    """Declare a multi-asset (Dagster's signature): ``@multi_asset(outs={"a": AssetOut(),
    "b": AssetOut()})`` over a function returning ``(a, b)`` or yielding ``Output``s, or
    ``@multi_asset(specs=[AssetSpec("a"), ...])`` over one returning or yielding
    ``MaterializeResult``s.

    ``name`` (its step's key) defaults to the function's; ``description`` to its docstring
    (and is each asset's unless its ``AssetOut``/``AssetSpec`` has one); ``group_name``,
    ``retry_policy``, config (``config_schema`` or a ``Config`` parameter) and ``op_tags``
    (its step's tags) are every asset's; ``compute_kind`` joins each asset's kinds;
    ``deps`` are upstream of every asset (of an outs multi-asset). ``required_resource_keys``,
    ``code_version`` and ``pool`` are accepted and ignored; ``internal_asset_deps``,
    ``partitions_def``, ``hooks``, ``backfill_policy``, ``resource_defs`` and
    ``check_specs`` are refused.
    """
    compute_kind = dagster_only.pop("compute_kind", None)
    refused = dict(internal_asset_deps=internal_asset_deps, partitions_def=partitions_def, hooks=hooks,
                   backfill_policy=backfill_policy, resource_defs=resource_defs, check_specs=check_specs)
    reject_unknown("@multi_asset", {**_given(refused), **dagster_only})

    def wrap(fn: Callable[..., Any]) -> MultiAssetDefinition:
        return MultiAssetDefinition(
            fn,
            outs=outs,
            specs=specs,
            name=name,
            ins=ins,
            deps=deps,
            description=description,
            config_schema=config_schema,
            op_tags=op_tags,
            can_subset=can_subset,
            group_name=group_name,
            retry_policy=retry_policy,
            compute_kind=compute_kind,
        )

    return wrap
