"""Jobs (Dagster's ``@job``): the graph of op calls made by the job's body, recorded
with :mod:`weft.composition`, and the hooks the job gives every node."""

from __future__ import annotations

import copy
import inspect
from typing import Any, Callable, List, Mapping, Optional, cast

from ._args import reject_unknown, string_tags
from .composition import Composition, Node
from .errors import DefinitionError
from .executor import with_executor
from .hook import HookDefinition, hook_list, hook_names, joined
from .op import OpDefinition


class JobDefinition:
    """A job: the graph of op invocations its body makes, recorded when it is declared,
    and its hooks (``hook_defs``), which every node has."""

    def __init__(
        self,
        fn: Callable[[], Any],
        name: Optional[str] = None,
        description: Optional[str] = None,
        tags: Optional[Mapping[str, Any]] = None,
        hooks: Any = None,
    ) -> None:
        self.name = name or fn.__name__
        self.description = description if description is not None else inspect.getdoc(fn)
        self.tags = string_tags(tags)
        self.hook_defs: List[HookDefinition] = hook_list(f"job `{self.name}`", hooks)
        if Composition.current is not None:
            raise DefinitionError(f"job `{self.name}` is declared inside another job's body")
        composition = Composition(self.name)
        Composition.current = composition
        try:
            fn()
        finally:
            Composition.current = None
        self.nodes: List[Node] = composition.nodes

    def ops(self) -> List[OpDefinition]:
        # Only an OpDefinition records a node (composition.py knows it as an Invocable).
        return [cast(OpDefinition, node.op) for node in self.nodes]

    def with_hooks(self, hook_defs: Any) -> "JobDefinition":
        """This job with ``hook_defs`` added to its hooks (Dagster's ``with_hooks``)."""
        added = hook_list(f"job `{self.name}`: with_hooks", hook_defs)
        hooked = copy.copy(self)
        hooked.hook_defs = joined(self.hook_defs, added)
        return hooked

    def node_hooks(self, node: Node) -> List[str]:
        """The hooks of ``node`` as the contract lists them: its own and the job's, by
        name, each once, sorted."""
        return hook_names(joined(node.hooks, self.hook_defs))

    def all_hooks(self) -> List[HookDefinition]:
        """Every hook a node of this job has."""
        return joined(self.hook_defs, *(node.hooks for node in self.nodes))

    def __repr__(self) -> str:
        return f"<job {self.name}>"


def job(
    fn: Optional[Callable[[], Any]] = None,
    *,
    name: Optional[str] = None,
    description: Optional[str] = None,
    tags: Optional[Mapping[str, Any]] = None,
    executor_def: Any = None,
    hooks: Any = None,
    **dagster_only: Any,
) -> Any:
    """Declare a job: ``@job`` or ``@job(description=..., tags=..., executor_def=...,
    hooks={...})``. The body runs once, at definition time; each op call in it adds a
    node. ``hooks`` (``@success_hook`` / ``@failure_hook`` hooks) run after every node's
    steps, inside graphs too."""
    reject_unknown("@job", dagster_only)
    tags = with_executor("@job", tags, executor_def)

    def wrap(fn: Callable[[], Any]) -> JobDefinition:
        return JobDefinition(fn, name=name, description=description, tags=tags, hooks=hooks)

    return wrap(fn) if fn is not None else wrap
