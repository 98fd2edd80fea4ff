"""Ops (Dagster's ``@op``), their outputs (``Out``, ``DynamicOut``) and the values they
produce (``Output``, ``DynamicOutput``), retry policies, and what every compute function
shares."""

from __future__ import annotations

import enum
import inspect
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ._args import reject_unknown, string_tags
from .composition import Composition, Invocation
from .config import is_config_class, schema_text
from .context import OpExecutionContext
from .errors import DefinitionError, Failure, MappingKeyError

_CONTEXT_NAMES = ("context", "ctx", "_context")
# What a mapping key may be (Dagster's names: `VALID_NAME_REGEX`); it ends a step key, `op[key]`.
_MAPPING_KEY = re.compile(r"[A-Za-z0-9_]+")
# The context classes' names, for annotations left as strings.
_CONTEXT_TYPES = ("OpExecutionContext", "AssetExecutionContext", "AssetCheckExecutionContext")


class Backoff(enum.Enum):
    """How the delay between retries grows (Dagster's ``Backoff``)."""

    LINEAR = "linear"
    CONSTANT = "constant"
    EXPONENTIAL = "exponential"


class RetryPolicy:
    """Retry a failed step up to ``max_retries`` more times, ``delay`` seconds apart.

    Weft knows constant and exponential backoff; ``Backoff.LINEAR`` counts as constant.
    ``jitter`` is accepted for Dagster compatibility and ignored.
    """

    def __init__(
        self,
        max_retries: int = 1,
        delay: Optional[float] = None,
        backoff: Optional[Backoff] = None,
        jitter: Any = None,
    ) -> None:
        if max_retries < 0:
            raise DefinitionError("RetryPolicy: max_retries must be 0 or more")
        self.max_retries = int(max_retries)
        self.delay = delay
        self.backoff = backoff
        self.jitter = jitter

    @property
    def delay_ms(self) -> int:
        return int(round((self.delay or 0) * 1000))

    @property
    def exponential(self) -> bool:
        return self.backoff == Backoff.EXPONENTIAL


