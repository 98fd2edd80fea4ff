"""Typed metadata (Dagster's ``MetadataValue``): values shown beside an output or a
materialization, ints and floats plotted over an asset's materializations.

A plain value is typed by what it is (``str`` text, ``int``, ``float``, ``bool``, a dict
or list JSON); ``MetadataValue.url(...)``, ``.path``, ``.md``, ``.json``,
``.table_schema`` say the rest.
"""

from __future__ import annotations

import json
import math
from typing import Any, List, Optional, Sequence


class TableColumn:
    """One column of a table schema (Dagster's ``TableColumn``)."""

    def __init__(self, name: str, type: str = "string", description: Optional[str] = None) -> None:
        self.name = name
        self.type = type
        self.description = description


class TableSchema:
    """A table's columns (Dagster's ``TableSchema``)."""

    def __init__(self, columns: Sequence[TableColumn]) -> None:
        self.columns = list(columns)


class MetadataValue:
    """A typed metadata value; build one with the static methods, as in Dagster."""

    def __init__(self, kind: str, value: Any) -> None:
        self.kind = kind
        self.value = value

    def __repr__(self) -> str:
        return f"MetadataValue.{self.kind}({self.value!r})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, MetadataValue) and (other.kind, other.value) == (self.kind, self.value)

    @staticmethod
    def text(value: str) -> "MetadataValue":
        return MetadataValue("text", str(value))

    @staticmethod
    def int(value: int) -> "MetadataValue":
        return MetadataValue("int", int(value))

    @staticmethod
    def float(value: float) -> "MetadataValue":
        return MetadataValue("float", float(value))

    @staticmethod
    def bool(value: bool) -> "MetadataValue":
        return MetadataValue("bool", bool(value))

    @staticmethod
    def json(value: Any) -> "MetadataValue":
        return MetadataValue("json", value)

    @staticmethod
    def url(value: str) -> "MetadataValue":
        return MetadataValue("url", str(value))

    @staticmethod
    def path(value: Any) -> "MetadataValue":
        return MetadataValue("path", str(value))

    @staticmethod
    def md(value: str) -> "MetadataValue":
        return MetadataValue("markdown", str(value))

    @staticmethod
    def table_schema(schema: TableSchema) -> "MetadataValue":
        return MetadataValue("table_schema", schema)


def typed(value: Any) -> MetadataValue:
    """``value`` as a :class:`MetadataValue`, typed by what it is."""
    if isinstance(value, MetadataValue):
        return value
    if isinstance(value, TableSchema):
        return MetadataValue.table_schema(value)
    if isinstance(value, bool):
        return MetadataValue.bool(value)
    if isinstance(value, int):
        return MetadataValue.int(value)
    if isinstance(value, float):
        return MetadataValue.float(value)
    if isinstance(value, str):
        return MetadataValue.text(value)
    if isinstance(value, (dict, list, tuple)) or value is None:
        return MetadataValue.json(value)
    return MetadataValue.text(str(value))


def to_wit(wit: Any, value: Any) -> Any:
    """``value`` as the contract's ``metadata-value``."""
    v = typed(value)
    if v.kind == "int":
        if not -(2**63) <= v.value < 2**63:
            return wit.MetadataValue_Text(str(v.value))
        return wit.MetadataValue_Int(v.value)
    if v.kind == "float":
        if not math.isfinite(v.value):
            return wit.MetadataValue_Text(str(v.value))
        return wit.MetadataValue_Float(v.value)
    if v.kind == "bool":
        return wit.MetadataValue_Bool(v.value)
    if v.kind == "json":
        return wit.MetadataValue_Json(json.dumps(v.value, default=str))
    if v.kind == "table_schema":
        columns: List[Any] = [
            wit.TableColumn(name=c.name, type=c.type, description=c.description) for c in v.value.columns
        ]
        return wit.MetadataValue_TableSchema(columns)
    variant = {"text": "Text", "url": "Url", "path": "Path", "markdown": "Markdown"}[v.kind]
    return getattr(wit, f"MetadataValue_{variant}")(v.value)
