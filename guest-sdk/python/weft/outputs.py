"""What a compute function produced, as its step's outputs: an op's (its declared ``out``s),
an asset's (``result``) and a multi-asset's (one per selected asset), from the value it
returned, the tuple in declared order, the ``Output``s it yielded, or the
:class:`MaterializeResult`\\ s it returned or yielded (Dagster's: an asset materialized with
metadata and no value, which crosses as JSON ``null``). A ``DynamicOut``'s values are the
``DynamicOutput``s yielded for it, or the list of them in its place: one each, under its key.

Each is ``(output name, value, metadata, mapping key)`` (the key ``None`` but of a dynamic
output's value); anything else fails the step, not retryably, saying what to return instead.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, AbstractSet, Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from .asset import CoercibleToAssetKey, to_key
from .asset_key import AssetKey
from .errors import Failure
from .op import DynamicOutput, Out, Output

if TYPE_CHECKING:  # the multi-asset module imports nothing of this one's at run time
    from .multi_asset import MultiAssetDefinition

Produced = List[Tuple[str, Any, Dict[str, Any], Optional[str]]]


class _NoValue:
    """A :class:`MaterializeResult` given no ``value`` (Dagster's ``NoValueSentinel``)."""

    def __repr__(self) -> str:
        return "NoValue"


NO_VALUE = _NoValue()


class MaterializeResult:
    """An asset materialized by its function (Dagster's ``MaterializeResult``): returned
    or yielded from an ``@asset`` or a ``@multi_asset``, with ``metadata`` for its
    materialization. The asset's value is ``value`` when given, else ``None`` (JSON
    ``null``). ``asset_key`` says which asset of a multi-asset it is (needless for an
    asset's own function). ``data_version`` and ``tags`` are accepted and ignored, as
    ``Output``'s; ``check_results`` fail the step (Weft's checks are ``@asset_check``s)."""

    def __init__(
        self,
        asset_key: Optional[CoercibleToAssetKey] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        check_results: Optional[Sequence[Any]] = None,
        data_version: Any = None,
        tags: Optional[Mapping[str, str]] = None,
        value: Any = NO_VALUE,
    ) -> None:
        self.asset_key: Optional[AssetKey] = to_key(asset_key) if asset_key is not None else None
        self.metadata = dict(metadata) if metadata is not None else None
        self.check_results = list(check_results or [])
        self.data_version = data_version
        self.tags = dict(tags) if tags is not None else None
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MaterializeResult) and vars(other) == vars(self)

    def __repr__(self) -> str:
        key = self.asset_key.to_user_string() if self.asset_key is not None else None
        return f"MaterializeResult(asset_key={key!r}, metadata={self.metadata!r}, value={self.value!r})"


def _fail(message: str) -> Failure:
    return Failure(message, allow_retries=False)


def _materialized(item: MaterializeResult, what: str, outputs_by_key: Mapping[AssetKey, str]) -> Output:
    """A :class:`MaterializeResult` as the ``Output`` of the asset it names (the only asset
    when it names none)."""
    keys = ", ".join(k.to_user_string() for k in outputs_by_key)
    if item.check_results:
        raise _fail(f"{what} returned a MaterializeResult with check_results: Weft does not support checks "
                    "declared on an asset (check_specs); define them with @asset_check")
    if item.asset_key is None:
        if len(outputs_by_key) != 1:
            raise _fail(f"{what} returned a MaterializeResult without asset_key; it materializes several assets "
                        f"({keys}): say which with MaterializeResult(asset_key=...)")
        name = next(iter(outputs_by_key.values()))
    elif item.asset_key in outputs_by_key:
        name = outputs_by_key[item.asset_key]
    else:
        raise _fail(f"{what} returned a MaterializeResult for asset `{item.asset_key.to_user_string()}`, "
                    f"which it does not materialize ({keys})")
    value = None if item.value is NO_VALUE else item.value
    return Output(value, output_name=name, metadata=item.metadata)


