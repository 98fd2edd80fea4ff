"""Graphs (Dagster's ``@graph``): ops composed once and called in jobs (or other graphs)
like an op. An op called inside a graph is the node ``graph.op`` — its step key, as
Dagster names it. ``graph.to_job()`` makes a job of a graph, its ops named as they are.
``graph.with_hooks({h})(...)`` gives hooks to every node of that call.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, List, Mapping, Optional

from ._args import reject_unknown
from .composition import Composition, OutputHandle, OutputHandles
from .errors import DefinitionError
from .executor import with_executor
from .hook import HookDefinition, hook_list, joined
from .job import JobDefinition


class GraphOut:
    """A declared output of a graph (Dagster's ``GraphOut``)."""

    def __init__(self, description: Optional[str] = None) -> None:
        self.description = description


class GraphDefinition:
    """A graph: its body calls ops (and graphs) on its inputs and returns the handles of
    its outputs — one, or a dict of them by name."""

    def __init__(
        self,
        fn: Callable[..., Any],
        name: Optional[str] = None,
        description: Optional[str] = None,
        out: Optional[Mapping[str, GraphOut]] = None,
    ) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.description = description if description is not None else inspect.getdoc(fn)
        self.out = dict(out or {})
        self.input_names = list(inspect.signature(fn).parameters)
        self._alias: Optional[str] = None
        self._hooks: List[HookDefinition] = []

    def _copy(self, alias: Optional[str], hooks: List[HookDefinition]) -> "GraphDefinition":
        copied = GraphDefinition(self.fn, self.name, self.description, self.out)
        copied._alias = alias
        copied._hooks = hooks
        return copied

    def alias(self, name: str) -> "GraphDefinition":
        """This graph under another name in a body: its ops become `name.op`."""
        return self._copy(name, self._hooks)

    def with_hooks(self, hook_defs: Any) -> "GraphDefinition":
        """This graph with hooks for every node of its call in a body:
        ``twice.with_hooks({alarm})(x)``."""
        return self._copy(self._alias, joined(self._hooks, hook_list(f"graph `{self.name}`: with_hooks", hook_defs)))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        composition = Composition.current
        if composition is None:
            raise DefinitionError(
                f"graph `{self.name}` is called in a @job or @graph body; make it a job with .to_job()"
            )
        if len(args) > len(self.input_names):
            raise DefinitionError(f"graph `{self.name}` takes {len(self.input_names)} inputs, got {len(args)}")
        bound: Dict[str, Any] = dict(zip(self.input_names, args))
        for key, value in kwargs.items():
            if key not in self.input_names:
                raise DefinitionError(f"graph `{self.name}` has no input `{key}`")
            bound[key] = value
        missing = [n for n in self.input_names if n not in bound]
        if missing:
            raise DefinitionError(f"graph `{self.name}`: input `{missing[0]}` is not connected")
        prefix = composition.unique(self._alias or self.name, self._alias is not None)
        composition.graphs.append(prefix)
        outer, outer_hooks = composition.prefix, composition.hooks
        composition.prefix = prefix.split(".")
        composition.hooks = joined(outer_hooks, self._hooks)
        try:
            result = self.fn(**bound)
        finally:
            composition.prefix, composition.hooks = outer, outer_hooks
        return self._outputs(result)

    def _outputs(self, result: Any) -> Any:
        if isinstance(result, Mapping):
            names = list(self.out) or list(result)
            unknown = [k for k in result if k not in names]
            if unknown:
                raise DefinitionError(f"graph `{self.name}` returns output `{unknown[0]}`, which it does not declare")
            return OutputHandles.of({n: result[n] for n in names if n in result})
        if result is None or isinstance(result, (OutputHandle, OutputHandles)):
            return result
        raise DefinitionError(
            f"graph `{self.name}` returns {type(result).__name__}: return an op's output, or a dict of them by name"
        )

    def to_job(
        self,
        name: Optional[str] = None,
        description: Optional[str] = None,
        tags: Optional[Mapping[str, Any]] = None,
        executor_def: Any = None,
        hooks: Any = None,
        **dagster_only: Any,
    ) -> JobDefinition:
        """A job of this graph (Dagster's ``GraphDefinition.to_job``): its ops are named as
        in the graph's body, with no prefix; ``hooks`` are the job's (with the graph's own,
        from ``with_hooks``)."""
        reject_unknown("to_job", dagster_only)
        if self.input_names:
            raise DefinitionError(
                f"graph `{self.name}` has inputs ({', '.join(self.input_names)}); a job made of it "
                "must have none: call it in a @job body that feeds them"
            )
        return JobDefinition(
            self.fn,
            name=name or self.name,
            description=description if description is not None else self.description,
            tags=with_executor("to_job", tags, executor_def),
            hooks=joined(self._hooks, hook_list("to_job", hooks)),
        )

    def __repr__(self) -> str:
        return f"<graph {self.name}>"


def graph(
    fn: Optional[Callable[..., Any]] = None,
    *,
    name: Optional[str] = None,
    description: Optional[str] = None,
    out: Optional[Mapping[str, GraphOut]] = None,
    **dagster_only: Any,
) -> Any:
    """Declare a graph: ``@graph`` or ``@graph(name=..., description=..., out=...)``."""
    reject_unknown("@graph", dagster_only)

    def wrap(fn: Callable[..., Any]) -> GraphDefinition:
        return GraphDefinition(fn, name=name, description=description, out=out)

    return wrap(fn) if fn is not None else wrap
