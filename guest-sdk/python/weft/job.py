"""Jobs (Dagster's ``@job``): the graph of op calls made by the job's body."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from .errors import DefinitionError
from .op import OpDefinition, _tags


class OutputHandle:
    """A node's output inside a job body: pass it to another op call to draw an edge,
    or a list of them to fan in."""

    def __init__(self, node: str, output: str = "result") -> None:
        self.node = node
        self.output = output

    def __repr__(self) -> str:
        return f"<output {self.node}.{self.output}>"


class Node:
    """One invocation of an op in a job: its name (alias), op, inputs and tags."""

    def __init__(
        self,
        name: str,
        op_def: OpDefinition,
        inputs: List[Tuple[str, List[OutputHandle], bool]],
        tags: Dict[str, str],
    ) -> None:
        self.name = name
        self.op = op_def
        self.inputs = inputs
        self.tags = tags


class Composition:
    """Records the op calls of a job body while it runs at definition time."""

    current: Optional["Composition"] = None

    def __init__(self, job_name: str) -> None:
        self.job_name = job_name
        self.nodes: List[Node] = []

    def unique(self, name: str, aliased: bool) -> str:
        taken = {node.name for node in self.nodes}
        if name not in taken:
            return name
        if aliased:
            raise DefinitionError(f"job `{self.job_name}`: two nodes are named `{name}`")
        n = 2
        while f"{name}_{n}" in taken:
            n += 1
        return f"{name}_{n}"


class Invocation:
    """An op about to be called in a job body, possibly under an alias or with tags."""

    def __init__(self, op_def: OpDefinition, alias: Optional[str] = None, tags: Optional[Dict[str, str]] = None):
        self.op = op_def
        self._alias = alias
        self._tags = dict(tags or {})

    def alias(self, name: str) -> "Invocation":
        return Invocation(self.op, name, self._tags)

    def tag(self, tags: Mapping[str, Any]) -> "Invocation":
        return Invocation(self.op, self._alias, {**self._tags, **_tags(tags)})

    with_tags = tag

    def __call__(self, *args: Any, **kwargs: Any) -> OutputHandle:
        composition = Composition.current
        if composition is None:
            raise DefinitionError(f"op `{self.op.name}`: an aliased or tagged op is called only in a @job body")
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
            fan_in = isinstance(arg, (list, tuple))
            sources = list(arg) if fan_in else [arg]
            if not all(isinstance(source, OutputHandle) for source in sources):
                raise DefinitionError(
                    f"job `{composition.job_name}`: input `{input_name}` of op `{self.op.name}` "
                    "must be the output of another op (or a list of them), not a constant"
                )
            inputs.append((input_name, sources, fan_in))
        name = composition.unique(self._alias or self.op.name, self._alias is not None)
        composition.nodes.append(Node(name, self.op, inputs, self._tags))
        return OutputHandle(name)


class JobDefinition:
    """A job: the graph of op invocations its body makes, recorded when it is declared."""

    def __init__(
        self,
        fn: Callable[[], Any],
        name: Optional[str] = None,
        description: Optional[str] = None,
        tags: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self.name = name or fn.__name__
        self.description = description if description is not None else inspect.getdoc(fn)
        self.tags = _tags(tags)
        if Composition.current is not None:
            raise DefinitionError(f"job `{self.name}` is declared inside another job's body")
        composition = Composition(self.name)
        Composition.current = composition
        try:
            fn()
        finally:
            Composition.current = None
        self.nodes = composition.nodes

    def ops(self) -> List[OpDefinition]:
        return [node.op for node in self.nodes]

    def __repr__(self) -> str:
        return f"<job {self.name}>"


def job(
    fn: Optional[Callable[[], Any]] = None,
    *,
    name: Optional[str] = None,
    description: Optional[str] = None,
    tags: Optional[Mapping[str, Any]] = None,
    **dagster_only: Any,
) -> Any:
    """Declare a job: ``@job`` or ``@job(description=..., tags=...)``. The body runs once,
    at definition time; each op call in it adds a node."""
    from .op import reject_unknown

    reject_unknown("@job", dagster_only)

    def wrap(fn: Callable[[], Any]) -> JobDefinition:
        return JobDefinition(fn, name=name, description=description, tags=tags)

    return wrap(fn) if fn is not None else wrap