class Output:
    """One of an op's values, with metadata shown beside it (Dagster's ``Output``):
    returned, in a returned tuple, or yielded (``output_name`` says which output)."""

    def __init__(
        self,
        value: Any,
        output_name: str = "result",
        metadata: Optional[Mapping[str, Any]] = None,
        data_version: Any = None,
        tags: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.value = value
        self.output_name = output_name
        self.metadata = dict(metadata or {})


def check_mapping_key(mapping_key: Any) -> str:
    """``mapping_key`` if it may be one (letters, digits and ``_``), else raises
    :class:`MappingKeyError` as Dagster's ``DynamicOutput`` does."""
    if not isinstance(mapping_key, str):
        raise MappingKeyError(f"DynamicOutput: mapping_key is a string, not {mapping_key!r}")
    if not _MAPPING_KEY.fullmatch(mapping_key):
        raise MappingKeyError(
            f'DynamicOutput: mapping_key "{mapping_key}" is not valid: a mapping key is letters, digits and _ '
            "(^[A-Za-z0-9_]+$), as it ends the key of each step mapped over it (op[key])"
        )
    return mapping_key


class DynamicOutput:
    """One value of a dynamic output (Dagster's ``DynamicOutput``), under its own
    ``mapping_key``: yielded, or returned in a list, by an op whose output ``output_name``
    is a :class:`DynamicOut`. Each node mapped over the output runs once per key, as the
    step ``node[key]``. A key is letters, digits and ``_``, unique within the output: a
    bad one raises :class:`weft.DefinitionError` here, a repeated one fails the step."""

    def __init__(
        self,
        value: Any,
        mapping_key: str,
        output_name: str = "result",
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self.mapping_key = check_mapping_key(mapping_key)
        self.value = value
        self.output_name = output_name
        self.metadata = dict(metadata or {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DynamicOutput) and vars(other) == vars(self)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DynamicOutput({self.value!r}, mapping_key={self.mapping_key!r}, output_name={self.output_name!r})"


class Out:
    """A declared output of an op (Dagster's ``Out``): ``@op(out={"a": Out(), "b":
    Out(is_required=False)})``. An optional output the op does not produce skips the
    steps that read it. ``dagster_type``, ``io_manager_key``, ``metadata`` and
    ``code_version`` are accepted and ignored (values cross steps as JSON)."""

    # Whether the op produces it any number of times, each value under a mapping key.
    is_dynamic = False

    def __init__(
        self,
        dagster_type: Any = None,
        description: Optional[str] = None,
        is_required: bool = True,
        io_manager_key: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
        code_version: Optional[str] = None,
    ) -> None:
        self.dagster_type = dagster_type
        self.description = description
        self.is_required = is_required


class DynamicOut(Out):
    """An output the op produces zero or more times, each value a :class:`DynamicOutput`
    under its own mapping key (Dagster's ``DynamicOut``): ``@op(out=DynamicOut())``, or
    beside ``Out``s in a dict. In a job body its handle is mapped over (``.map(fn)``: the
    nodes ``fn`` makes run once per key) or collected (``.collect()``: one input gets every
    value, as a list in the order the keys were produced). Left without values, a required
    one hands an empty list to what collects it; an optional one (``is_required=False``)
    skips it."""

    is_dynamic = True


def _outs(out: Any, what: str) -> Dict[str, Out]:
    """The declared outputs: ``result`` unless ``out`` is a dict of ``Out``s (a
    ``DynamicOut`` is one)."""
    if out is None:
        return {"result": Out()}
    if isinstance(out, Out):
        return {"result": out}
    if isinstance(out, Mapping) and out and all(isinstance(o, Out) for o in out.values()):
        return {str(name): o for name, o in out.items()}
    raise DefinitionError(f"{what}: `out` is an Out or a dict of them, got {out!r}")


def _type_name(annotation: Any) -> Optional[str]:
    if annotation is inspect.Parameter.empty or annotation is inspect.Signature.empty:
        return None
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _is_context(annotation: Any) -> bool:
    if isinstance(annotation, str):  # `from __future__ import annotations`
        return annotation.rsplit(".", 1)[-1] in _CONTEXT_TYPES
    return isinstance(annotation, type) and issubclass(annotation, OpExecutionContext)


class ComputeFn:
    """A compute function's parameters sorted out: context, config and inputs."""

    def __init__(self, fn: Callable[..., Any], what: str) -> None:
        self.fn = fn
        self.what = what
        params = list(inspect.signature(fn).parameters.values())
        self.context_param: Optional[str] = None
        if params and (params[0].name in _CONTEXT_NAMES or _is_context(params[0].annotation)):
            self.context_param = params.pop(0).name
        self.config_param: Optional[str] = None
        # A parameter annotated with a `Config` class gets an instance of it.
        self.config_class: Optional[type] = None
        self.inputs: List[Tuple[str, Optional[str]]] = []
        self.defaults: Dict[str, Any] = {}
        for param in params:
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise DefinitionError(f"{what}: *args and **kwargs cannot be inputs")
            if is_config_class(param.annotation):
                self.config_param = param.name
                self.config_class = param.annotation
                continue
            if param.name == "config":
                self.config_param = param.name
                continue
            self.inputs.append((param.name, _type_name(param.annotation)))
            if param.default is not param.empty:
                self.defaults[param.name] = param.default
        self.output_type = _type_name(inspect.signature(fn).return_annotation)

    @property
    def input_names(self) -> List[str]:
        return [name for name, _ in self.inputs]

    def call(self, context: OpExecutionContext, values: Dict[str, Any]) -> Any:
        kwargs = {}
        for name in self.input_names:
            if name in values:
                kwargs[name] = values[name]
            elif name in self.defaults:
                kwargs[name] = self.defaults[name]
            else:
                raise Failure(f"{self.what}: no value for input `{name}`", allow_retries=False)
        if self.config_param is not None:
            config = context.op_config
            if self.config_class is not None:
                config = self.config_class(**(config or {}))
            kwargs[self.config_param] = config
        if self.context_param is not None:
            return self.fn(context, **kwargs)
        return self.fn(**kwargs)


class OpDefinition:
    """An op: a function whose parameters are its inputs and whose return value is its
    output, ``result`` (or, with ``out={...}``, a tuple of its outputs in order, or the
    ``Output``s it yields; a ``DynamicOut``'s values are the ``DynamicOutput``s it yields, or
    a list of them in its place). Values cross steps as JSON.

    Called inside a ``@job`` body, it adds a node to the job's graph and returns that
    node's output (a tuple of them, with several; a dynamic one to ``.map`` or ``.collect``);
    called anywhere else, it runs the function (handy in unit tests).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        name: Optional[str] = None,
        description: Optional[str] = None,
        tags: Optional[Mapping[str, Any]] = None,
        retry_policy: Optional[RetryPolicy] = None,
        config_schema: Optional[Any] = None,
        out: Any = None,
    ) -> None:
        self.name = name or fn.__name__
        self.compute = ComputeFn(fn, f"op `{self.name}`")
        self.outs = _outs(out, f"op `{self.name}`")
        if config_schema is None and self.compute.config_class is not None:
            config_schema = self.compute.config_class
        schema_text(config_schema)  # a schema that cannot be turned into JSON Schema fails here
        self.description = description if description is not None else inspect.getdoc(fn)
        self.tags = string_tags(tags)
        self.retry_policy = retry_policy
        self.config_schema = config_schema
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    @property
    def input_names(self) -> List[str]:
        return self.compute.input_names

    def alias(self, name: str) -> Invocation:
        """This op under another node name in a job body: ``add_one.alias("add_7")(x)``."""
        return Invocation(self, alias=name)

    def tag(self, tags: Mapping[str, Any]) -> Invocation:
        """This op with node tags in a job body: ``scale.tag({"weft/k8s": ...})(x)``."""
        return Invocation(self, tags=string_tags(tags))

    with_tags = tag

    def with_hooks(self, hook_defs: Any) -> Invocation:
        """This op with hooks of its own in a job body: ``broken.with_hooks({alarm})()``
        (the job's hooks apply too)."""
        return Invocation(self).with_hooks(hook_defs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if Composition.current is not None:
            return Invocation(self)(*args, **kwargs)
        return self.compute.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def op(
    fn: Optional[Callable[..., Any]] = None,
    *,
    name: Optional[str] = None,
    description: Optional[str] = None,
    tags: Optional[Mapping[str, Any]] = None,
    retry_policy: Optional[RetryPolicy] = None,
    config_schema: Optional[Any] = None,
    out: Any = None,
    **dagster_only: Any,
) -> Any:
    """Declare an op: ``@op`` or ``@op(description=..., tags=..., retry_policy=...)``.

    Inputs come from the parameters; the output is ``result`` unless ``out`` declares
    others (``{"a": Out(), "b": Out(is_required=False)}``, or ``DynamicOut()`` for values
    under mapping keys). Config is a ``Config`` class
    taken by a parameter, or ``config_schema`` (Dagster's dict of types and ``Field``s,
    or JSON Schema), enforced by the host. Every resource the host sets is on
    ``context.resources``, so ``required_resource_keys`` and ``code_version`` are accepted
    and ignored; any other Dagster argument (``ins``...) is refused.
    """
    reject_unknown("@op", dagster_only)

    def wrap(fn: Callable[..., Any]) -> OpDefinition:
        return OpDefinition(
            fn,
            name=name,
            description=description,
            tags=tags,
            retry_policy=retry_policy,
            config_schema=config_schema,
            out=out,
        )

    return wrap(fn) if fn is not None else wrap
