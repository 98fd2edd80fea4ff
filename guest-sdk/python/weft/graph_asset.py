"""Graph-backed assets (Dagster's ``@graph_asset``): an asset whose value is the output of a
graph of ops, not of a function of its own.

The decorated function is a graph's body (:mod:`weft.graph`): it runs once, at definition
time, calling ops on its parameters — the values of the asset's upstream assets, named as an
``@asset``'s are (``ins`` too) — and returns the op output that is the asset's value. The
graph is named by the asset's key as Dagster names it (the key's parts joined by ``__``: the
function's name unless ``name``, ``key_prefix`` or ``key`` say otherwise), so its ops are the
nodes ``<graph>.<op>`` (``_2`` for an op called twice, ``<graph>.<inner graph>.<op>`` inside
a ``@graph`` it calls): the step keys Dagster gives them.

In the contract it is an ``asset-def`` whose ``graph`` lists those nodes (``node-def``s, as a
job's), the node inputs an upstream asset feeds (``asset-graph-input``) and the node output
that is its value. The host runs each node as a step of its own (``step-target.op``), whose op
``weft.component.Ops`` finds in the definitions' ``ops``; the step of the output's node
materializes the asset, and its checks run after it. The asset itself is never executed.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, Callable, Iterable, List, Mapping, Optional, Sequence, Tuple, Union, cast

from ._args import reject_unknown
from .asset import AssetIn, AssetsDefinition, CoercibleToAssetKey, asset_key_of
from .composition import Composition, DynamicHandle, Node, OutputHandle, OutputHandles
from .errors import DefinitionError
from .graph import GraphDefinition, GraphOut
from .hook import HookDefinition, hook_list, hook_names, joined
from .op import OpDefinition


class AssetInput(OutputHandle):
    """A parameter of a graph asset's function, in its body: the value of one of the asset's
    upstream assets (its dependency ``dep``), fed to the inputs of the ops it is passed to
    (``asset-graph-input``), not any node's output."""

    def __init__(self, dep: str) -> None:
        super().__init__("", dep)
        self.dep = dep

    def __repr__(self) -> str:
        return f"<upstream asset {self.dep}>"


def graph_name_of(key: Any) -> str:
    """The name of a graph asset's graph: its key as a Python identifier, as Dagster names
    it (``AssetKey.to_python_identifier``: the parts joined by ``__``, ``-`` and ``.`` as
    ``_``)."""
    return "__".join(key.path).replace("-", "_").replace(".", "_")