def _renamed(item: Any, name: str) -> Any:
    """An ``Output`` or a ``DynamicOutput`` naming no output (``result``) as ``name``'s."""
    if item.output_name != "result":
        return item
    if isinstance(item, DynamicOutput):
        return DynamicOutput(item.value, item.mapping_key, output_name=name, metadata=item.metadata)
    return Output(item.value, output_name=name, metadata=item.metadata)


def _named(item: Any, name: str) -> Any:
    """An element of a returned tuple as the output at its position (an ``Output`` that
    names none takes that position's name; a ``MaterializeResult`` names its asset)."""
    if isinstance(item, MaterializeResult):
        return item
    if not isinstance(item, Output):
        return Output(item, output_name=name)
    return _renamed(item, name)


def _dynamic_values(value: Any, name: str, what: str) -> List[DynamicOutput]:
    """What was returned for the dynamic output ``name``: a list of ``DynamicOutput``s."""
    if isinstance(value, DynamicOutput):
        return [_renamed(value, name)]
    if isinstance(value, (list, tuple)) and all(isinstance(v, DynamicOutput) for v in value):
        return [_renamed(v, name) for v in value]
    raise _fail(
        f"{what}: output `{name}` is a DynamicOut, which takes a list of DynamicOutput(value, mapping_key=...), "
        f"not {type(value).__name__}: return the list, or yield each DynamicOutput"
    )


def _items(result: Any, names: List[str], what: str, results: str, dynamic: AbstractSet[str] = frozenset()) -> List[Any]:
    """What a function returned or yielded, as ``Output``s, ``DynamicOutput``s and
    ``MaterializeResult``s in the order produced (``results``: what it may yield, for the
    error; ``dynamic``: the outputs that are ``DynamicOut``s)."""
    single = len(names) == 1
    if inspect.isgenerator(result):
        items = []
        for item in result:
            if not isinstance(item, (Output, DynamicOutput, MaterializeResult)):
                if names == ["result"] and not items:
                    item = Output(item)
                else:
                    raise _fail(f"{what} yielded {type(item).__name__}; yield {results}")
            items.append(item)
        return items
    if isinstance(result, (Output, DynamicOutput, MaterializeResult)):
        return [result]
    if single:
        if names[0] in dynamic:
            return _dynamic_values(result, names[0], what)
        return [Output(result, output_name=names[0])]
    if isinstance(result, tuple) and all(isinstance(r, MaterializeResult) for r in result):
        return list(result)
    if isinstance(result, tuple) and len(result) == len(names):
        items = []
        for r, n in zip(result, names):
            items.extend(_dynamic_values(r, n, what) if n in dynamic else [_named(r, n)])
        return items
    raise _fail(
        f"{what} has outputs {', '.join(names)}: return a tuple of {len(names)} values in that order, "
        f"or yield {results} for each"
    )


def _collect(
    items: List[Any],
    names: List[str],
    what: str,
    outputs_by_key: Mapping[AssetKey, str],
    dynamic: AbstractSet[str] = frozenset(),
) -> Produced:
    """``items`` as ``(output, value, metadata, mapping key)``: each output declared and
    produced once, but a dynamic one (of ``dynamic``), produced once per mapping key."""
    produced: Produced = []
    keys: Dict[str, Set[str]] = {}
    for item in items:
        if isinstance(item, MaterializeResult):
            if not outputs_by_key:
                raise _fail(f"{what} returned a MaterializeResult, which only an asset's function returns; "
                            "return the value, or Output(value, metadata=...)")
            item = _materialized(item, what, outputs_by_key)
        if len(names) == 1 and names != ["result"]:
            item = _renamed(item, names[0])
        name = item.output_name
        if name not in names:
            raise _fail(f"{what} produced output `{name}`, which it does not declare ({', '.join(names)})")
        if isinstance(item, DynamicOutput):
            if name not in dynamic:
                raise _fail(f"{what} produced a DynamicOutput for output `{name}`, which is not a DynamicOut: "
                            "declare it out=DynamicOut(), or produce Output(value)")
            if item.mapping_key in keys.setdefault(name, set()):
                raise _fail(f'{what} produced a DynamicOutput with mapping_key "{item.mapping_key}" twice '
                            f"(output `{name}`): each value of a dynamic output has a key of its own")
            keys[name].add(item.mapping_key)
            produced.append((name, item.value, item.metadata, item.mapping_key))
            continue
        if name in dynamic:
            raise _fail(f"{what}: output `{name}` is a DynamicOut: yield DynamicOutput(value, mapping_key=...) "
                        "for each of its values, or return a list of them")
        if any(made == name for made, _, _, _ in produced):
            raise _fail(f"{what} produced output `{name}` twice")
        produced.append((name, item.value, item.metadata, None))
    return produced


