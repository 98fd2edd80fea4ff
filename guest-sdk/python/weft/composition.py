"""Recording a job body: while a ``@job`` function runs at definition time, each op
called in it becomes a node of the job's graph, and its result a handle to that node's
output.

:mod:`weft.op` (an op called in a body is recorded here) and :mod:`weft.job` (a job runs
its body under a :class:`Composition`) both build on this module, which needs nothing of
an op but what :class:`Invocable` names, so it imports neither.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Protocol, Tuple

from ._args import string_tags
from .errors import DefinitionError
from .hook import HookDefinition, hook_list, joined


class ComputeInputs(Protocol):
    """What a job body needs of an op's compute function: its inputs' defaults."""

    @property
    def defaults(self) -> Dict[str, Any]: ...


class Invocable(Protocol):
    """What a job body needs of an op (a :class:`weft.op.OpDefinition`): its name, its
    inputs in order, and which of them have defaults (and so may stay unconnected)."""

    @property
    def name(self) -> str: ...

    @property
    def input_names(self) -> List[str]: ...

    @property
    def compute(self) -> ComputeInputs: ...


class OutputHandle:
    """A node's output inside a job body: pass it to another op call to draw an edge,
    or a list of them to fan in."""

    def __init__(self, node: str, output: str = "result") -> None:
        self.node = node
        self.output = output

    def __repr__(self) -> str:
        return f"<output {self.node}.{self.output}>"


class OutputHandles(tuple):
    """The outputs of a node whose op has several, in their declared order: unpack them
    (``a, b = split()``) or read them by name (``split().a``), as in Dagster."""

    def __new__(cls, node: str, names: List[str]) -> "OutputHandles":
        return cls.of({name: OutputHandle(node, name) for name in names})

    @classmethod
    def of(cls, by_name: Dict[str, OutputHandle]) -> "OutputHandles":
        """Handles by name (a graph's outputs: each another node's)."""
        handles = super().__new__(cls, list(by_name.values()))
        handles._by_name = dict(by_name)  # type: ignore[attr-defined]
        return handles

    def __getattr__(self, name: str) -> OutputHandle:
        try:
            return self._by_name[name]  # type: ignore[attr-defined]
        except KeyError:
            raise AttributeError(f"this node has no output `{name}`") from None


class Node:
    """One invocation of an op in a job: its name (alias), op, inputs, tags and its own
    hooks (``with_hooks`` on it or on a graph it is in; the job's are the job's)."""

    def __init__(
        self,
        name: str,
        op_def: Invocable,
        inputs: List[Tuple[str, List[OutputHandle], bool]],
        tags: Dict[str, str],
        hooks: Optional[List[HookDefinition]] = None,
    ) -> None:
        self.name = name
        self.op = op_def
        self.inputs = inputs
        self.tags = tags
        self.hooks: List[HookDefinition] = list(hooks or [])


class Composition:
    """Records the op calls of a job body while it runs at definition time."""

    current: Optional["Composition"] = None

    def __init__(self, job_name: str) -> None:
        self.job_name = job_name
        self.nodes: List[Node] = []
        # The graphs being called, outermost first: an op called in one is named
        # `graph.op` (Dagster's step key).
        self.prefix: List[str] = []
        self.graphs: List[str] = []
        # The hooks of the graph calls being made (`graph.with_hooks(...)`): every node
        # made inside has them.
        self.hooks: List[HookDefinition] = []

    def unique(self, name: str, aliased: bool) -> str:
        """The node name for `name` here: qualified by the graphs being called, numbered
        (`op_2`) when taken unless given as an alias."""
        name = ".".join(self.prefix + [name])
        taken = {node.name for node in self.nodes} | set(self.graphs)
        if name not in taken:
            return name
        if aliased:
            raise DefinitionError(f"job `{self.job_name}`: two nodes are named `{name}`")
        n = 2
        while f"{name}_{n}" in taken:
            n += 1
        return f"{name}_{n}"


class Invocation:
    """An op about to be called in a job body, possibly under an alias, with tags or with
    hooks of its own (Dagster's ``PendingNodeInvocation``)."""

    def __init__(
        self,
        op_def: Invocable,
        alias: Optional[str] = None,
        tags: Optional[Dict[str, str]] = None,
        hooks: Optional[List[HookDefinition]] = None,
    ):
        self.op = op_def
        self._alias = alias
        self._tags = dict(tags or {})
        self._hooks: List[HookDefinition] = list(hooks or [])

    def alias(self, name: str) -> "Invocation":
        return Invocation(self.op, name, self._tags, self._hooks)

    def tag(self, tags: Mapping[str, Any]) -> "Invocation":
        return Invocation(self.op, self._alias, {**self._tags, **string_tags(tags)}, self._hooks)

    with_tags = tag

    def with_hooks(self, hook_defs: Any) -> "Invocation":
        """This invocation with ``hook_defs`` too: ``op.with_hooks({h})(x)``."""
        added = hook_list(f"op `{self.op.name}`: with_hooks", hook_defs)
        return Invocation(self.op, self._alias, self._tags, joined(self._hooks, added))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        composition = Composition.current
        if composition is None:
            raise DefinitionError(
                f"op `{self.op.name}`: an aliased, tagged or hooked op is called only in a @job or @graph body"
            )
        names = self.op.input_names
        if len(args) > len(names):
            raise DefinitionError(f"op `{self.op.name}` takes {len(names)} inputs, got {len(args)}")
        bound: Dict[str, Any] = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names:
                raise DefinitionError(f"op `{self.op.name}` has no input `{key}`")
            if key in bound:
                raise DefinitionError(f"op `{self.op.name}`: input `{key}` given twice")
            bound[key] = value
        inputs = []
        for input_name in names:
            if input_name not in bound:
                if input_name in self.op.compute.defaults:
                    continue
                raise DefinitionError(
                    f"job `{composition.job_name}`: input `{input_name}` of op `{self.op.name}` is not connected"
                )
            arg = bound[input_name]
            if isinstance(arg, OutputHandles):
                raise DefinitionError(
                    f"job `{composition.job_name}`: input `{input_name}` of op `{self.op.name}` is fed "
                    f"every output of a node with several; pass one of them (`{arg[0].output}`...)"
                )
            fan_in = isinstance(arg, (list, tuple))
            sources = list(arg) if fan_in else [arg]
            if not all(isinstance(source, OutputHandle) for source in sources):
                raise DefinitionError(
                    f"job `{composition.job_name}`: input `{input_name}` of op `{self.op.name}` "
                    "must be the output of another op (or a list of them), not a constant"
                )
            inputs.append((input_name, sources, fan_in))
        name = composition.unique(self._alias or self.op.name, self._alias is not None)
        composition.nodes.append(Node(name, self.op, inputs, self._tags, joined(self._hooks, composition.hooks)))
        outs = list(getattr(self.op, "outs", None) or ["result"])
        if outs == ["result"]:
            return OutputHandle(name)
        return OutputHandles(name, outs)
