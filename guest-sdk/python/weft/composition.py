"""Recording a job body: while a ``@job`` function runs at definition time, each op
called in it becomes a node of the job's graph, and its result a handle to that node's
output. A dynamic output's handle (Dagster's ``DynamicOut``) is mapped over (``.map(fn)``:
the nodes ``fn`` makes on it are mapped, one step per mapping key) or collected
(``.collect()``: an input that gets all its values as a list).

:mod:`weft.op` (an op called in a body is recorded here) and :mod:`weft.job` (a job runs
its body under a :class:`Composition`) both build on this module, which needs nothing of
an op but what :class:`Invocable` names, so it imports neither.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Protocol, Set, Tuple

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


# A dynamic output, as (node, output).
Dynamic = Tuple[str, str]


class OutputHandle:
    """A node's output inside a job body: pass it to another op call to draw an edge,
    or a list of them to fan in. ``over`` is the dynamic output its node is mapped over,
    if it is (a node reading it is mapped over that one too)."""

    def __init__(self, node: str, output: str = "result", over: Optional[Dynamic] = None) -> None:
        self.node = node
        self.output = output
        self.over = over

    def __repr__(self) -> str:
        return f"<output {self.node}.{self.output}>"


class DynamicHandle(OutputHandle):
    """A dynamic output inside a job body, or the output of a node mapped over one
    (Dagster's ``InvokedNodeDynamicOutputWrapper``): not passed to an op itself, but mapped
    over with ``.map(fn)`` or collected with ``.collect()``."""

    def map(self, fn: Callable[[OutputHandle], Any]) -> Any:
        """Calls ``fn`` (an op, or a function calling ops) on one value of this output: the
        nodes it makes on it are mapped over it, a step per mapping key (``node[key]``).
        Returns what ``fn`` returned, a node's output (or a tuple of them), as handles to
        map or collect in turn."""
        over = self._mapped("map")
        return _wrapped(fn(OutputHandle(self.node, self.output, over=over)), self)

    def collect(self) -> "Collected":
        """Every value of this output, as a list in the order their mapping keys were
        produced: pass it to an op (its input collects them)."""
        self._mapped("collect")
        return Collected(self)

    def _mapped(self, what: str) -> Dynamic:
        if self.over is None:
            raise DefinitionError(
                f"{self.describe()} is not mapped over a dynamic output, so there is nothing to {what}: "
                "the function given to .map returned it without making it of the value it was given"
            )
        return self.over

    def describe(self) -> str:
        return f"output `{self.output}` of node `{self.node}`"

    def __iter__(self) -> Any:
        raise DefinitionError(
            f"{self.describe()} is dynamic: its values are known only when the job runs; "
            "use .map(fn) to call ops on each of them, or .collect() to pass them all to one op"
        )

    def __repr__(self) -> str:
        return f"<dynamic output {self.node}.{self.output}>"


class Collected:
    """Every value of a dynamic output (or of a mapped node's output) as one list (Dagster's
    ``.collect()``): pass it to an op, whose input then collects them."""

    def __init__(self, handle: DynamicHandle) -> None:
        self.handle = handle

    def __repr__(self) -> str:
        return f"<collected {self.handle.node}.{self.handle.output}>"


def _wrapped(result: Any, mapped: DynamicHandle) -> Any:
    """What the function given to ``.map`` returned, as handles to map or collect: a
    node's output, a tuple of them (by name too, as an op's with several), or ``None``."""
    if result is None or isinstance(result, DynamicHandle):
        return result
    if isinstance(result, OutputHandle):
        return DynamicHandle(result.node, result.output, over=result.over)
    if isinstance(result, OutputHandles):
        return OutputHandles.of({name: _wrapped(h, mapped) for name, h in result.by_name().items()})
    if isinstance(result, tuple) and all(isinstance(h, OutputHandle) for h in result):
        return tuple(_wrapped(h, mapped) for h in result)
    raise DefinitionError(
        f"the function given to .map of {mapped.describe()} returned {type(result).__name__}: "
        "return the output of an op it called (or a tuple of them), or nothing"
    )


class OutputHandles(tuple):
    """The outputs of a node whose op has several, in their declared order: unpack them
    (``a, b = split()``) or read them by name (``split().a``), as in Dagster."""

    @classmethod
    def of(cls, by_name: Dict[str, OutputHandle]) -> "OutputHandles":
        """Handles by name (a node's outputs, or a graph's: each another node's)."""
        handles = super().__new__(cls, list(by_name.values()))
        handles._by_name = dict(by_name)  # type: ignore[attr-defined]
        return handles

    def by_name(self) -> Dict[str, OutputHandle]:
        return dict(self._by_name)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> OutputHandle:
        try:
            return self._by_name[name]  # type: ignore[attr-defined]
        except KeyError:
            raise AttributeError(f"this node has no output `{name}`") from None


class Node:
    """One invocation of an op in a job: its name (alias), op, inputs (name, sources,
    fan-in), the inputs that collect a dynamic output (``collect``), the dynamic output it
    is mapped over (``over``), tags and its own hooks (``with_hooks`` on it or on a graph it
    is in; the job's are the job's)."""

    def __init__(
        self,
        name: str,
        op_def: Invocable,
        inputs: List[Tuple[str, List[OutputHandle], bool]],
        tags: Dict[str, str],
        hooks: Optional[List[HookDefinition]] = None,
        collect: Optional[Set[str]] = None,
        over: Optional[Dynamic] = None,
    ) -> None:
        self.name = name
        self.op = op_def
        self.inputs = inputs
        self.tags = tags
        self.hooks: List[HookDefinition] = list(hooks or [])
        self.collect: Set[str] = set(collect or ())
        self.over = over


class Composition:
    """Records the op calls of a job body while it runs at definition time."""

    current: Optional["Composition"] = None

    def __init__(self, job_name: str, owner: Optional[str] = None) -> None:
        self.job_name = job_name
        # What the body is of, as errors name it: a job, or a graph asset.
        self.owner = owner or f"job `{job_name}`"
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
            raise DefinitionError(f"{self.owner}: two nodes are named `{name}`")
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
        inputs, collect, over = [], set(), set()
        for input_name in names:
            if input_name not in bound:
                if input_name in self.op.compute.defaults:
                    continue
                raise DefinitionError(
                    f"{composition.owner}: input `{input_name}` of op `{self.op.name}` is not connected"
                )
            sources, fan_in, collects = self._sources(composition, input_name, bound[input_name])
            inputs.append((input_name, sources, fan_in))
            if collects:
                collect.add(input_name)
            elif sources[0].over is not None:
                over.add(sources[0].over)
        mapped = self._mapped_over(over)
        name = composition.unique(self._alias or self.op.name, self._alias is not None)
        hooks = joined(self._hooks, composition.hooks)
        composition.nodes.append(Node(name, self.op, inputs, self._tags, hooks, collect, mapped))
        return self._handles(name, mapped)

    def _sources(self, composition: Composition, input_name: str, arg: Any) -> Tuple[List[OutputHandle], bool, bool]:
        """What feeds the input: its sources, whether it fans them in, whether it
        collects a dynamic output."""
        where = f"{composition.owner}: input `{input_name}` of op `{self.op.name}`"
        if isinstance(arg, Collected):
            return [OutputHandle(arg.handle.node, arg.handle.output)], False, True
        if isinstance(arg, DynamicHandle):
            raise DefinitionError(
                f"{where} is fed the dynamic {arg.describe()} itself: map over it "
                f"(`.map({self.op.name})`) or collect its values (`.collect()`), as in Dagster"
            )
        if isinstance(arg, OutputHandles):
            raise DefinitionError(
                f"{where} is fed every output of a node with several; pass one of them (`{arg[0].output}`...)"
            )
        fan_in = isinstance(arg, (list, tuple))
        sources = list(arg) if fan_in else [arg]
        if any(isinstance(source, Collected) for source in sources) and fan_in:
            raise DefinitionError(f"{where}: a collected output is an input's whole value, not an item of a fan-in list")
        if not all(isinstance(source, OutputHandle) for source in sources):
            raise DefinitionError(f"{where} must be the output of another op (or a list of them), not a constant")
        if fan_in and any(source.over is not None for source in sources):
            raise DefinitionError(
                f"{where}: the items of a fan-in list cannot be dynamic or mapped over a dynamic output "
                "(Dagster's rule); collect it with .collect() and pass that"
            )
        return sources, fan_in, False

    def _mapped_over(self, over: Set[Dynamic]) -> Optional[Dynamic]:
        """The one dynamic output the node is mapped over (its inputs read it, or nodes
        mapped over it), if any."""
        if not over:
            return None
        if len(over) > 1:
            shown = " and ".join(f'"{node}:{output}"' for node, output in sorted(over))
            raise DefinitionError(
                f"op `{self.op.name}` cannot be mapped over more than one dynamic output: it is over {shown}"
            )
        dynamic = [n for n, out in (getattr(self.op, "outs", None) or {}).items() if getattr(out, "is_dynamic", False)]
        if dynamic:
            raise DefinitionError(
                f"op `{self.op.name}` is mapped over a dynamic output and has one of its own (`{dynamic[0]}`): "
                "Weft does not map over values of a mapped step; collect the first before fanning out again"
            )
        return next(iter(over))

    def _handles(self, name: str, over: Optional[Dynamic]) -> Any:
        """The new node's outputs as handles: a dynamic one to map or collect; any other
        mapped over what the node is mapped over."""
        outs = dict(getattr(self.op, "outs", None) or {"result": None})

        def handle(output: str) -> OutputHandle:
            if getattr(outs[output], "is_dynamic", False):
                return DynamicHandle(name, output, over=(name, output))
            return OutputHandle(name, output, over=over)

        if list(outs) == ["result"]:
            return handle("result")
        return OutputHandles.of({output: handle(output) for output in outs})
