"""Op and asset config as Dagster writes it, turned into the JSON Schema the host enforces.

Three ways to say what config an op takes, all checked by the host against run config
before a run is created (with defaults filled in):

- a ``Config`` class (Dagster's Pythonic config): ``class Scale(Config): factor: int = 2``,
  taken by a parameter annotated with it (``def scale(config: Scale)``);
- a ``config_schema`` of Python types and ``Field``s: ``{"factor": int}``,
  ``{"factor": Field(int, default_value=2)}``, or one type (``config_schema=int``);
- a ``config_schema`` that is already JSON Schema (a dict with ``type``, ``properties``
  or ``$schema``, or its text).
"""

from __future__ import annotations

import json
import typing
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .errors import DefinitionError

_NO_DEFAULT = object()
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}
_SCHEMA_KEYS = ("type", "properties", "$schema", "$ref", "anyOf", "oneOf", "allOf", "enum", "items")


class Field:
    """One config field (Dagster's ``Field``): its type, default and description."""

    def __init__(
        self,
        config: Any = Any,
        default_value: Any = _NO_DEFAULT,
        is_required: Optional[bool] = None,
        description: Optional[str] = None,
    ) -> None:
        self.config = config
        self.default_value = default_value
        self.is_required = is_required if is_required is not None else default_value is _NO_DEFAULT
        self.description = description


class Permissive(dict):
    """A config dict that accepts keys beyond the ones it lists (Dagster's ``Permissive``)."""


class Config:
    """Pythonic config (Dagster's ``Config``): fields are class annotations, defaults are
    class attributes. An instance is built from the step's config and handed to the
    parameter annotated with the class."""

    def __init__(self, **values: Any) -> None:
        hints = _hints(type(self))
        for name in values:
            if name not in hints:
                raise DefinitionError(f"{type(self).__name__} has no field `{name}`")
        for name, annotation in hints.items():
            if name in values:
                value = _build(annotation, values[name])
            elif hasattr(type(self), name):
                value = getattr(type(self), name)
            else:
                raise DefinitionError(f"{type(self).__name__}: no value for `{name}`")
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen, as Dagster's Config is")

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"

    @classmethod
    def json_schema(cls) -> Dict[str, Any]:
        """The class as JSON Schema (an object of its fields, no others)."""
        properties: Dict[str, Any] = {}
        required: List[str] = []
        for name, annotation in _hints(cls).items():
            schema = dict(to_json_schema(annotation))
            if hasattr(cls, name):
                default = getattr(cls, name)
                schema["default"] = default.__dict__ if isinstance(default, Config) else default
            elif not _optional(annotation)[1]:
                required.append(name)
            properties[name] = schema
        out: Dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            out["required"] = required
        return out


def _hints(cls: type) -> Dict[str, Any]:
    try:
        hints = typing.get_type_hints(cls)
    except Exception as error:  # noqa: BLE001 - an unresolvable annotation is the author's to fix
        raise DefinitionError(f"{cls.__name__}: cannot read its fields: {error}")
    return {k: v for k, v in hints.items() if not k.startswith("_") and typing.get_origin(v) is not typing.ClassVar}


def _optional(annotation: Any) -> Tuple[Any, bool]:
    """``(X, True)`` for ``Optional[X]``, else ``(annotation, False)``."""
    if typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def _build(annotation: Any, value: Any) -> Any:
    inner, _ = _optional(annotation)
    if value is not None and isinstance(inner, type) and issubclass(inner, Config):
        return inner(**value)
    return value


def is_config_class(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Config)


def to_json_schema(schema: Any) -> Dict[str, Any]:
    """Any of Dagster's ways to write a config schema, as JSON Schema."""
    if isinstance(schema, Field):
        out = dict(to_json_schema(schema.config))
        if schema.default_value is not _NO_DEFAULT:
            out["default"] = schema.default_value
        if schema.description:
            out["description"] = schema.description
        return out
    if is_config_class(schema):
        return schema.json_schema()
    if schema is Any or schema is None:
        return {}
    if isinstance(schema, type) and schema in _SCALARS:
        return {"type": _SCALARS[schema]}
    inner, optional = _optional(schema)
    if optional:
        return {"anyOf": [to_json_schema(inner), {"type": "null"}]}
    origin = typing.get_origin(schema)
    if schema is list or origin in (list, List):
        args = typing.get_args(schema)
        return {"type": "array", "items": to_json_schema(args[0])} if args else {"type": "array"}
    if schema is dict or origin in (dict, Dict):
        return {"type": "object"}
    if isinstance(schema, list):
        return {"type": "array", "items": to_json_schema(schema[0])} if schema else {"type": "array"}
    if isinstance(schema, Mapping):
        if any(key in schema for key in _SCHEMA_KEYS) and not any(isinstance(v, (type, Field)) for v in schema.values()):
            return dict(schema)
        properties = {str(k): to_json_schema(v) for k, v in schema.items()}
        required = [str(k) for k, v in schema.items() if not (isinstance(v, Field) and not v.is_required)]
        out = {"type": "object", "properties": properties, "additionalProperties": isinstance(schema, Permissive)}
        if required:
            out["required"] = required
        return out
    raise DefinitionError(f"config schema: cannot turn {schema!r} into JSON Schema")


def schema_text(schema: Any) -> Optional[str]:
    """The JSON Schema text of ``schema`` (``None`` when there is none)."""
    if schema is None:
        return None
    if isinstance(schema, str):
        return schema
    return json.dumps(to_json_schema(schema), sort_keys=True)
