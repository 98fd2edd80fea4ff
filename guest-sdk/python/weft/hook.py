"""Hooks (Dagster's ``@success_hook`` and ``@failure_hook``): functions the host calls after
a step of a node that names them ends. A success hook runs after a step that succeeded, a
failure hook after one that failed for good (not after an attempt that will be retried);
otherwise the hook is skipped. A hook that fails is reported and fails nothing.

A job gives its hooks to every node (``@job(hooks={h})``, ``graph.to_job(hooks=...)``,
``h(job)``, ``job.with_hooks({h})``); in a job body ``op.with_hooks({h})(...)`` gives them
to one invocation and ``graph.with_hooks({h})(...)`` to every node of one call of a graph.
A node lists its hooks by name, each once, sorted: the rule of every Weft SDK, so that
their definitions compare equal.

This module sits below :mod:`weft.composition` and :mod:`weft.job`, which record hooks;
only a hook applied to a job or graph (``@my_hook`` over ``@job``) imports them, when called.
"""

from __future__ import annotations

import inspect
from typing import AbstractSet, Any, Callable, Iterable, List, Mapping, Optional

from .context import Resources, get_logger
from .errors import DefinitionError

SUCCESS = "success"
FAILURE = "failure"

# Dagster's names for a hook function's first parameter (`get_valid_name_permutations`).
_CONTEXT_NAMES = ("context", "_context", "context_", "_")


class HookDefinition:
    """A hook: its name, when it runs (``on``: ``"success"`` or ``"failure"``) and its
    function, which takes the :class:`HookContext`. Made by :func:`success_hook` and
    :func:`failure_hook`.

    Called with a context (``my_hook(build_hook_context(...))``) it runs the function, as
    in Dagster's unit tests; called with a job or graph it returns that job or graph with
    this hook added (``@my_hook`` over ``@job``).
    """

    def __init__(
        self,
        *,
        name: str,
        on: str,
        decorated_fn: Callable[[Any], Any],
        required_resource_keys: Optional[AbstractSet[str]] = None,
        description: Optional[str] = None,
    ) -> None:
        if on not in (SUCCESS, FAILURE):
            raise DefinitionError(f"hook `{name}`: on is {SUCCESS!r} or {FAILURE!r}, not {on!r}")
        self.name = name
        self.on = on
        self.decorated_fn = decorated_fn
        self.hook_fn = decorated_fn
        # Accepted and ignored, as for ops: every resource the host sets is on
        # `context.resources`.
        self.required_resource_keys = frozenset(required_resource_keys or ())
        self.description = description
        self.__doc__ = decorated_fn.__doc__
        self.__wrapped__ = decorated_fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and not isinstance(args[0], HookContext):
            from .asset import AssetsDefinition  # imported here: job and graph import this module
            from .graph import GraphDefinition
            from .graph_asset import GraphAssetDefinition
            from .job import JobDefinition

            target = args[0]
            if isinstance(target, (JobDefinition, GraphDefinition, GraphAssetDefinition)):
                return target.with_hooks({self})
            if isinstance(target, AssetsDefinition):
                raise DefinitionError(
                    f"hook `{self.name}` on an asset: Weft runs hooks after the steps of a job's nodes "
                    "(@job(hooks=...), op.with_hooks(...)) or of a @graph_asset's ops, not after an asset's step"
                )
            raise DefinitionError(
                f"hook `{self.name}` decorates a @job, @graph or @graph_asset, or is called with a HookContext; "
                f"got {target!r}"
            )
        if len(args) + len(kwargs) != 1:
            raise DefinitionError(
                f"hook `{self.name}` takes one argument, the context; {len(args) + len(kwargs)} were given"
            )
        context = args[0] if args else next(iter(kwargs.values()))
        if not isinstance(context, HookContext):
            raise DefinitionError(f"hook `{self.name}` takes a HookContext (build_hook_context()), not {context!r}")
        return self.decorated_fn(context.for_hook(self))

    def __repr__(self) -> str:
        return f"<{self.on} hook {self.name}>"