class GraphAssetDefinition(AssetsDefinition):
    """A graph asset: an asset (its key, group, description, kinds, tags, upstream assets)
    whose value is computed by a graph of ops — ``nodes`` (named ``<graph>.<op>``), the
    node inputs its upstream assets feed (``graph_inputs``: ``(dep, node, input)``) and the
    node output that is its value (``output``). ``hook_defs`` (Dagster's ``hooks``) run after
    every node's step, with the hooks a node has of its own (``op.with_hooks`` in the body).

    It has no compute function, retry policy or config of its own: its ops' are theirs.
    Called in a ``@job`` or ``@graph`` body it is its graph (its ops become that job's
    nodes), as in Dagster; called anywhere else it raises, as a graph does."""

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
        hooks: Any = None,
    ) -> None:
        if not callable(fn):
            raise DefinitionError(f"@graph_asset decorates a function, not {fn!r}")
        if key is not None and (name is not None or key_prefix):
            raise DefinitionError(
                f"@graph_asset: `{fn.__name__}`: give key, or name and key_prefix, not both (Dagster: Cannot "
                "specify a name or key prefix for @graph_asset when the key argument is provided.)"
            )
        self.key = asset_key_of(fn, name, key_prefix, key)
        self.graph_name = graph_name_of(self.key)
        self._params = self._parameters(fn)
        self._describe(fn, group_name, description, kinds, deps, ins, tags)
        self.retry_policy = None
        self.config_schema = None
        self.hook_defs: List[HookDefinition] = hook_list(self.what, hooks)
        self._fn = fn
        self.nodes, self.graph_inputs, self.output = self._compose()

    @property
    def what(self) -> str:
        return f"graph asset `{self.key.to_user_string()}`"

    @property
    def input_names(self) -> List[str]:
        return list(self._params)

    def _parameters(self, fn: Callable[..., Any]) -> List[str]:
        """The function's parameters: each the value of an upstream asset."""
        names = []
        for param in inspect.signature(fn).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise DefinitionError(f"{self.what}: *args and **kwargs cannot be upstream assets")
            if param.name in ("context", "config"):
                raise DefinitionError(
                    f"{self.what}: its function takes `{param.name}`; a graph asset's parameters are its upstream "
                    "assets, and its ops take the context and config (Dagster: \"context\" is not a valid name)"
                )
            names.append(param.name)
        return names

    def _compose(self) -> Tuple[List[Node], List[Tuple[str, str, str]], OutputHandle]:
        """Runs the body as its graph's, on the upstream assets' values: the nodes it makes
        (the inputs an upstream asset feeds taken out of their bindings), those inputs, and
        the output it returns."""
        if Composition.current is not None:
            raise DefinitionError(f"{self.what} is declared inside a job's or graph's body")
        composition = Composition(self.graph_name, owner=self.what)
        Composition.current = composition
        try:
            graph = GraphDefinition(self._fn, name=self.graph_name, out={"result": GraphOut()})
            result = graph(**{p: AssetInput(p) for p in self._params})
        finally:
            Composition.current = None
        output = self._output(result)
        fed: List[Tuple[str, str, str]] = []
        for node in composition.nodes:
            self._check_node(node)
            bindings = []
            for input_name, sources, fan_in in node.inputs:
                upstream = [s for s in sources if isinstance(s, AssetInput)]
                if not upstream:
                    bindings.append((input_name, sources, fan_in))
                elif fan_in:
                    raise DefinitionError(
                        f"{self.what}: input `{input_name}` of node `{node.name}` fans in upstream asset "
                        f"`{upstream[0].dep}`; an upstream asset's value is an input's whole value: pass it to an op "
                        "that returns it, and fan that in"
                    )
                else:
                    fed.append((upstream[0].dep, node.name, input_name))
            node.inputs = bindings
        unused = [p for p in self._params if p not in {dep for dep, _, _ in fed}]
        if unused:
            raise DefinitionError(
                f"{self.what}: parameter `{unused[0]}` is passed to no op; remove it, or pass it to the op that "
                "reads it (Dagster: unmapped input)"
            )
        return composition.nodes, fed, output

    def _output(self, result: Any) -> OutputHandle:
        """The op output the body returned (or returned as ``{"result": ...}``)."""
        if isinstance(result, OutputHandles) and list(result.by_name()) == ["result"]:
            result = result.by_name()["result"]
        if isinstance(result, AssetInput):
            raise DefinitionError(
                f"{self.what} returns its upstream asset `{result.dep}` itself; return the output of an op "
                "(Dagster: returned problematic value)"
            )
        if isinstance(result, DynamicHandle) or getattr(result, "over", None) is not None:
            raise DefinitionError(f"{self.what}: dynamic outputs are not supported in a graph asset")
        if isinstance(result, OutputHandles):
            raise DefinitionError(
                f"{self.what} returns every output of a node with several; return the one that is the asset's "
                f"value (`{result[0].output}`...)"
            )
        if not isinstance(result, OutputHandle):
            raise DefinitionError(
                f"{self.what} returns nothing: return the output of the op whose value is the asset "
                "(Dagster: unmapped output)"
            )
        return result

    def _check_node(self, node: Node) -> None:
        outs = getattr(node.op, "outs", None) or {}
        if node.collect or node.over is not None or any(getattr(o, "is_dynamic", False) for o in outs.values()):
            raise DefinitionError(
                f"{self.what}: node `{node.name}`: dynamic outputs (DynamicOut, .map, .collect) are not supported "
                "in a graph asset; use them in a @job"
            )

    def ops(self) -> List[OpDefinition]:
        # Only an OpDefinition records a node (composition.py knows it as an Invocable).
        return [cast(OpDefinition, node.op) for node in self.nodes]

    def node_hooks(self, node: Node) -> List[str]:
        """The hooks of ``node`` as the contract lists them: its own and the asset's."""
        return hook_names(joined(node.hooks, self.hook_defs))

    def all_hooks(self) -> List[HookDefinition]:
        """Every hook a node of its graph has."""
        return joined(self.hook_defs, *(node.hooks for node in self.nodes))

    def with_hooks(self, hook_defs: Any) -> "GraphAssetDefinition":
        """This asset with ``hook_defs`` added to its hooks (Dagster's ``with_hooks``): they
        run after each of its ops' steps."""
        hooked = copy.copy(self)
        hooked.hook_defs = joined(self.hook_defs, hook_list(f"{self.what}: with_hooks", hook_defs))
        return hooked

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if Composition.current is None:
            raise DefinitionError(
                f"{self.what} is called in a @job or @graph body (its graph's ops then run in that job); "
                "as an asset it is materialized by a run, not called"
            )
        graph = GraphDefinition(self._fn, name=self.graph_name, out={"result": GraphOut()})
        return graph.with_hooks(self.hook_defs)(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<graph asset {self.key.to_user_string()}>"


def _given(arguments: Mapping[str, Any]) -> List[str]:
    """The names of the arguments given a value (``None`` or an empty collection is none)."""
    return [k for k, v in arguments.items() if v is not None and v != {} and v != [] and v != ()]


def graph_asset(
    compose_fn: Optional[Callable[..., Any]] = None,
    *,
    name: Optional[str] = None,
    description: Optional[str] = None,
    ins: Optional[Mapping[str, AssetIn]] = None,
    config: Any = None,
    key_prefix: Optional[Union[str, Sequence[str]]] = None,
    group_name: Optional[str] = None,
    partitions_def: Any = None,
    hooks: Any = None,
    metadata: Optional[Mapping[str, Any]] = None,
    tags: Optional[Mapping[str, Any]] = None,
    owners: Optional[Sequence[str]] = None,
    automation_condition: Any = None,
    backfill_policy: Any = None,
    resource_defs: Optional[Mapping[str, Any]] = None,
    check_specs: Optional[Sequence[Any]] = None,
    code_version: Optional[str] = None,
    key: Optional[CoercibleToAssetKey] = None,
    kinds: Optional[Iterable[str]] = None,
    deps: Optional[Iterable[CoercibleToAssetKey]] = None,
    **dagster_only: Any,
) -> Any:
    """Declare a graph asset (Dagster's signature): ``@graph_asset`` or ``@graph_asset(name=...,
    key_prefix=..., group_name=..., ...)`` over a function that calls ops on its parameters
    (its upstream assets) and returns the output that is the asset's value.

    ``name``, ``key_prefix`` or ``key``, ``group_name``, ``description`` (else the docstring),
    ``kinds``, ``tags``, ``ins`` (``AssetIn(key=...)`` naming a parameter's asset) and
    ``hooks`` (run after each of its ops' steps) are honoured; ``deps=[...]`` (upstream
    assets for ordering only) is Weft's, as ``@asset``'s (Dagster's ``@graph_asset`` has
    none); ``code_version`` is accepted and ignored; ``config``, ``partitions_def``,
    ``metadata``, ``owners``, ``automation_condition``, ``backfill_policy``,
    ``resource_defs`` and ``check_specs`` are refused.
    """
    # Refused when given a value (an empty one is taken): the contract's asset-def carries no
    # definition metadata, owners, policies, partitions, resources, checks declared on the
    # asset or graph config.
    refused = dict(config=config, partitions_def=partitions_def, metadata=metadata, owners=owners,
                   automation_condition=automation_condition, backfill_policy=backfill_policy,
                   resource_defs=resource_defs, check_specs=check_specs)
    reject_unknown("@graph_asset", {**{k: refused[k] for k in _given(refused)}, **dagster_only})

    def wrap(fn: Callable[..., Any]) -> GraphAssetDefinition:
        return GraphAssetDefinition(
            fn,
            name=name,
            key_prefix=key_prefix,
            key=key,
            group_name=group_name,
            description=description,
            kinds=kinds,
            deps=deps,
            ins=ins,
            tags=tags,
            hooks=hooks,
        )

    return wrap(compose_fn) if compose_fn is not None else wrap