def produced(result: Any, outs: Dict[str, Out], what: str, asset_key: Optional[Sequence[str]] = None) -> Produced:
    """What an op's or an asset's (``asset_key``) function returned or yielded, as
    ``(output, value, metadata, mapping key)``, in the order produced: one value (an
    ``Output``, or an asset's ``MaterializeResult``; a list of ``DynamicOutput``s for a
    ``DynamicOut``) for one output; a tuple of them in declared order for several; or the
    ``Output``s and ``DynamicOutput``s a generator yields."""
    names = list(outs)
    dynamic = {name for name, out in outs.items() if out.is_dynamic}
    by_key = {AssetKey(list(asset_key)): "result"} if asset_key is not None else {}
    shown = "Output(value, output_name=...)" + (" or DynamicOutput(value, mapping_key=...)" if dynamic else "")
    return _collect(_items(result, names, what, shown, dynamic), names, what, by_key, dynamic)


def multi_produced(result: Any, multi: "MultiAssetDefinition", selected: Sequence[str], what: str) -> Produced:
    """What a multi-asset's function returned or yielded, as ``(output, value, metadata,
    None)`` for the assets of it the run materializes (their outputs: ``selected``), as Dagster
    takes it: an output not selected fails the step (a function that ``can_subset``
    produces only ``context.selected_output_names``), as does a selected one left out that
    is required (an ``AssetOut``'s, unless ``is_required=False``); an ``AssetSpec``'s asset
    left out is materialized with no value and no metadata unless it may be left out
    (``can_subset``, ``skippable``), and its value is ``None`` (Dagster's ``Nothing``)."""
    names = [m.output for m in multi.assets]
    yields = "Output(value, output_name=...) or MaterializeResult(asset_key=...)"
    items = [] if result is None and multi.from_specs else _items(result, names, what, yields)
    made = _collect(items, names, what, multi.outputs_by_key)
    members = {m.output: m for m in multi.assets}
    for name, value, _, _ in made:
        member = members[name]
        if name not in selected:
            raise _fail(f"{what} produced output `{name}` (asset `{member.key.to_user_string()}`), which this run "
                        f"does not materialize (it selects {', '.join(selected)}): produce only "
                        "context.selected_output_names")
        if not member.holds_value and value is not None:
            raise _fail(f"{what}: asset `{member.key.to_user_string()}` is an AssetSpec's, whose value is None "
                        f"(Dagster's Nothing), not {type(value).__name__}: yield MaterializeResult(asset_key=...) for it")
    done = {name for name, _, _, _ in made}
    for name in selected:
        member = members[name]
        if name in done or not member.required:
            continue
        if member.holds_value:
            raise _fail(f"{what} did not return its output `{name}` (asset `{member.key.to_user_string()}`), "
                        f"which is required: produce it, or declare it AssetOut(is_required=False)")
        made.append((name, None, {}, None))  # an AssetSpec's asset: materialized, as Dagster does
    return made