class _Named:
    """An object with a ``name`` (``context.op.definition``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<op {self.name}>"


class HookOp:
    """The node a hook runs after (Dagster's ``context.op``): ``name`` is the node's name
    (its alias, without the graphs it is in, as Dagster's ``Node.name``), and
    ``definition.name`` the op's."""

    def __init__(self, name: str, op_name: str) -> None:
        self.name = name
        self.definition = _Named(op_name)

    def __repr__(self) -> str:
        return f"<node {self.name} ({self.definition.name})>"


UNSUPPORTED = "Weft does not support it; a hook is told run_id, job_name, step_key, op and op_exception"


class HookContext:
    """What a hook knows (Dagster's ``HookContext``): the run, job and step that ended,
    the node (``op``), why it failed (``op_exception``: ``None`` after a success; after a
    failure a :class:`weft.Failure` whose ``str()`` is the step's error as the host reports
    it), and ``log`` and ``resources`` as an op's context has them.

    Dagster's ``op_config``, ``op_output_values``, ``op_output_metadata``, ``instance``
    and ``step`` raise ``NotImplementedError``: the host does not give hooks those.
    """

    def __init__(
        self,
        *,
        run_id: str = "test",
        job_name: str = "test",
        step_key: str = "test",
        op_name: Optional[str] = None,
        op_exception: Optional[BaseException] = None,
        resources: Optional[Mapping[str, Any]] = None,
        hook_def: Optional[HookDefinition] = None,
    ) -> None:
        self.run_id = run_id
        self.job_name = job_name
        self.step_key = step_key
        node = step_key.rsplit(".", 1)[-1]
        self.op = HookOp(node, op_name if op_name is not None else node)
        self.op_exception = op_exception
        self.log = get_logger()
        self._defaults = dict(resources or {})
        self.resources = Resources(self._defaults)
        self._hook_def = hook_def

    def for_hook(self, hook_def: HookDefinition) -> "HookContext":
        """This context, told which hook it is for."""
        if self._hook_def is hook_def:
            return self
        return HookContext(
            run_id=self.run_id,
            job_name=self.job_name,
            step_key=self.step_key,
            op_name=self.op.definition.name,
            op_exception=self.op_exception,
            resources=self._defaults,
            hook_def=hook_def,
        )

    @property
    def hook_def(self) -> HookDefinition:
        if self._hook_def is None:
            raise AttributeError("this HookContext is not given to a hook yet")
        return self._hook_def

    @property
    def required_resource_keys(self) -> AbstractSet[str]:
        return self._hook_def.required_resource_keys if self._hook_def is not None else frozenset()

    @property
    def op_config(self) -> Any:
        raise NotImplementedError(f"HookContext.op_config: {UNSUPPORTED}")

    @property
    def op_output_values(self) -> Any:
        raise NotImplementedError(f"HookContext.op_output_values: {UNSUPPORTED}")

    @property
    def op_output_metadata(self) -> Any:
        raise NotImplementedError(f"HookContext.op_output_metadata: {UNSUPPORTED}")

    @property
    def instance(self) -> Any:
        raise NotImplementedError(f"HookContext.instance: {UNSUPPORTED}")

    @property
    def step(self) -> Any:
        raise NotImplementedError(f"HookContext.step: {UNSUPPORTED}")


def build_hook_context(
    resources: Optional[Mapping[str, Any]] = None,
    op: Any = None,
    run_id: Optional[str] = None,
    job_name: Optional[str] = None,
    op_exception: Optional[BaseException] = None,
    instance: Any = None,
) -> HookContext:
    """A context to call a hook with in a unit test (Dagster's ``build_hook_context``):
    ``my_hook(build_hook_context(op=my_op, op_exception=ValueError("x")))``. ``op`` is an
    op, or an aliased one (``my_op.alias("a")``); ``instance`` is refused."""
    if instance is not None:
        raise DefinitionError("build_hook_context: Weft does not support instance")
    op_name: Optional[str] = None
    node = "test"
    if op is not None:
        inner = getattr(op, "op", op)  # an Invocation (alias, tags, hooks) holds its op
        op_name = getattr(inner, "name", None)
        if not isinstance(op_name, str):
            raise DefinitionError(f"build_hook_context: op is an op, not {op!r}")
        node = getattr(op, "_alias", None) or op_name
    return HookContext(
        run_id=run_id or "test",
        job_name=job_name or "test",
        step_key=node,
        op_name=op_name,
        op_exception=op_exception,
        resources=resources,
    )


def _check_fn(what: str, fn: Any) -> None:
    if not callable(fn):
        raise DefinitionError(f"{what} decorates a function, not {fn!r}")
    params = list(inspect.signature(fn).parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if not params or params[0].name not in _CONTEXT_NAMES or params[0].kind not in positional:
        raise DefinitionError(
            f"{what}: `{getattr(fn, '__name__', fn)}` must take the hook's context as its first "
            "positional parameter, named `context`"
        )
    extra = [p.name for p in params[1:] if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if extra:
        raise DefinitionError(
            f"{what}: `{fn.__name__}` takes only the context; {', '.join(extra)} would have no value"
        )


def _resource_keys(what: str, keys: Any) -> AbstractSet[str]:
    if keys is None:
        return frozenset()
    if isinstance(keys, (str, bytes, Mapping)) or not isinstance(keys, Iterable):
        raise DefinitionError(f"{what}: required_resource_keys is a set of names, not {keys!r}")
    return frozenset(str(k) for k in keys)


def _decorate(on: str, what: str, fn: Any, name: Any, required_resource_keys: Any) -> Any:
    keys = _resource_keys(what, required_resource_keys)

    def wrap(fn: Callable[[Any], Any]) -> HookDefinition:
        _check_fn(what, fn)
        hook_name = name if isinstance(name, str) and name else fn.__name__
        return HookDefinition(
            name=hook_name,
            on=on,
            decorated_fn=fn,
            required_resource_keys=keys,
            description=inspect.getdoc(fn),
        )

    return wrap(fn) if fn is not None else wrap


def success_hook(
    hook_fn: Optional[Callable[[Any], Any]] = None,
    *,
    name: Optional[str] = None,
    required_resource_keys: Optional[AbstractSet[str]] = None,
) -> Any:
    """Declare a hook run after a step that succeeded: ``@success_hook`` or
    ``@success_hook(name=..., required_resource_keys=...)``. The function takes the
    :class:`HookContext`; what it returns is ignored. ``required_resource_keys`` is
    accepted and ignored (every resource the host sets is on ``context.resources``)."""
    if hook_fn is not None and required_resource_keys is not None:
        raise DefinitionError("@success_hook: a bare @success_hook takes no required_resource_keys")
    return _decorate(SUCCESS, "@success_hook", hook_fn, name, required_resource_keys)


def failure_hook(
    name: Any = None,
    required_resource_keys: Optional[AbstractSet[str]] = None,
) -> Any:
    """Declare a hook run after a step that failed for good (not after an attempt that
    will be retried): ``@failure_hook`` or ``@failure_hook(name=...,
    required_resource_keys=...)``; ``context.op_exception`` says why the step failed."""
    if callable(name):
        if required_resource_keys is not None:
            raise DefinitionError("@failure_hook: a bare @failure_hook takes no required_resource_keys")
        return _decorate(FAILURE, "@failure_hook", name, None, None)
    if name is not None and not isinstance(name, str):
        raise DefinitionError(f"@failure_hook: name is a string, not {name!r}")
    return _decorate(FAILURE, "@failure_hook", None, name, required_resource_keys)


def hook_list(what: str, hooks: Any) -> List[HookDefinition]:
    """``hooks`` (a set of hooks, as Dagster takes them; a list or tuple works too) as a
    list without repeats, or a :class:`DefinitionError` saying what is wrong."""
    if hooks is None:
        return []
    if isinstance(hooks, HookDefinition):
        raise DefinitionError(f"{what}: hooks is a set of hooks ({{{hooks.name}}}), not one hook")
    if isinstance(hooks, (str, bytes, Mapping)) or not isinstance(hooks, Iterable):
        raise DefinitionError(f"{what}: hooks is a set of @success_hook / @failure_hook hooks, not {hooks!r}")
    out: List[HookDefinition] = []
    for hook in hooks:
        if not isinstance(hook, HookDefinition):
            raise DefinitionError(f"{what}: {hook!r} is not a hook; make it one with @success_hook or @failure_hook")
        if hook not in out:
            out.append(hook)
    return out


def joined(*groups: Iterable[HookDefinition]) -> List[HookDefinition]:
    """The hooks of ``groups``, each once, in order."""
    out: List[HookDefinition] = []
    for group in groups:
        out.extend(h for h in group if h not in out)
    return out


def hook_names(hooks: Iterable[HookDefinition]) -> List[str]:
    """A node's hooks as the contract lists them: their names, each once, sorted."""
    return sorted({h.name for h in hooks})
